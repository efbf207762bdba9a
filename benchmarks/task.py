"""A synthetic, feedback-rich task family: transform a short string of letters (reverse it, sort it, shift each letter
by one). The verifier's reward is a bare 0/1, but its language feedback says *where* the answer is wrong and *what*
belongs there ("position 2 should be 'c', not 'f'"): information the scalar reward does not carry, which a
feedback-conditioned teacher can use and GRPO cannot.
"""

from __future__ import annotations

import random

LETTERS = "abcdefgh"
OPERATIONS = ("reverse", "sort", "shift")
MAX_ERRORS_SHOWN = 2


def solve(op: str, letters: list[str]) -> list[str]:
    if op == "reverse":
        return letters[::-1]
    if op == "sort":
        return sorted(letters)
    if op == "shift":
        return [LETTERS[(LETTERS.index(c) + 1) % len(LETTERS)] for c in letters]
    raise ValueError(op)


def make_problem(rng: random.Random, min_len: int = 3, max_len: int = 6) -> dict:
    op = rng.choice(OPERATIONS)
    letters = [rng.choice(LETTERS) for _ in range(rng.randint(min_len, max_len))]
    return {"question": f"{op}: {' '.join(letters)}", "answer": " ".join(solve(op, letters))}


def make_problems(n: int, seed: int, exclude: set[str] | None = None, make=None, **kwargs) -> list[dict]:
    """`n` distinct problems (none of whose question is in `exclude`), drawn by `make(rng, **kwargs)` (default: this
    family's `make_problem`)."""
    make = make or make_problem
    rng = random.Random(seed)
    seen = set(exclude or ())
    out = []
    while len(out) < n:
        p = make(rng, **kwargs)
        if p["question"] not in seen:
            seen.add(p["question"])
            out.append(p)
    return out


def parse(text: str) -> list[str]:
    return text.strip().split()


def is_correct(completion: str, answer: str) -> bool:
    return parse(completion) == parse(answer)


def diagnose(completion: str, answer: str) -> str | None:
    """The verifier's feedback on a wrong answer (None when correct): the length, then the first few wrong positions."""
    got, want = parse(completion), parse(answer)
    if got == want:
        return None
    notes = []
    if len(got) != len(want):
        notes.append(f"The answer has {len(want)} letters, not {len(got)}.")
    wrong = [i for i in range(len(want)) if i >= len(got) or got[i] != want[i]]
    for i in wrong[:MAX_ERRORS_SHOWN]:
        have = got[i] if i < len(got) else "nothing"
        notes.append(f"Position {i + 1} should be '{want[i]}', not '{have}'.")
    return " ".join(notes)


def corrupt(answer: str, rng: random.Random) -> str:
    """A plausible wrong attempt (for the feedback examples of the pretraining data)."""
    letters = parse(answer)
    kind = rng.random()
    if kind < 0.15 and len(letters) > 1:
        letters = letters[:-1]
    elif kind < 0.25:
        letters = letters + [rng.choice(LETTERS)]
    else:
        for i in rng.sample(range(len(letters)), k=min(len(letters), rng.randint(1, 2))):
            letters[i] = rng.choice([c for c in LETTERS if c != letters[i]])
    if letters == parse(answer):
        letters = letters[::-1] + ["a"]
    return " ".join(letters)


def text_of(completion) -> str:
    if isinstance(completion, str):
        return completion
    return "".join(m.get("content", "") for m in completion)


# ---- TRL-signature reward and feedback functions (dataset column `answer`)


def correctness_reward(completions, answer, **kwargs) -> list[float]:
    return [float(is_correct(text_of(c), a)) for c, a in zip(completions, answer, strict=True)]


def verifier_feedback(completions, answer, rewards=None, **kwargs) -> list[str | None]:
    return [diagnose(text_of(c), a) for c, a in zip(completions, answer, strict=True)]


def to_dataset(problems: list[dict]):
    from datasets import Dataset

    return Dataset.from_dict(
        {
            "prompt": [[{"role": "user", "content": p["question"]}] for p in problems],
            "answer": [p["answer"] for p in problems],
            # TRL's SDPOTrainer reads feedback from this column; the benchmark's SDPO subclass fills it per rollout.
            "privileged_context": ["" for _ in problems],
        }
    )


# ---- the family interface (`benchmarks/learning.py --family`); `task_lookup.py` and `task_reveal.py` are the others

NAME = "letters"
PRETRAIN: dict = {}  # this family's pretraining is the sizes' own (`benchmarks/learning.py`), unchanged


def decoy(problem: dict, rng: random.Random) -> str:
    """A wrong answer to `problem`, for misleading feedback (`diagnose(attempt, decoy)` points away from the answer)."""
    return corrupt(problem["answer"], rng)


def tokenizer_corpus() -> list[str]:
    """Text the benchmark tokenizer's BPE merges are learned from (besides the templates)."""
    problems = make_problems(300, seed=12345)
    corpus = [p["question"] + " " + p["answer"] for p in problems]
    corpus += [diagnose(corrupt(p["answer"], random.Random(i)), p["answer"]) for i, p in enumerate(problems)]
    return corpus


FAMILIES = ("letters", "lookup", "reveal", "reveal_read", "rotate", "bare")


def family(name: str = "letters"):
    """The task family module `name`: `make_problems`, `is_correct`, `diagnose`, `corrupt`, `decoy`,
    `correctness_reward`, `verifier_feedback`, `to_dataset`, `tokenizer_corpus`, `PRETRAIN`, `NAME`."""
    import importlib
    import sys

    if name not in FAMILIES:
        raise ValueError(f"unknown task family {name!r}; choose from {FAMILIES}")
    return sys.modules[__name__] if name == "letters" else importlib.import_module(f"{__package__}.task_{name}")
