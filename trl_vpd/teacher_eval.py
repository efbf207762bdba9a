"""Measuring the teacher itself: how often it succeeds when it *generates* with feedback on the student's attempt.

A passive teacher (SDPO) plateaus at what the base model can do with feedback in context; VPD's E-step is meant to
raise it. This module makes that visible on held-out prompts, as a callback that logs under `vpd/teacher_eval/`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial

import torch
from transformers import TrainerCallback

from .feedback import call_feedback_funcs
from .teacher_context import combine_feedback
from .utils import decoded_completions


@dataclass
class StudentAttempts:
    """The student's greedy attempts on the evaluation rows, their rewards and the feedback on them: what the teacher
    is asked to repair. Kept from a first evaluation, they let later ones measure the teacher on the same failures."""

    completions: list
    ids: list[list[int]]
    rewards: list[float]
    feedback: list[str | None]


def student_attempts(
    trainer, rows: Sequence[dict], reward_func: Callable, max_new_tokens: int | None = None
) -> StudentAttempts:
    """The student's greedy attempts on `rows`, their rewards and their feedback (the trainer's feedback column and
    functions)."""
    rows = list(rows)  # read twice below: a generator would be empty the second time
    prompts, columns, max_new_tokens = _rows(trainer, rows, max_new_tokens)
    with _evaluating(trainer, rows) as model:
        completions, ids = _generate(trainer, model, trainer._tokenize_prompts(prompts)[0], prompts, max_new_tokens)
        rewards = _rewards(reward_func, prompts, completions, ids, columns)
        sources = [columns[trainer.args.feedback_column]] if trainer.args.feedback_column else []
        if trainer.feedback_funcs:
            kwargs = {**columns, "trainer_state": trainer.state, "rewards": rewards}
            sources += call_feedback_funcs(trainer.feedback_funcs, prompts, completions, ids, kwargs)
    feedback, _ = combine_feedback(sources, len(prompts))
    return StudentAttempts(completions, ids, rewards, feedback)


def evaluate_teacher(
    trainer,
    rows: Sequence[dict],
    reward_func: Callable,
    max_new_tokens: int | None = None,
    attempts: StudentAttempts | None = None,
    misleading: bool = True,
) -> dict:
    """Greedy teacher generations from the feedback on the student's attempts at `rows` (`student_attempts`, unless
    given), without siblings: a sibling would hand the teacher the answer.

    Returns success rates (reward ≥ `success_reward_threshold`): the student's, the teacher's on every prompt that got
    feedback, the teacher's repair rate on the prompts the student failed, the same with misleading feedback (each
    prompt given another prompt's feedback; skipped with `misleading=False`), and their difference, the *feedback
    specificity*: how much of the repair comes from reading this attempt's feedback rather than from a feedback-shaped
    prompt. (The learning benchmark's *follow rate* is the repair with the real feedback minus the repair in the
    teacher template without any.)
    """
    _check_single_turn(trainer)
    rows = list(rows)
    attempts = attempts or student_attempts(trainer, rows, reward_func, max_new_tokens)
    prompts, columns, max_new_tokens = _rows(trainer, rows, max_new_tokens)
    build = partial(trainer.context_builder.build, prompts, attempts.completions, attempts.rewards, offset=0,
                    group_size=1, use_siblings=False)
    with _evaluating(trainer, rows) as model:  # contexts too: GRPO renders each prompt with its row's environment
        contexts = build(feedback=attempts.feedback)
        misled = build(feedback=_rotated(attempts.feedback)) if misleading else None
        teacher_rewards, misled_rewards = (
            None if c is None else _teacher_rewards(trainer, model, c.prompt_ids, prompts, max_new_tokens, reward_func,
                                                    columns)
            for c in (contexts, misled)
        )

    threshold = trainer.args.success_reward_threshold
    student_ok = [r >= threshold for r in attempts.rewards]
    teacher_ok = [r >= threshold for r in teacher_rewards]
    with_context = [i for i, c in enumerate(contexts.has_context) if c]
    failed = [i for i in with_context if not student_ok[i]]
    repair = _rate(teacher_ok, failed)
    metrics = {
        "vpd/teacher_eval/student_success": _rate(student_ok, range(len(prompts))),
        "vpd/teacher_eval/teacher_success": _rate(teacher_ok, with_context),
        "vpd/teacher_eval/teacher_repair": repair,
        "vpd/teacher_eval/feedback_coverage": len(with_context) / len(prompts),
    }
    if misled_rewards is not None:
        repair_misled = _rate([r >= threshold for r in misled_rewards], failed)
        metrics["vpd/teacher_eval/teacher_repair_misleading"] = repair_misled
        metrics["vpd/teacher_eval/feedback_specificity"] = repair - repair_misled
    return metrics


def _rows(trainer, rows, max_new_tokens):
    """(prompts, the other dataset columns, the generation budget) of the evaluation rows."""
    rows = list(rows)
    columns = {k: [row[k] for row in rows] for k in rows[0] if k != "prompt"}
    return [row["prompt"] for row in rows], columns, max_new_tokens or trainer.args.max_completion_length


@contextmanager
def _evaluating(trainer, rows):
    """The unwrapped model in eval mode, GRPO's per-row environments set for prompt rendering; restored after."""
    model = trainer.accelerator.unwrap_model(trainer.model)
    was_training = model.training
    model.eval()
    batch_environments = getattr(trainer, "_batch_environments", None)
    if getattr(trainer, "environment_factories", None) is not None:  # GRPO renders prompts per row's environment
        trainer._batch_environments = [row.get("environment") if trainer._multi_environment else None for row in rows]
    try:
        yield model
    finally:
        model.train(was_training)
        trainer._batch_environments = batch_environments


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
    `dataset`; the numbers join the trainer's next log line.

    The repair rate reads the current student's failures, which grow harder as it learns, so a teacher that reads
    better can still show a flat rate. With `initial_attempts=True` the teacher is also read on the first evaluation's
    failures at every evaluation, the same set throughout: `teacher_repair_initial` and `feedback_specificity_initial`
    (its repair there minus its repair with misleading feedback). Read the specificity to know whether the teacher
    reads the feedback: its repair also rises when it only learns to solve in the feedback's template (on the learning
    benchmark's `letters` the repair on such a set rose 0.30 → 0.46 and the repair with misleading feedback 0.26 →
    0.40; on `reveal` 0.14 → 0.23 against 0.00 → 0.02)."""

    def __init__(
        self, trainer, dataset, reward_func: Callable, eval_steps: int = 10, num_prompts: int = 32,
        initial_attempts: bool = True,
    ):  # fmt: skip
        _check_single_turn(trainer)
        self.trainer = trainer
        self.rows = [dataset[i] for i in range(min(num_prompts, len(dataset)))]
        self.reward_func = reward_func
        self.eval_steps = eval_steps
        self.initial_attempts = initial_attempts
        self.initial: StudentAttempts | None = None
        self.history: list[dict] = []

    def on_train_begin(self, args, state, control, **kwargs):
        self._run(state.global_step)

    def on_step_end(self, args, state, control, **kwargs):
        if state.global_step % self.eval_steps == 0:
            self._run(state.global_step)

    def _run(self, step: int) -> None:
        attempts = student_attempts(self.trainer, self.rows, self.reward_func)
        metrics = evaluate_teacher(self.trainer, self.rows, self.reward_func, attempts=attempts)
        if self.initial_attempts:
            if self.initial is None:  # the first evaluation's failures are the fixed set
                self.initial, fixed = attempts, metrics
            else:
                fixed = evaluate_teacher(self.trainer, self.rows, self.reward_func, attempts=self.initial)
            metrics["vpd/teacher_eval/teacher_repair_initial"] = fixed["vpd/teacher_eval/teacher_repair"]
            metrics["vpd/teacher_eval/feedback_specificity_initial"] = fixed["vpd/teacher_eval/feedback_specificity"]
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
