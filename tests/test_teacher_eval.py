"""The teacher evaluation: success rates of the student and of the feedback-conditioned teacher, and group pairing."""

import math

from datasets import Dataset

from trl_vpd import VPDConfig, VPDTrainer
from trl_vpd import teacher_eval
from trl_vpd.teacher_context import group_pairing
from trl_vpd.tiny import build_tiny_model, build_tiny_tokenizer


def test_group_pairing_uses_the_first_failed_rollout_with_context():
    has_context = [True, True, False, True, False, False, True, True]
    rewards = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 1.0, 1.0]
    # group 0: sample 1 failed and has context → all four use it; group 1: only successes have context → self.
    assert group_pairing(has_context, rewards, group_size=4, threshold=1.0) == [1, 1, 1, 1, 4, 5, 6, 7]


def test_group_pairing_ignores_nan_rewards_as_failures_only_when_context():
    assert group_pairing([False, True], [math.nan, math.nan], group_size=2, threshold=1.0) == [1, 1]


def test_evaluate_teacher_counts_student_and_teacher_successes(monkeypatch):
    tokenizer = build_tiny_tokenizer()
    rows = [{"prompt": f"Q{i}", "hint": "use the hint" if i < 3 else ""} for i in range(4)]
    args = VPDConfig(output_dir="unused", report_to="none", feedback_column="hint", per_device_train_batch_size=4,
                     num_generations=4, max_completion_length=4, e_step=True)  # fmt: skip
    trainer = VPDTrainer(
        model=build_tiny_model(tokenizer),
        reward_funcs=lambda completions, **kw: [0.0] * len(completions),
        args=args,
        train_dataset=Dataset.from_list(rows),
        processing_class=tokenizer,
    )
    student_ids = trainer._tokenize_prompts([r["prompt"] for r in rows])[0]

    def fake_generate(trainer_, model, prompt_ids, prompts, max_new_tokens):
        # The student answers only row 3; a teacher that sees feedback (a longer prompt) answers every row.
        texts = ["right" if len(p) > len(student_ids[i]) or i == 3 else "wrong" for i, p in enumerate(prompt_ids)]
        return texts, [[1] for _ in texts]

    monkeypatch.setattr(teacher_eval, "_generate", fake_generate)

    def reward(completions, **kwargs):
        return [1.0 if c == "right" else 0.0 for c in completions]

    metrics = teacher_eval.evaluate_teacher(trainer, rows, reward)
    assert metrics["vpd/teacher_eval/student_success"] == 0.25  # only row 3
    assert metrics["vpd/teacher_eval/feedback_coverage"] == 0.75  # row 3 has empty feedback
    assert metrics["vpd/teacher_eval/teacher_success"] == 1.0
    assert metrics["vpd/teacher_eval/teacher_repair"] == 1.0  # rows 0-2 failed as student, fixed by the teacher


def hinted_trainer(n: int):
    """(tokenizer, n rows "Q<i>" with hint "hint<i>", a VPD trainer reading the hints, the student prompts' ids)."""
    tokenizer = build_tiny_tokenizer()
    rows = [{"prompt": f"Q{i}", "hint": f"hint{i}"} for i in range(n)]
    args = VPDConfig(output_dir="unused", report_to="none", feedback_column="hint", per_device_train_batch_size=n,
                     num_generations=n, max_completion_length=4, e_step=True)  # fmt: skip
    trainer = VPDTrainer(model=build_tiny_model(tokenizer), reward_funcs=lambda completions, **kw: [0.0] * n,
                         args=args, train_dataset=Dataset.from_list(rows), processing_class=tokenizer)  # fmt: skip
    return tokenizer, rows, trainer, trainer._tokenize_prompts([r["prompt"] for r in rows])[0]


def test_feedback_specificity_separates_reading_the_feedback_from_the_teacher_prompt(monkeypatch):
    """A teacher that answers right only when the prompt carries *this* row's hint repairs every failure with the real
    feedback and none with another row's: specificity 1. One that answers right with any hint: specificity 0."""
    tokenizer, rows, trainer, student_ids = hinted_trainer(3)

    def reader(trainer_, model, prompt_ids, prompts, max_new_tokens):
        texts = [tokenizer.decode(p) for p in prompt_ids]
        return ["right" if f"hint{i}" in t.replace(" ", "") else "wrong" for i, t in enumerate(texts)], [[1]] * 3

    def any_hint(trainer_, model, prompt_ids, prompts, max_new_tokens):
        return ["right" if len(p) > len(student_ids[i]) else "wrong" for i, p in enumerate(prompt_ids)], [[1]] * 3

    def reward(completions, **kwargs):
        return [1.0 if c == "right" else 0.0 for c in completions]

    monkeypatch.setattr(teacher_eval, "_generate", reader)
    metrics = teacher_eval.evaluate_teacher(trainer, rows, reward)
    assert metrics["vpd/teacher_eval/teacher_repair"] == 1.0
    assert metrics["vpd/teacher_eval/teacher_repair_misleading"] == 0.0
    assert metrics["vpd/teacher_eval/feedback_specificity"] == 1.0
    monkeypatch.setattr(teacher_eval, "_generate", any_hint)
    metrics = teacher_eval.evaluate_teacher(trainer, iter(rows), reward)  # rows given once, as an iterator
    assert metrics["vpd/teacher_eval/teacher_repair"] == 1.0 and metrics["vpd/teacher_eval/feedback_specificity"] == 0.0


def test_callback_reads_the_teacher_on_the_first_evaluations_failures_too(monkeypatch):
    """The student first fails rows 0-1, later only row 3; the teacher repairs rows 0-1 and never row 3. The repair
    on the current failures falls 1 → 0 although the teacher did not change; on the first evaluation's failures it
    stays 1."""
    tokenizer, rows, trainer, student_ids = hinted_trainer(4)
    phase = {"student_fails": {0, 1}}

    def fake_generate(trainer_, model, prompt_ids, prompts, max_new_tokens):
        if [list(p) for p in prompt_ids] == [list(p) for p in student_ids]:
            return ["wrong" if i in phase["student_fails"] else "right" for i in range(4)], [[1]] * 4
        texts = [tokenizer.decode(p).replace(" ", "") for p in prompt_ids]  # the teacher reads rows 0-1's own hints
        return ["right" if i in (0, 1) and f"hint{i}" in t else "wrong" for i, t in enumerate(texts)], [[1]] * 4

    def reward(completions, **kwargs):
        return [1.0 if c == "right" else 0.0 for c in completions]

    monkeypatch.setattr(teacher_eval, "_generate", fake_generate)
    callback = teacher_eval.TeacherEvalCallback(trainer, Dataset.from_list(rows), reward, eval_steps=1, num_prompts=4)
    callback._run(0)
    phase["student_fails"] = {3}
    callback._run(1)
    first, later = callback.history
    assert first["vpd/teacher_eval/teacher_repair"] == 1.0 and first["vpd/teacher_eval/teacher_repair_initial"] == 1.0
    assert later["vpd/teacher_eval/student_success"] == 0.75
    assert later["vpd/teacher_eval/teacher_repair"] == 0.0  # row 3, which the teacher never repairs
    assert later["vpd/teacher_eval/teacher_repair_initial"] == 1.0  # rows 0-1, as at the start
    # ... by reading their feedback: with another row's it repairs neither
    assert later["vpd/teacher_eval/feedback_specificity_initial"] == 1.0
    assert trainer._metrics["train"]["vpd/teacher_eval/teacher_repair_initial"] == [1.0, 1.0]
    without = teacher_eval.TeacherEvalCallback(trainer, Dataset.from_list(rows), reward, initial_attempts=False)
    without._run(0)
    assert not {"vpd/teacher_eval/teacher_repair_initial", "vpd/teacher_eval/feedback_specificity_initial"} & set(
        without.history[0])
