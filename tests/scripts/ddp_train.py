"""Trains VPD for a few steps; launched by tests/test_distributed.py under `accelerate launch --num_processes 2`."""

import json
import os
import sys

import torch
from launched import (
    COMMON_CONFIG,
    CRITIQUE,
    divisible_by_three,
    exit_without_teardown,
    gathered_digests,
    model_and_data,
    vpd_metric_names,
)  # fmt: skip
from peft import LoraConfig

from trl_vpd import VPDConfig, VPDTrainer

RANK = int(os.environ.get("RANK", "0"))
# Scenarios where the ranks' data disagree (the E-step must still take its collectives in the same order):
# `feedback_rank0`: only rank 0 has teacher context; `failed_rank1`: every rollout of rank 1 fails (no E-step label
# there); `lengths`: rank 0's feedback is long, rank 1's short (different padded teacher lengths);
# `feedback_rank0_e_without_solutions`: feedback on rank 0 only and `e_step_solutions=False`, so rank 1's rollouts
# have teacher context for the M-step (a sibling's solution) and none for the E-step; `feedback_rank0_e_mixed`: the
# same with `e_step_mixed_contexts=True`, so rank 1's odd rollouts have an E-step context and its even ones none;
# `lengths_detached`: `lengths`
# with `e_step_detach_context=True` (each rank's context cache as long as its own padded teacher prompt);
# `failed_rank1_swapped`: `failed_rank1` with `e_step_swapped_feedback` and critiques that name their prompt, so rank 0
# trains the swapped-feedback term (its critiques swapped for rank 1's) and rank 1, without successes, does not;
# `failed_rank1_defaults`: `failed_rank1` with the teacher's fields at the library's defaults (teacher mode, contexts),
# so a group's critique is shown only where no sibling succeeded, on whichever rank its rollouts landed;
# `failed_rank1_repairs`: `failed_rank1` with teacher repairs, which succeed (the repair call's rows, not a batch of
# 4), while every rollout of rank 0 succeeds: rank 1 generates and scores repairs, rank 0 has none and pads GRPO's
# reward gather with its own rollouts. `trained_rank0`: rank 0's rollouts alternate success and failure and, with self
# pairing and the failures as negatives, every one has an E-loss term, while every rollout of rank 1 fails (no label):
# rank 0's E-step chunks run one teacher pass with gradient each, rank 1's one over a single rollout and one without
# gradient over the rest (each rank writes the passes it took to `passes_rank<N>.json`). `failed_rank1_beta`:
# `failed_rank1` with β > 0 and the model given by its saved folder, so that GRPO keeps a reference model, on which a
# full-weights student's teacher adapter sits. `feedback_rank0_gradratio`: `feedback_rank0` (no teacher context at all
# on rank 1, so no distillation tokens there) with the distillation's coefficient set by the gradient balance, whose
# norms are summed over ranks: both ranks must hold the same running means. `feedback_rank0_gradwindow`: the same,
# calibrated over one micro-batch (window 1), after which no rank reads the norms again (a collective skipped on one
# rank only would hang the other).
SCENARIO = os.environ.get("VPD_DDP_SCENARIO", "")
E_MIXED = SCENARIO == "feedback_rank0_e_mixed"
E_WITHOUT_SOLUTIONS = SCENARIO == "feedback_rank0_e_without_solutions" or E_MIXED
DETACHED = SCENARIO.endswith("_detached")
SWAPPED = SCENARIO.endswith("_swapped")
DEFAULTS = SCENARIO.endswith("_defaults")
REPAIRS = SCENARIO.endswith("_repairs")
BETA = SCENARIO.endswith("_beta")
GRADRATIO = SCENARIO.endswith(("_gradratio", "_gradwindow"))
GRADWINDOW = SCENARIO.endswith("_gradwindow")


def reward(completion_ids, **kwargs):
    if REPAIRS and (RANK == 0 or len(completion_ids) != COMMON_CONFIG["per_device_train_batch_size"]):
        return [1.0 for _ in completion_ids]
    if SCENARIO == "trained_rank0":
        return [float(RANK == 0 and i % 2 == 0) for i in range(len(completion_ids))]
    if SCENARIO.startswith("failed_rank1") and RANK == 1:
        return [0.0 for _ in completion_ids]
    return divisible_by_three(completion_ids)


def feedback(prompts, rewards, **kwargs):
    if SCENARIO.startswith("feedback_rank0") and RANK != 0:
        return [None for _ in rewards]
    texts = [f"{CRITIQUE} ({p[-1]['content']})" if SWAPPED else CRITIQUE for p in prompts]
    if SCENARIO.startswith("lengths") and RANK == 0:
        texts = [" ".join([text] * 12) for text in texts]
    return [None if r > 0 else text for r, text in zip(rewards, texts, strict=True)]


def main(output_dir: str, teacher_mode: str, em_schedule: str = "joint", chunk: str = "") -> None:
    """`teacher_mode="adapter_full"`: a full-weights student with its teacher adapter on a copy of the initial model."""
    tokenizer, model, dataset = model_and_data()
    lora = teacher_mode == "adapter"
    teacher_mode = "adapter" if teacher_mode == "adapter_full" else teacher_mode
    if BETA:  # the same seeded weights on every rank, each saved to its own folder
        model.save_pretrained(f"{output_dir}/initial_rank{RANK}")
        model = f"{output_dir}/initial_rank{RANK}"
    args = VPDConfig(
        **COMMON_CONFIG,
        output_dir=output_dir,
        max_steps=3,
        teacher_mode=None if DEFAULTS else teacher_mode,
        em_schedule=em_schedule,
        e_step_chunk_size=int(chunk) if chunk else None,
        use_sibling_solutions=SCENARIO not in ("feedback_rank0", "feedback_rank0_gradratio", "feedback_rank0_gradwindow"),
        e_step_solutions=None if DEFAULTS else not E_WITHOUT_SOLUTIONS,
        e_step_mixed_contexts=E_MIXED,
        e_step_detach_context=DETACHED,
        e_step_swapped_feedback=1.0 if SWAPPED else 0.0,
        # the critiques beside the demonstrations, which the scenarios vary (`_defaults`: the library's rule)
        feedback_only_without_solution=None if DEFAULTS else False,
        teacher_repairs=2 if REPAIRS else 0,
        e_step_pairing="self" if SCENARIO == "trained_rank0" else "group",
        e_step_negatives=SCENARIO == "trained_rank0",
        gradient_checkpointing=not DETACHED,  # TRL's default, which the detached context's cache cannot take
        beta=0.04 if BETA else 0.0,
        distillation_gradient_ratio=1.0 if GRADRATIO else None,
        distillation_gradient_window=1 if GRADWINDOW else None,
        ddp_timeout=180,  # a collective taken in a different order fails the test in minutes, not half an hour
    )
    peft_config = LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"], task_type="CAUSAL_LM")
    trainer = VPDTrainer(
        model=model,
        reward_funcs=reward,
        args=args,
        train_dataset=dataset,
        processing_class=tokenizer,
        peft_config=peft_config if lora else None,
        feedback_funcs=feedback,
    )

    def teacher_params():
        module = trainer.model if lora else getattr(trainer.teacher, "module", None)
        return {n: p for n, p in (module.named_parameters() if module else []) if "vpd_teacher" in n}

    teacher_before = {n: p.detach().clone() for n, p in teacher_params().items()}
    passes, forward = [], trainer._teacher_forward

    def recorded_forward(model, inputs, grad, key="teacher", with_hidden=False):
        passes.append([grad, inputs[f"{key}_input_ids"].size(0)])
        return forward(model, inputs, grad, key, with_hidden)

    trainer._teacher_forward = recorded_forward
    trainer.train()
    with open(f"{output_dir}/passes_rank{RANK}.json", "w") as f:
        json.dump(passes, f)
    teacher_changed = any(not torch.equal(p, teacher_before[n]) for n, p in teacher_params().items())
    # Every rank must end with identical weights (DDP averages student gradients; the trainer averages the teacher's).
    trained = {**{n: p for n, p in trainer.model.named_parameters() if p.requires_grad}, **teacher_params()}
    digest = {n: float(p.detach().double().sum()) for n, p in trained.items()}
    balance = trainer.distillation_balance
    if balance is not None:  # the running means of the summed norms, the same on every rank
        digest.update(balance_grpo=balance.grpo or 0.0, balance_distill=balance.distill or 0.0)
    ranks, same, _ = gathered_digests(trainer, digest)
    if trainer.accelerator.is_main_process:
        result = {"ranks": ranks, "identical": same, "teacher_changed": teacher_changed,
                  "metrics": vpd_metric_names(trainer), "teacher_mode": trainer.args.teacher_mode,
                  "feedback_only_without_solution": trainer.args.feedback_only_without_solution,
                  "teacher_on_grpo_reference": getattr(trainer.teacher, "on_grpo_reference", False),
                  "balance": None if balance is None else [balance.grpo, balance.distill],
                  "balance_calibrated": balance is not None and balance.calibrated}
        with open(f"{output_dir}/ddp_result.json", "w") as f:
            json.dump(result, f)
    trainer.accelerator.wait_for_everyone()
    trainer.accelerator.end_training()


if __name__ == "__main__":
    torch.set_num_threads(1)
    main(*sys.argv[1:])
    exit_without_teardown()
