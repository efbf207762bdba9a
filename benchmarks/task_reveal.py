"""A third benchmark task family, `reveal`: the letters problems (`task.py`), with a verifier that reveals the answer.

    question: "reverse: a c b"      answer: "b c a"      feedback on "b a c": "The right answer is b c a."

Why this family, next to `letters` and `lookup`, for issue 13 ("make the E-step matter"):

* **The student's task is one RL is known to improve here** (the letters problems, on which GRPO gains ~0.1 success in
  60 steps), unlike `lookup`, whose key-to-value reading no method improved at this model size.
* **The feedback carries the whole answer** (what a math verifier says when it shows the reference solution), far
  more than the 0/1 reward, and more than the letters family's "position 2 should be 'b'".
* **...but the pretrained model was never taught to read it**: this family pretrains as `letters` does, with the
  teacher template carrying the *letters* verifier's feedback ("Position 2 should be 'b', not 'x'.",
  `pretrain_diagnose`), but never a revealed answer nor a shown solution (`solution_fraction=0`). The pretrained teacher
  knows its template and reads position hints; the new feedback's "The right answer is ..." is a sentence it never saw
  (a new verifier in a user's environment), so a passive teacher gains only what generic copying gives zero-shot. A
  teacher trained by the E-step can learn to copy the revealed answer, and then hands the student exact token targets
  on its failures. (Pretraining with no teacher template at all left a teacher that solved almost nothing, worse than
  the student: a regime in which no teacher should be distilled.)

What it does *not* test that `lookup` does: its failures are near-misses of the answer (as in `letters`).
"""

from __future__ import annotations

import random

from . import task
from .task import (  # noqa: F401  (the family interface: the letters problems, reward, dataset and decoys)
    corrupt,
    correctness_reward,
    decoy,
    is_correct,
    make_problem,
    make_problems,
    parse,
    text_of,
    to_dataset,
)

NAME = "reveal"
# Pretraining: the letters feedback in the teacher template, no shown solution, and no teacher-fix target (the
# pretraining loop measures it with this family's feedback, which it was never shown).
PRETRAIN = {"solution_fraction": 0.0, "target_teacher_fix_rate": 0.0}
pretrain_diagnose = task.diagnose


def diagnose(completion: str, answer: str) -> str | None:
    """The verifier's feedback on a wrong answer (None when correct): the reference answer itself."""
    if parse(completion) == parse(answer):
        return None
    return f"The right answer is {' '.join(parse(answer))}."


def verifier_feedback(completions, answer, rewards=None, **kwargs) -> list[str | None]:
    return [diagnose(text_of(c), a) for c, a in zip(completions, answer, strict=True)]


def tokenizer_corpus() -> list[str]:
    """Text the benchmark tokenizer's BPE merges are learned from (besides the templates)."""
    problems = task.make_problems(300, seed=12345)
    corpus = [p["question"] + " " + p["answer"] for p in problems]
    corpus += [diagnose(corrupt(p["answer"], random.Random(i)), p["answer"]) for i, p in enumerate(problems)]
    return corpus + task.tokenizer_corpus()
