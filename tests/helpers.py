"""Shared builders for the trainer tests: tiny datasets, rewards that vary within a group, configs, trainers and
parameter snapshots."""

from __future__ import annotations

import torch
from datasets import Dataset

from trl_vpd import VPDConfig, VPDTrainer
from trl_vpd.tiny import build_tiny_model

LORA_TARGETS = ["q_proj", "v_proj"]


def make_dataset(conversational: bool = False, n: int = 8, feedback_column: str | None = "hint") -> Dataset:
    """`n` arithmetic prompts (plain strings or one-turn chats) with a hint column and an integer id column."""
    questions = [f"What is {i} + {i + 1}?" for i in range(n)]
    prompts = [[{"role": "user", "content": q}] for q in questions] if conversational else questions
    data = {"prompt": prompts, "idx": list(range(n))}
    if feedback_column is not None:
        data[feedback_column] = [f"the answer is {2 * i + 1}" for i in range(n)]
    return Dataset.from_dict(data)


def id_reward(completion_ids, **kwargs) -> list[float]:
    """A reward in {0, .25, .5, .75, 1} read off the completion token ids: it varies within a group although an
    untrained tiny model never stops early, and about half the rollouts count as successes (threshold 0.5)."""
    return [(sum(ids) % 5) / 4 for ids in completion_ids]


def student_fails_repair_succeeds(completions, **kwargs) -> list[float]:
    """Every rollout of a step's batch of 4 fails; every other call (a teacher-repair scoring, 1-2 rows) succeeds."""
    return [0.0 if len(completions) == 4 else 1.0] * len(completions)


def lora_config():
    from peft import LoraConfig

    return LoraConfig(r=4, lora_alpha=8, lora_dropout=0.0, target_modules=LORA_TARGETS, task_type="CAUSAL_LM")


def make_config(tmp_path, **overrides) -> VPDConfig:
    """Tiny and quick: one group of 4 rollouts of 8 tokens per step, 2 steps, an E-step every step, a large learning
    rate so that every trained weight visibly moves."""
    kwargs = dict(
        output_dir=str(tmp_path),
        per_device_train_batch_size=4,
        num_generations=4,
        max_completion_length=8,
        max_steps=2,
        learning_rate=1e-2,
        report_to="none",
        save_strategy="no",
        logging_steps=1,
        feedback_column="hint",
        success_reward_threshold=0.5,
        e_step_every=1,
        distillation_topk=16,
        seed=0,
    )
    kwargs.update(overrides)
    return VPDConfig(**kwargs)


def make_trainer(
    tmp_path,
    tokenizer,
    *,
    peft: bool = False,
    conversational: bool = False,
    dataset=None,
    model=None,
    reward_funcs=id_reward,
    feedback_funcs=None,
    **config_overrides,
) -> VPDTrainer:
    if "teacher_mode" in config_overrides and "e_step" not in config_overrides:
        config_overrides["e_step"] = config_overrides["teacher_mode"] in ("shared", "adapter")
    args = make_config(tmp_path, **config_overrides)
    return VPDTrainer(
        model=model if model is not None else build_tiny_model(tokenizer),
        reward_funcs=reward_funcs,
        args=args,
        train_dataset=dataset if dataset is not None else make_dataset(conversational),
        processing_class=tokenizer,
        peft_config=lora_config() if peft else None,
        feedback_funcs=feedback_funcs,
    )


def snapshot(named_parameters) -> dict[str, torch.Tensor]:
    return {name: param.detach().clone() for name, param in named_parameters}


def changed(before: dict[str, torch.Tensor], named_parameters) -> set[str]:
    return {name for name, param in named_parameters if not torch.equal(param.detach(), before[name])}


def logged(trainer, key: str) -> list[float]:
    """Every value of metric `key` in the trainer's log history."""
    return [entry[key] for entry in trainer.state.log_history if key in entry]


def optimizer_param_ids(optimizer) -> set[int]:
    return {id(p) for group in optimizer.param_groups for p in group["params"]}


def prepared_batch(trainer):
    """One generation batch through VPD's `_generate_and_score_completions`, as `training_step` would receive it
    (train mode, gradient accumulation 1)."""
    trainer.model.train()
    trainer.current_gradient_accumulation_steps = 1
    batch = next(iter(trainer.get_train_dataloader()))
    return trainer._generate_and_score_completions(batch)
