"""GPU-only check (run by hand on a CUDA machine, not by pytest): the teacher adapter trains under fp16 mixed precision
with a GradScaler, its gradients unscaled by the trainer, and stays finite.

    python tests/gpu/check_fp16_adapter.py
"""

import os
import tempfile

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import torch
from datasets import Dataset
from peft import LoraConfig

from trl_vpd import VPDConfig, VPDTrainer
from trl_vpd.tiny import build_tiny_model, build_tiny_tokenizer


def main() -> None:
    assert torch.cuda.is_available(), "needs a GPU"
    tokenizer = build_tiny_tokenizer()
    model = build_tiny_model(tokenizer, hidden_size=256, num_layers=4, intermediate_size=512)
    args = VPDConfig(
        output_dir=tempfile.mkdtemp(), fp16=True, bf16=False, per_device_train_batch_size=8, num_generations=8,
        max_completion_length=16, max_steps=4, learning_rate=1e-3, report_to="none", save_strategy="no",
        logging_steps=1, teacher_mode="adapter", e_step_every=1,
    )  # fmt: skip
    trainer = VPDTrainer(
        model=model,
        reward_funcs=lambda completion_ids, **kw: [float(sum(c) % 2) for c in completion_ids],
        args=args,
        train_dataset=Dataset.from_dict({"prompt": [f"Say {i}" for i in range(32)]}),
        processing_class=tokenizer,
        peft_config=LoraConfig(r=8, lora_alpha=16, target_modules=["q_proj", "v_proj"], task_type="CAUSAL_LM"),
        feedback_funcs=lambda rewards, **kw: [None if r > 0 else "wrong parity" for r in rewards],
    )
    before = {n: p.detach().clone() for n, p in trainer.model.named_parameters() if ".vpd_teacher." in n}
    trainer.train()
    after = {n: p.detach() for n, p in trainer.model.named_parameters() if ".vpd_teacher." in n}
    finite = all(torch.isfinite(p).all().item() for p in after.values())
    moved = max((after[n].float() - before[n].float()).abs().max().item() for n in before)
    scale = trainer.accelerator.scaler.get_scale() if trainer.accelerator.scaler is not None else None
    nonfinite_steps = sum(e.get("vpd/teacher_step_nonfinite", 0) for e in trainer.state.log_history)
    print(f"fp16 adapter check: grad scaler scale={scale} teacher finite={finite} max |Δteacher|={moved:.3e} "
          f"non-finite teacher steps skipped={nonfinite_steps}")  # fmt: skip
    assert finite and moved > 0 and moved < 1.0, "teacher adapter did not train sanely under fp16"


if __name__ == "__main__":
    main()
