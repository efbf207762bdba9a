"""Measuring the teacher itself: how often it succeeds when it *generates* with feedback on the student's attempt.

A passive teacher (SDPO) plateaus at what the base model can do with feedback in context; VPD's E-step is meant to
raise it. This module makes that visible on held-out prompts, as a callback that logs under `vpd/teacher_eval/`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial

import torch
from transformers import TrainerCallback

from .feedback import call_feedback_funcs
from .teacher_context import combine_feedback
from .utils import decoded_completions


def evaluate_teacher(trainer, rows: Sequence[dict], reward_func: Callable, max_new_tokens: int | None = None) -> dict:
    """Greedy student attempts on `rows`, their feedback (trainer's feedback column and functions, no siblings: a
    sibling would hand the teacher the answer), then greedy teacher generations from the feedback context.

    Returns success rates (reward ≥ `success_reward_threshold`): the student's, the teacher's on every prompt that got
    feedback, the teacher's repair rate on the prompts the student failed, the same with misleading feedback (each
    prompt given another prompt's feedback), and their difference, the *feedback specificity*: how much of the repair
    comes from reading this attempt's feedback rather than from a feedback-shaped prompt. (The learning benchmark's
    *follow rate* is the repair with the real feedback minus the repair in the teacher template without any.)
    """
    _check_single_turn(trainer)
    args = trainer.args
    rows = list(rows)
    prompts = [row["prompt"] for row in rows]
    columns = {k: [row[k] for row in rows] for k in rows[0] if k != "prompt"}
    max_new_tokens = max_new_tokens or args.max_completion_length
    model = trainer.accelerator.unwrap_model(trainer.model)
    was_training = model.training
    model.eval()
    batch_environments = getattr(trainer, "_batch_environments", None)
    if getattr(trainer, "environment_factories", None) is not None:  # GRPO renders prompts per row's environment
        trainer._batch_environments = [row.get("environment") if trainer._multi_environment else None for row in rows]
    try:
        completions, ids = _generate(trainer, model, trainer._tokenize_prompts(prompts)[0], prompts, max_new_tokens)
        rewards = _rewards(reward_func, prompts, completions, ids, columns)
        sources = [columns[args.feedback_column]] if args.feedback_column else []
        if trainer.feedback_funcs:
            kwargs = {**columns, "trainer_state": trainer.state, "rewards": rewards}
            sources += call_feedback_funcs(trainer.feedback_funcs, prompts, completions, ids, kwargs)
        feedback, _ = combine_feedback(sources, len(prompts))
        build = partial(trainer.context_builder.build, prompts, completions, rewards, offset=0, group_size=1,
                        use_siblings=False)
        contexts, misleading = build(feedback=feedback), build(feedback=_rotated(feedback))
        teacher_rewards, misled_rewards = (
            _teacher_rewards(trainer, model, c.prompt_ids, prompts, max_new_tokens, reward_func, columns)
            for c in (contexts, misleading)
        )
    finally:
        model.train(was_training)
        trainer._batch_environments = batch_environments

    threshold = args.success_reward_threshold
    student_ok = [r >= threshold for r in rewards]
    teacher_ok = [r >= threshold for r in teacher_rewards]
    misled_ok = [r >= threshold for r in misled_rewards]
    with_context = [i for i, c in enumerate(contexts.has_context) if c]
    failed = [i for i in with_context if not student_ok[i]]
    repair, repair_misled = _rate(teacher_ok, failed), _rate(misled_ok, failed)
    return {
        "vpd/teacher_eval/student_success": _rate(student_ok, range(len(rows))),
        "vpd/teacher_eval/teacher_success": _rate(teacher_ok, with_context),
        "vpd/teacher_eval/teacher_repair": repair,
        "vpd/teacher_eval/teacher_repair_misleading": repair_misled,
        "vpd/teacher_eval/feedback_specificity": repair - repair_misled,
        "vpd/teacher_eval/feedback_coverage": len(with_context) / len(rows),
    }


def _check_single_turn(trainer) -> None:
    """The measurement generates one greedy turn per prompt; tool-calling rollouts (`tools`, or an `environment_factory`
    whose environments expose tools) are multi-turn episodes it does not run, so it refuses them instead of scoring a
    truncated first turn. An environment without tools (it only supplies prompts) is measured like a dataset."""
    if getattr(trainer, "tools", None):
        raise ValueError(
            "evaluate_teacher / TeacherEvalCallback generate one turn without tools, but this trainer's rollouts call "
            "tools (`tools` or `environment_factory`). Measure the teacher on a tool-free version of the task, or "
            "follow `vpd/teacher_reward_pos` - `vpd/teacher_reward_neg` in the training logs."
        )


def _teacher_rewards(trainer, model, prompt_ids, prompts, max_new_tokens, reward_func, columns) -> list[float]:
    with trainer.teacher.activate(model) as teacher_model:
        completions, ids = _generate(trainer, teacher_model, prompt_ids, prompts, max_new_tokens)
    return _rewards(reward_func, prompts, completions, ids, columns)


def _rotated(feedback: list[str | None]) -> list[str | None]:
    """Each prompt's feedback replaced by the next prompt's that has one (cyclically): feedback of the right form that
    says nothing true about this attempt."""
    given = [i for i, f in enumerate(feedback) if f is not None]
    out = list(feedback)
    for k, i in enumerate(given):
        out[i] = feedback[given[(k + 1) % len(given)]]
    return out


class TeacherEvalCallback(TrainerCallback):
    """Runs `evaluate_teacher` every `eval_steps` optimizer steps (and at step 0) on up to `num_prompts` rows of
    `dataset`; the numbers join the trainer's next log line."""

    def __init__(self, trainer, dataset, reward_func: Callable, eval_steps: int = 10, num_prompts: int = 32):
        _check_single_turn(trainer)
        self.trainer = trainer
        self.rows = [dataset[i] for i in range(min(num_prompts, len(dataset)))]
        self.reward_func = reward_func
        self.eval_steps = eval_steps
        self.history: list[dict] = []

    def on_train_begin(self, args, state, control, **kwargs):
        self._run(state.global_step)

    def on_step_end(self, args, state, control, **kwargs):
        if state.global_step % self.eval_steps == 0:
            self._run(state.global_step)

    def _run(self, step: int) -> None:
        metrics = evaluate_teacher(self.trainer, self.rows, self.reward_func)
        self.history.append({"step": step, **metrics})
        for key, value in metrics.items():
            self.trainer._metrics["train"][key].append(value)


@torch.no_grad()
def _generate(trainer, model, prompt_ids: list[list[int]], prompts: list, max_new_tokens: int):
    """Greedy completions as TRL formats them (text, or an assistant message for chat prompts) and their ids."""
    from trl.trainer.utils import pad

    device = trainer.accelerator.device
    tokenizer = trainer._tokenizer
    ids = pad([torch.tensor(p, device=device) for p in prompt_ids], padding_value=tokenizer.pad_token_id, padding_side="left")
    mask = pad([torch.ones(len(p), dtype=torch.long, device=device) for p in prompt_ids], padding_side="left")
    output = model.generate(
        input_ids=ids,
        attention_mask=mask,
        max_new_tokens=max_new_tokens,
        do_sample=False,
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=trainer.eos_token_ids,
    )
    completion_ids = []
    for row in output[:, ids.size(1) :].tolist():
        cut = next((k for k, t in enumerate(row) if t in trainer.eos_token_ids), len(row))
        completion_ids.append(row[:cut])
    return decoded_completions(tokenizer, completion_ids, prompts[0]), completion_ids


def _rewards(reward_func, prompts, completions, completion_ids, columns) -> list[float]:
    values = reward_func(prompts=prompts, completions=completions, completion_ids=completion_ids, **columns)
    return [float("nan") if v is None else float(v) for v in values]


def _rate(ok: list[bool], indices) -> float:
    indices = list(indices)
    return sum(ok[i] for i in indices) / len(indices) if indices else float("nan")
