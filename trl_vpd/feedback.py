"""Calling feedback functions: callables with TRL's reward-function signature that return one `str | None` per
completion. Errors name the function and the sample, because a bad feedback source is otherwise hard to find in a
batch of hundreds of completions."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from trl.trainer.utils import get_callable_name

FeedbackFunc = Callable[..., Sequence[str | None]]


class FeedbackFunctionError(RuntimeError):
    """A feedback function raised or returned something unusable."""


def call_feedback_funcs(
    funcs: Sequence[FeedbackFunc],
    prompts: list,
    completions: list,
    completion_ids: list[list[int]],
    kwargs: dict[str, Any],
) -> list[list[str | None]]:
    """One list of feedback per function, each validated (length, types). `kwargs` are the reward kwargs: dataset
    columns as per-sample lists plus scalars such as `trainer_state`."""
    results = []
    for func in funcs:
        name = get_callable_name(func)
        try:
            output = func(prompts=prompts, completions=completions, completion_ids=completion_ids, **kwargs)
        except Exception as error:
            index = _first_failing_sample(func, prompts, completions, completion_ids, kwargs)
            where = f"sample {index}" if index is not None else "the batch (no single sample fails alone)"
            raise FeedbackFunctionError(
                f"Feedback function '{name}' raised {type(error).__name__}: {error} (at {where} of "
                f"{len(prompts)})."
            ) from error
        results.append(validate_feedback(name, output, len(prompts)))
    return results


def validate_feedback(name: str, output, expected: int) -> list[str | None]:
    if output is None or isinstance(output, (str, bytes)) or not hasattr(output, "__len__"):
        raise FeedbackFunctionError(
            f"Feedback function '{name}' must return a list with one `str | None` per completion, got "
            f"{type(output).__name__}."
        )
    output = list(output)
    if len(output) != expected:
        raise FeedbackFunctionError(
            f"Feedback function '{name}' returned {len(output)} items, but {expected} were expected (one per "
            "completion)."
        )
    for index, item in enumerate(output):
        if item is not None and not isinstance(item, str):
            raise FeedbackFunctionError(
                f"Feedback function '{name}' returned a {type(item).__name__} for sample {index}; expected str or None."
            )
    return output


def _first_failing_sample(func, prompts, completions, completion_ids, kwargs) -> int | None:
    """Re-run `func` on one sample at a time to find the first that raises (the error message's sample index)."""
    for i in range(len(prompts)):
        single = {k: ([v[i]] if isinstance(v, list) and len(v) == len(prompts) else v) for k, v in kwargs.items()}
        try:
            func(prompts=[prompts[i]], completions=[completions[i]], completion_ids=[completion_ids[i]], **single)
        except Exception:
            return i
    return None
