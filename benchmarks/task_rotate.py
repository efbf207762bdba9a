"""A held-out task family, `rotate`, built after the defaults were chosen and never used to choose them: new string
operations and a verifier whose feedback the pretrained teacher never saw in this wording.

    question: "rotate: a c b d"    answer: "c b d a"    feedback on "c d b a": "Fix 2 to b, 3 to d."

* **Operations the other families do not have**: rotate left by one, swap neighbouring pairs, shift each letter back
  by one (`letters` and `reveal` reverse, sort and shift forward).
* **Feedback in a new wording**: the pretrained teacher read the letters verifier's sentence in its template
  ("Position 2 should be 'b', not 'd'.", `pretrain_diagnose`); the verifier here says the same kind of thing another
  way ("Fix 2 to b, 3 to d.", or "Need 4 letters." for a wrong length), as a user's own verifier would. It names where
  the attempt is wrong and what belongs there, but not the whole answer (`reveal` does), and the teacher must learn
  to read it.

It is a check of the defaults a new user gets, not a family to tune them on: see the predictions in
`benchmarks/trainers.py` (Z107-Z117, Z119-Z121, Z123).
"""

from __future__ import annotations

import random

from . import task
from .task import (  # noqa: F401  (the family interface: reward, dataset, decoys, parsing as in `letters`)
    correctness_reward,
    corrupt,
    decoy,
    is_correct,
    parse,
    text_of,
    to_dataset,
)

NAME = "rotate"
OPERATIONS = ("rotate", "swap", "back")
# The letters feedback in the teacher template during pretraining; the teacher's repair with this family's own feedback
# is not a pretraining target (it never saw that wording).
PRETRAIN = {"target_teacher_fix_rate": 0.0}
pretrain_diagnose = task.diagnose


def solve(op: str, letters: list[str]) -> list[str]:
    if op == "rotate":
        return letters[1:] + letters[:1]
    if op == "swap":
        out = list(letters)
        for i in range(0, len(out) - 1, 2):
            out[i], out[i + 1] = out[i + 1], out[i]
        return out
    if op == "back":
        return [task.LETTERS[(task.LETTERS.index(c) - 1) % len(task.LETTERS)] for c in letters]
    raise ValueError(op)


def make_problem(rng: random.Random, min_len: int = 3, max_len: int = 6) -> dict:
    op = rng.choice(OPERATIONS)
    letters = [rng.choice(task.LETTERS) for _ in range(rng.randint(min_len, max_len))]
    return {"question": f"{op}: {' '.join(letters)}", "answer": " ".join(solve(op, letters))}


def make_problems(n: int, seed: int, exclude: set[str] | None = None, make=None, **kwargs) -> list[dict]:
    return task.make_problems(n, seed, exclude=exclude, make=make or make_problem, **kwargs)


def diagnose(completion: str, answer: str) -> str | None:
    """The verifier's feedback on a wrong answer (None when correct): the length it needs, else the first wrong
    positions with the letter each needs."""
    got, want = parse(completion), parse(answer)
    if got == want:
        return None
    if len(got) != len(want):
        return f"Need {len(want)} letters."
    wrong = [i for i in range(len(want)) if got[i] != want[i]][: task.MAX_ERRORS_SHOWN]
    return "Fix " + ", ".join(f"{i + 1} to {want[i]}" for i in wrong) + "."


def verifier_feedback(completions, answer, rewards=None, **kwargs) -> list[str | None]:
    return [diagnose(text_of(c), a) for c, a in zip(completions, answer, strict=True)]


def tokenizer_corpus() -> list[str]:
    """Text the benchmark tokenizer's BPE merges are learned from (besides the templates)."""
    problems = make_problems(300, seed=12345)
    corpus = [p["question"] + " " + p["answer"] for p in problems]
    for i, p in enumerate(problems):
        attempt = corrupt(p["answer"], random.Random(i))
        corpus += [diagnose(attempt, p["answer"]), pretrain_diagnose(attempt, p["answer"])]
    return corpus + task.tokenizer_corpus()
