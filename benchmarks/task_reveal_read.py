"""A control for `reveal` (`task_reveal.py`): the same problems and answer-revealing verifier, but pretrained with that
verifier's sentence in the teacher template (70 % of the examples, as `letters` does with its own feedback), so the
pretrained teacher already reads the revealed answer. Where `reveal` asks whether the E-step can teach a teacher to
read new feedback, this family asks what distilling a teacher that reads it well is worth against GRPO.
"""

from __future__ import annotations

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

NAME = "reveal_read"
# The letters pretraining (70 % teacher-template examples, here with the revealed answer; no shown solution), with the
# letters target for the teacher's repair rate.
PRETRAIN = {"solution_fraction": 0.0}
