"""A second benchmark task family, `lookup`: read one key's value out of a small table.

    question: "table: m47 q81 z52. value of q"      answer: "81"

Why this family, next to the letter-string one (`task.py`), for issue 13 ("make the E-step matter"):

* **Failures are far from the answer.** Within a problem all values have different first digits and different second
  digits, so the usual wrong answer, another key's value, shares no token position with the correct one. The
  letters family's failures are near-misses (most tokens right), where pushing a failure's sequence likelihood down
  also pushes down the correct tokens it shares; here a negative does not collide with the positive.
* **The feedback is informative beyond the 0/1 reward:** "You answered 52. The right value is 81." (what a math
  verifier says when it reveals the reference answer). A teacher that reads it can copy the answer.
* **...but not usable zero-shot.** This family's pretraining (`PRETRAIN`) has *no* example in the teacher template at
  all (`feedback_fraction=0`, `solution_fraction=0`): the pretrained model has never seen a feedback sentence nor been
  taught to copy an answer shown in the prompt, so the digits after "The right value is" are just digits to it (the
  teacher prompt's question still comes first, so without feedback the teacher answers about as the student does).
  Measured (`results/pilot_lookup.md`, a pilot): the pretrained teacher still gains a little from the feedback
  zero-shot (fix 0.19 with vs 0.05 without, follow rate +0.13: generic copying of digits seen in the prompt), far
  below what copying the named value would give (≈ 1.0); with 10 % shown-solution examples in pretraining it gained
  more (+0.19), hence none. Reading feedback reliably must be learned by the E-step. `learning.evaluate` measures it: the teacher's fix rate with the
  real feedback minus the one with the feedback removed (the follow rate), and the fix rate under misleading feedback
  (another table value named as right).
* **Learnable from outcome-labelled rollouts.** Under `e_step_pairing="group"` one failed rollout's feedback conditions
  the teacher scoring all of its siblings: the successes are exactly the siblings that say the value the feedback
  names, the failures those that do not, so the E-step's ranking *is* the feedback's content. Under "self" pairing a
  failure is scored under its own feedback, which names both the failure ("You answered 52") and the answer: pushing
  the failure down teaches "not the value I am told I answered" (successes carry no feedback; with successes only,
  `e_step_negatives=False` and "self", the E-step never sees a feedback sentence: the hole issue 13 names).
* **Room and signal.** Evaluation and RL tables have 2-4 entries; pretraining also sees one-entry tables (copying a
  value is learned first) and stops at ~35 % greedy held-out success: the model answers with values of the table and
  has only begun to pick the right key, so about a third of a group succeeds. Completions are 2 digits and an end token.
"""

from __future__ import annotations

import random
import re

from . import task
from .task import text_of, to_dataset  # noqa: F401  (the family interface: the same dataset layout and completion text)

NAME = "lookup"
KEYS = "bcdfghjkmnpqrstvwxz"  # single letters; vowels left out so that no key and digit form a word-like token
DIGITS = "123456789"  # no leading zero; second digits also 1-9 for symmetry
MIN_ENTRIES, MAX_ENTRIES = 2, 4  # evaluation and RL problems
PRETRAIN_MIN_ENTRIES = 1  # pretraining also sees one-entry tables: copying a value is learned first (a curriculum)

# Pretraining overrides for this family (on top of a size's `pretrain` settings in `benchmarks/learning.py`): nothing
# in the teacher template (no feedback, no shown solution), and no teacher-fix target (a target a model that never saw
# feedback cannot reach would only stall pretraining). Key lookup is learned slowly (an induction-like copy): the
# size's 800-step cap stopped it at 0.24 success, where no RL method learned; at 4000 it reaches 0.35 in ~1400 steps.
PRETRAIN = {"feedback_fraction": 0.0, "solution_fraction": 0.0, "target_teacher_fix_rate": 0.0,
            "target_student_accuracy": 0.35, "max_steps": 4000}


def make_problem(rng: random.Random, min_entries: int = MIN_ENTRIES, max_entries: int = MAX_ENTRIES) -> dict:
    n = rng.randint(min_entries, max_entries)
    keys = rng.sample(KEYS, n)
    firsts, seconds = rng.sample(DIGITS, n), rng.sample(DIGITS, n)
    values = [a + b for a, b in zip(firsts, seconds)]
    target = rng.randrange(n)
    table = " ".join(k + v for k, v in zip(keys, values))
    return {"question": f"table: {table}. value of {keys[target]}", "answer": values[target]}


def make_pretrain_problems(n: int, seed: int, exclude: set[str] | None = None) -> list[dict]:
    """The SFT problems (`tinylm.pretrain`): tables of 1 to `MAX_ENTRIES` entries."""
    return make_problems(n, seed, exclude, min_entries=PRETRAIN_MIN_ENTRIES)


def make_problems(n: int, seed: int, exclude: set[str] | None = None, **kwargs) -> list[dict]:
    """`n` distinct problems (none of whose question is in `exclude`)."""
    return task.make_problems(n, seed, exclude, make=make_problem, **kwargs)


def table_values(question: str) -> list[str]:
    """The values of the table in `question`, in order."""
    return re.findall(r"\b[a-z](\d\d)\b", question.split(".")[0])


def parse(text: str) -> str:
    return "".join(text.split())


def is_correct(completion: str, answer: str) -> bool:
    return parse(completion) == parse(answer)


def diagnose(completion: str, answer: str) -> str | None:
    """The verifier's feedback on a wrong answer (None when correct): what was answered, and the right value."""
    got, want = parse(completion), parse(answer)
    if got == want:
        return None
    return f"You answered {got or 'nothing'}. The right value is {want}."


def corrupt(answer: str, rng: random.Random, question: str | None = None) -> str:
    """A plausible wrong answer: another value of the table when the question is given (the typical failure), else a
    random two-digit number that shares no digit position with the answer."""
    others = table_values(question) if question else []
    others = [v for v in others if v[0] != answer[0] and v[1] != answer[1]]
    if others:
        return rng.choice(others)
    return rng.choice([d for d in DIGITS if d != answer[0]]) + rng.choice([d for d in DIGITS if d != answer[1]])


def tokenizer_corpus() -> list[str]:
    """Text the benchmark tokenizer's BPE merges are learned from (besides the templates)."""
    problems = make_problems(300, seed=12345)
    corpus = [p["question"] + " " + p["answer"] for p in problems]
    rng = random.Random(0)
    corpus += [diagnose(corrupt(p["answer"], rng, p["question"]), p["answer"]) for p in problems]
    return corpus


# ---- TRL-signature reward and feedback functions (dataset column `answer`)


def correctness_reward(completions, answer, **kwargs) -> list[float]:
    return [float(is_correct(text_of(c), a)) for c, a in zip(completions, answer, strict=True)]


def verifier_feedback(completions, answer, rewards=None, **kwargs) -> list[str | None]:
    return [diagnose(text_of(c), a) for c, a in zip(completions, answer, strict=True)]


def decoy(problem: dict, rng: random.Random) -> str:
    """A wrong answer to `problem` (another value of its table), for misleading feedback."""
    return corrupt(problem["answer"], rng, problem["question"])
