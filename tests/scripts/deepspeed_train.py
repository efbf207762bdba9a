"""Trains VPD for a few steps under DeepSpeed ZeRO on CPU; launched by tests/test_deepspeed.py with
`accelerate launch --config_file <zero config> --num_processes 2` and `DS_ACCELERATOR=cpu`."""

import json
import math
import os
import sys

import torch
from launched import (
    COMMON_CONFIG,
    critique,
    divisible_by_three,
    exit_without_teardown,
    gathered_digests,
    model_and_data,
    vpd_metric_names,
)  # fmt: skip

from trl_vpd import VPDConfig, VPDTrainer
from trl_vpd.trainer import sharded_launch


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


# `VPD_DS_REPAIRS=1`: teacher repairs, with every rollout of rank 0 a success and every rollout of rank 1 a failure whose
# repairs succeed (the repair call's rows, not a batch of 4): only rank 1 generates, both enter ZeRO-3's gathered
# generation and GRPO's reward gather.
REPAIRS = os.environ.get("VPD_DS_REPAIRS") == "1"
# `VPD_DS_FROZEN_REFERENCE=1`: β > 0 and `e_step_reference="frozen"`, so the E-step's reference is GRPO's reference
# model (a ZeRO-3 engine of its own) and KL_E is the exact KL from its hidden states and gathered head.
FROZEN_REFERENCE = os.environ.get("VPD_DS_FROZEN_REFERENCE") == "1"
# `VPD_DS_GRADIENT_RATIO=1`: the distillation's coefficient from the gradient balance (norms at the backbone outputs,
# read before the engine's backward).
GRADIENT_RATIO = os.environ.get("VPD_DS_GRADIENT_RATIO") == "1"
RANK = int(os.environ.get("RANK", "0"))


def repair_reward(completion_ids, **kwargs):
    student_batch = len(completion_ids) == COMMON_CONFIG["per_device_train_batch_size"]
    return [0.0 if RANK == 1 and student_batch else 1.0 for _ in completion_ids]


def main(output_dir: str, teacher_mode: str, distillation_mode: str, ga: str = "1", detach: str = "") -> None:
    tokenizer, model, dataset = model_and_data()
    if FROZEN_REFERENCE:  # GRPO loads its reference model from a path; each rank saves the same seeded weights
        path = os.path.join(output_dir, f"model_rank{RANK}")
        model.save_pretrained(path)
        model = path
    args = VPDConfig(
        **COMMON_CONFIG,
        output_dir=output_dir,
        max_steps=2,
        gradient_accumulation_steps=int(ga),
        teacher_mode=None if teacher_mode == "default" else teacher_mode,  # "default": the trainer resolves it
        distillation_mode=distillation_mode,
        distillation_topk=8,
        e_step=teacher_mode in ("shared", "default"),  # frozen and EMA teachers are passive
        # the E-step's context as a key/value cache (which TRL's default gradient checkpointing would drop)
        **({"e_step_detach_context": True, "gradient_checkpointing": False} if detach else {}),
        teacher_repairs=2 if REPAIRS else 0,
        **({"beta": 0.04, "e_step_reference": "frozen"} if FROZEN_REFERENCE else {}),
        distillation_gradient_ratio=1.0 if GRADIENT_RATIO else None,
    )
    # what the trainer reads, before building anything, to decide whether a full-weights teacher needs a model copy
    sharded = sharded_launch(args)
    trainer = VPDTrainer(
        model=model,
        reward_funcs=repair_reward if REPAIRS else divisible_by_three,
        args=args,
        train_dataset=dataset,
        processing_class=tokenizer,
        feedback_funcs=critique,
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
    ranks, same, rank0_digest = gathered_digests(trainer, digest)
    if trainer.accelerator.is_main_process:
        finite = all(
            math.isfinite(v)
            for entry in trainer.state.log_history
            for k, v in entry.items()
            if k.startswith("vpd/") and isinstance(v, float)
        )
        result = {
            "ranks": ranks,
            "identical": same,
            "changed": changed,
            "teacher_changed": teacher_changed,
            "digest": rank0_digest,
            "metrics": vpd_metric_names(trainer),
            "finite": finite,
            "zero_stage": trainer.accelerator.state.deepspeed_plugin.zero_stage,
            "teacher_mode": trainer.args.teacher_mode,
            "sharded_before_the_trainer": sharded,
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
    exit_without_teardown()
