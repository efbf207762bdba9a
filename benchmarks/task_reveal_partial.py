"""`reveal_partial`: the `reveal` problems and answer-revealing verifier, with a model pretrained to read that verifier
only a little — a teacher that starts between `reveal`'s (repairs 4 % of failures: it never saw the sentence) and
`reveal_read`'s (repairs all: it saw it in 70 % of its examples).

Why (issue 13): on `letters` the pretrained teacher already reads its feedback, so the E-step has nothing to teach and
VPD is level with passive distillation; on `reveal` it cannot read it at all and 150 steps of E-step do not teach it;
on the demo the E-step lifts a teacher that reads the grader's sum partly (repair 0.19 → 0.45) but the student's
arithmetic caps every method near 0.6. Here the teacher starts as the demo's does, partly reading feedback that
carries the whole answer, on a task whose students distillation lifts (the letters problems). `REVEAL_SHARE` of the
pretraining's feedback examples carry the revealed answer, the rest the letters verifier's position hints; the share
was chosen, before any RL run, from the pretrained teacher's repair rate alone (aimed at 0.15-0.4, the demo's start).
"""

from __future__ import annotations

import zlib

from . import task
from .task_reveal import (  # noqa: F401  (the family interface: everything as in `reveal`)
    corrupt,
    correctness_reward,
    decoy,
    diagnose,
    is_correct,
    make_problem,
    make_problems,
    parse,
    text_of,
    to_dataset,
    tokenizer_corpus,
    verifier_feedback,
)

NAME = "reveal_partial"
REVEAL_SHARE = 0.05
PRETRAIN = {"solution_fraction": 0.0, "target_teacher_fix_rate": 0.0}
PRETRAIN_DATA = {"reveal_share": REVEAL_SHARE}  # in the pretrained model's cache key


def pretrain_diagnose(completion: str, answer: str) -> str | None:
    """Pretraining's feedback: the revealed answer on `REVEAL_SHARE` of the examples (a fixed hash of the pair, so
    the pretraining data and its cache key stay deterministic), the letters verifier's position hints otherwise."""
    if zlib.crc32(f"{completion}|{answer}".encode()) % 1000 < REVEAL_SHARE * 1000:
        return diagnose(completion, answer)
    return task.diagnose(completion, answer)
