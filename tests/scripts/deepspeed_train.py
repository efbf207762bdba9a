"""Trains VPD for a few steps under DeepSpeed ZeRO on CPU; launched by tests/test_deepspeed.py with
`accelerate launch --config_file <zero config> --num_processes 2` and `DS_ACCELERATOR=cpu`."""

import json
import math
import os
import sys

import torch
from datasets import Dataset

from trl_vpd import VPDConfig, VPDTrainer
from trl_vpd.tiny import build_tiny_model, build_tiny_tokenizer


def reward(completion_ids, **kwargs):
    return [float(sum(ids) % 3 == 0) for ids in completion_ids]


def feedback(rewards, **kwargs):
    return [None if r > 0 else "Wrong: the token sum must be divisible by 3." for r in rewards]


def _full_parameters(model, trainable_only=True):
    """The parameters of `model` as full tensors (ZeRO-3 holds only a shard per rank)."""
    import deepspeed

    params = [(n, p) for n, p in model.named_parameters() if p.requires_grad or not trainable_only]
    with deepspeed.zero.GatheredParameters([p for _, p in params]):
        return {n: p.detach().clone() for n, p in params}


def _projection(name: str, param: torch.Tensor) -> float:
    """A random projection of `param` (fixed per name): equal across runs only if the weights are, element by element."""
    generator = torch.Generator().manual_seed(sum(name.encode()))
    return float((param.double() * torch.randn(param.shape, generator=generator, dtype=torch.float64)).sum())


def main(output_dir: str, teacher_mode: str, distillation_mode: str, ga: str = "1") -> None:
    tokenizer = build_tiny_tokenizer()
    model = build_tiny_model(tokenizer)
    dataset = Dataset.from_dict({"prompt": [[{"role": "user", "content": f"Say {i}"}] for i in range(16)]})
    args = VPDConfig(
        output_dir=output_dir,
        use_cpu=True,
        bf16=False,
        per_device_train_batch_size=4,
        num_generations=4,
        max_completion_length=6,
        max_steps=2,
        gradient_accumulation_steps=int(ga),
        learning_rate=1e-2,
        report_to="none",
        save_strategy="no",
        logging_steps=1,
        teacher_mode=teacher_mode,
        distillation_mode=distillation_mode,
        distillation_topk=8,
        e_step=teacher_mode == "shared",  # frozen and EMA teachers are passive
        e_step_every=1,
        seed=0,
    )
    trainer = VPDTrainer(
        model=model,
        reward_funcs=reward,
        args=args,
        train_dataset=dataset,
        processing_class=tokenizer,
        feedback_funcs=feedback,
    )
    teacher = getattr(trainer.teacher, "module", None)  # the frozen / EMA full copy, a DeepSpeed engine here
    teacher_before = _full_parameters(teacher, trainable_only=False) if teacher is not None else {}
    before = _full_parameters(trainer.model)
    trainer.train()
    after = _full_parameters(trainer.model)
    teacher_after = _full_parameters(teacher, trainable_only=False) if teacher is not None else {}
    teacher_changed = any(not torch.equal(teacher_after[n], teacher_before[n]) for n in teacher_before)
    changed = sorted(n for n in after if not torch.equal(after[n], before[n]))
    digest = {n: _projection(n, p) for n, p in after.items()}
    gathered = trainer.accelerator.gather_for_metrics([digest], use_gather_object=True)
    if trainer.accelerator.is_main_process:
        same = all(abs(g[n] - gathered[0][n]) < 1e-5 for g in gathered for n in g)
        keys = sorted({k for entry in trainer.state.log_history for k in entry if k.startswith("vpd/")})
        finite = all(
            math.isfinite(v)
            for entry in trainer.state.log_history
            for k, v in entry.items()
            if k.startswith("vpd/") and isinstance(v, float)
        )
        result = {
            "ranks": len(gathered),
            "identical": same,
            "changed": changed,
            "teacher_changed": teacher_changed,
            "digest": gathered[0],
            "metrics": keys,
            "finite": finite,
            "zero_stage": trainer.accelerator.state.deepspeed_plugin.zero_stage,
        }
        with open(f"{output_dir}/deepspeed_result.json", "w") as f:
            json.dump(result, f)
    trainer.accelerator.wait_for_everyone()
    trainer.accelerator.end_training()


if __name__ == "__main__":
    torch.set_num_threads(1)
    import deepspeed.ops

    # DeepSpeed's CPU accelerator JIT-compiles a shared-memory all-reduce kernel on first use (~2.5 min on 2 cores);
    # gloo does the same reductions for a tiny model, so CI skips the build.
    deepspeed.ops.__compatible_ops__["deepspeed_shm_comm"] = False
    main(*sys.argv[1:])
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)  # as in ddp_train.py: skip a teardown that sometimes aborts with gloo on CPU after all work is done
