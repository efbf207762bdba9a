"""A control family, `bare`: the letters problems and pretrained model, with a verifier whose feedback says nothing
the 0/1 reward does not.

    question: "reverse: a c b"      answer: "b c a"      feedback on "b a c": "The answer is wrong."

Issue 13 asks the README to say where VPD still loses, "e.g. a family where feedback carries nothing the reward does
not". Everything but the feedback's content is `letters`' (the problems, the pretrained model and tokenizer:
`PRETRAIN = None` takes the letters model itself), so paired with `letters` it says what the critique's content is
worth, and against GRPO what VPD costs or gains when its teacher has nothing to read: the sibling demonstrations (SDPO's
implicit feedback) remain, and a failed group's teacher reads a sentence that only restates the reward.
"""

from __future__ import annotations

from .task import (  # noqa: F401  (the family interface: the letters problems, reward, dataset, decoys, tokenizer)
    corrupt,
    correctness_reward,
    decoy,
    is_correct,
    make_problem,
    make_problems,
    parse,
    text_of,
    to_dataset,
    tokenizer_corpus,
)

NAME = "bare"
PRETRAIN = None  # the letters pretraining and cache: the same model, only the verifier differs
FEEDBACK = "The answer is wrong."


def diagnose(completion: str, answer: str) -> str | None:
    """The verifier's feedback on a wrong answer (None when correct): that it is wrong, nothing more."""
    return None if is_correct(completion, answer) else FEEDBACK


def verifier_feedback(completions, answer, rewards=None, **kwargs) -> list[str | None]:
    return [diagnose(text_of(c), a) for c, a in zip(completions, answer, strict=True)]
