"""Multiple-choice and exact-answer verifier for science QA in SciKnowEval's format.

SciKnowEval's system prompt asks for `<reasoning>...</reasoning><answer>...</answer>` with only the option
letter in the answer tags. The answer is read from the last `<answer>` tags; without them (unless
`require_tags`), from the last "Answer: X" and then from a standalone option letter on a short last line
("**B**", "Option B"; a longer line is prose, where "A" is usually an article). The
`"exact"` mode compares short free-form answers after normalization (case, spacing, articles, punctuation).
"""

from __future__ import annotations

import re
import string
from typing import Any

from trl_vpd.verifiers.base import Verdict, Verifier, truncate

ANSWER_TAGS = re.compile(r"<answer>(.*?)</answer>", re.DOTALL | re.IGNORECASE)
ANSWER_LINE = re.compile(r"(?i:\banswer\b(?:\s+is\s*[:：]?|\s*[:：]))[ \t]*(.+)")
ARTICLES = re.compile(r"\b(a|an|the)\b")
MODES = ("choice", "exact")
SHORT_LINE_WORDS = 4  # a longer last line is prose, where a standalone "A" is an article


def normalize(text: str) -> str:
    """Lower case, no articles, no surrounding punctuation or quotes, single spaces."""
    text = ARTICLES.sub(" ", text.lower())
    return " ".join(text.split()).strip(string.punctuation + " “”‘’")


class ChoiceVerifier(Verifier):
    """Reward 1 for the reference option letter (or, with `mode="exact"`, the reference answer), else 0.

    Args:
        answer_column: column with the reference: a letter, or for `"exact"` a string or a list of accepted strings.
        mode: `"choice"` (option letters) or `"exact"` (normalized string match).
        choices: the option letters.
        reveal_answer: whether feedback on a wrong answer states the correct one.
        require_tags: accept only answers inside `<answer>` tags.
    """

    def __init__(
        self,
        answer_column: str = "answer",
        mode: str = "choice",
        choices: str = "ABCD",
        reveal_answer: bool = False,
        require_tags: bool = False,
        cache_size: int = 4096,
        success_feedback: str | None = None,
    ):
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {mode!r}.")
        self.name = "choice" if mode == "choice" else "exact"
        self.columns = (answer_column,)
        self.answer_column, self.mode, self.choices = answer_column, mode, choices.upper()
        self.reveal_answer, self.require_tags = reveal_answer, require_tags
        letters = re.escape(self.choices)
        self._letter = re.compile(rf"(?<![A-Za-z0-9])([{letters}])(?![A-Za-z0-9])")
        super().__init__(cache_size=cache_size, success_feedback=success_feedback)

    def verify(self, text: str, row: dict[str, Any]) -> Verdict:
        reference = row.get(self.answer_column)
        if reference in (None, "", []):
            return Verdict(None, None)
        return self._verify_choice(text, str(reference)) if self.mode == "choice" else self._verify_exact(text, reference)

    def _verify_choice(self, text: str, reference: str) -> Verdict:
        reference = reference.strip().upper()
        tagged = ANSWER_TAGS.findall(text)
        if tagged:
            letters = list(dict.fromkeys(self._letter.findall(tagged[-1])))
            if not letters:
                listed = ", ".join(self.choices[:-1]) + f" or {self.choices[-1]}"
                return Verdict(0.0, f"No option letter ({listed}) found in the <answer> tags.")
            if len(letters) > 1:
                return Verdict(0.0, f"The <answer> tags name several options ({', '.join(letters)}); give exactly one letter.")
            answer = letters[0]
        else:
            answer = None if self.require_tags else self._untagged_letter(text)
            if answer is None:
                return Verdict(0.0, "No answer found in <answer> tags.")
        if answer == reference:
            return Verdict(1.0, None)
        feedback = f"Answered {answer}, which is incorrect."
        if self.reveal_answer:
            feedback += f" The correct answer is {reference}."
        return Verdict(0.0, feedback)

    def _untagged_letter(self, text: str) -> str | None:
        for line in reversed(ANSWER_LINE.findall(text)):
            letters = self._letter.findall(line)
            if letters:
                return letters[0]
        lines = [line for line in text.strip().splitlines() if line.strip()]
        if not lines or len(lines[-1].split()) > SHORT_LINE_WORDS:
            return None
        letters = self._letter.findall(lines[-1])
        return letters[-1] if letters else None

    def _verify_exact(self, text: str, reference: Any) -> Verdict:
        references = [str(r) for r in reference] if isinstance(reference, (list, tuple)) else [str(reference)]
        tagged = ANSWER_TAGS.findall(text)
        if tagged:
            answer = tagged[-1].strip()
        else:
            lines = ANSWER_LINE.findall(text)
            answer = lines[-1].strip() if lines and not self.require_tags else None
        if not answer:
            return Verdict(0.0, "No answer found in <answer> tags.")
        if normalize(answer) in {normalize(r) for r in references}:
            return Verdict(1.0, None)
        feedback = f'Answered "{truncate(answer, 200)}", which is incorrect.'
        if self.reveal_answer:
            feedback += f' The correct answer is "{truncate(references[0], 200)}".'
        return Verdict(0.0, feedback)
