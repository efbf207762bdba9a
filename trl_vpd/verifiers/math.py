"""Math verifier: the final `\\boxed{}` answer against the reference, compared by `math-verify`.

Equivalence (fractions, intervals, sets, LaTeX vs plain numbers, ...) is entirely `math-verify`'s (`parse` and
`verify`); this module only finds the answer to name in the feedback. `math-verify` bounds its own work with
`signal.alarm`, which works only in the main thread, so elsewhere its timeout is switched off.
"""

from __future__ import annotations

import re
import threading
from typing import Any

from trl_vpd.verifiers.base import Verdict, Verifier, truncate

BOXED = re.compile(r"\\(?:boxed|fbox)\s*\{")
THINK = re.compile(r"^.*?</think>", re.DOTALL)


def last_boxed(text: str) -> str | None:
    """The content of the last `\\boxed{...}` (braces balanced), or None."""
    starts = [m.end() for m in BOXED.finditer(text)]
    for start in reversed(starts):
        depth = 1
        for i in range(start, len(text)):
            depth += {"{": 1, "}": -1}.get(text[i], 0)
            if depth == 0:
                return text[start:i].strip()
    return None


class MathVerifier(Verifier):
    """Reward 1 when the completion's last `\\boxed{}` answer equals the reference (per `math-verify`), else 0.

    Args:
        answer_column: column with the reference answer (`"12"`, `"\\frac{1}{2}"`, or a worked solution ending in
            `\\boxed{}`); when it is `"answer"` and missing, the `solution` column is used.
        reveal_answer: whether the feedback on a wrong answer states the reference answer.
        require_boxed: when False, an answer `math-verify` finds elsewhere (the last expression) also counts.
        timeout_seconds: `math-verify`'s limit per parse and comparison (main thread only).
    """

    name = "math"

    def __init__(
        self,
        answer_column: str = "answer",
        reveal_answer: bool = False,
        require_boxed: bool = True,
        timeout_seconds: int = 5,
        cache_size: int = 4096,
        success_feedback: str | None = None,
    ):
        from math_verify import parse, verify  # noqa: F401  (fail at construction when math-verify is missing)

        self.answer_column = answer_column
        self.columns = (answer_column, "solution") if answer_column == "answer" else (answer_column,)
        self.reveal_answer = reveal_answer
        self.require_boxed = require_boxed
        self.timeout_seconds = timeout_seconds
        super().__init__(cache_size=cache_size, success_feedback=success_feedback)

    def verify(self, text: str, row: dict[str, Any]) -> Verdict:
        from math_verify import parse, verify

        reference = next((row[c] for c in self.columns if row.get(c) not in (None, "")), None)
        if reference is None:
            return Verdict(None, None)
        reference = str(reference)
        text = THINK.sub("", text, count=1)
        answer = last_boxed(text)
        if answer is None and self.require_boxed:
            return Verdict(0.0, "No final answer found in \\boxed{}.")
        timeout = self.timeout_seconds if threading.current_thread() is threading.main_thread() else None
        gold = parse(reference if ("\\boxed" in reference or "$" in reference) else f"${reference}$", parsing_timeout=timeout)
        predicted = parse(f"$\\boxed{{{answer}}}$" if answer is not None else text, parsing_timeout=timeout)
        if predicted and gold and verify(gold, predicted, timeout_seconds=timeout):
            return Verdict(1.0, None)
        shown = answer if answer is not None else (str(predicted[-1]) if predicted else "")
        if not shown:
            return Verdict(0.0, "No final answer found.")
        feedback = f"The final answer {truncate(shown, 200)} does not match the reference answer."
        if self.reveal_answer:
            reference_answer = last_boxed(reference) or reference
            feedback += f" The correct answer is {truncate(reference_answer, 200)}."
        return Verdict(0.0, feedback)
