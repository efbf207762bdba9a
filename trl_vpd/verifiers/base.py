"""What every verifier shares: one verdict per completion, used both as a TRL reward and as VPD feedback.

A verifier judges a completion once and returns a `Verdict` (a reward and a feedback text). TRL calls reward
functions first and VPD's feedback functions afterwards on the same completions, so verdicts are kept in a
bounded LRU cache keyed by a hash of the completion text and the row's test specification: the feedback call
finds the verdict the reward call computed, and model-written code is never run twice.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from trl_vpd.utils import completion_text

TRAINER_KWARGS = ("trainer_state", "log_extra", "log_metric", "environments")


@dataclass(frozen=True)
class Verdict:
    """A verifier's judgement of one completion. `None` reward: not applicable; `None` feedback: nothing to say."""

    reward: float | None
    feedback: str | None = None


class Verifier:
    """Base class: subclasses set `name` and `columns` and implement `verify` (or `verify_batch` to run in parallel).

    `reward_func` and `feedback_func` are plain functions with TRL's reward-function signature
    `f(prompts, completions, completion_ids=None, **kwargs)`, named `<name>_reward` and `<name>_feedback`
    because TRL logs reward functions by `__name__`. Calling the verifier itself is the reward function.
    """

    name: str = "verifier"
    columns: tuple[str, ...] = ()

    def __init__(self, cache_size: int = 4096, success_feedback: str | None = None):
        self.cache_size = cache_size
        self.success_feedback = success_feedback
        self._cache: OrderedDict[str, Verdict] = OrderedDict()
        self._lock = threading.Lock()
        self.reward_func = self._named(self._reward, f"{self.name}_reward")
        self.feedback_func = self._named(self._feedback, f"{self.name}_feedback")

    def verify(self, text: str, row: dict[str, Any]) -> Verdict:
        raise NotImplementedError

    def verify_batch(self, texts: Sequence[str], rows: Sequence[dict[str, Any]]) -> list[Verdict]:
        return [self.verify(text, row) for text, row in zip(texts, rows)]

    def evaluate(self, prompts: Sequence[Any], completions: Sequence[Any], **kwargs: Any) -> list[Verdict]:
        """Verdicts for a batch, from the cache where present; the rest are computed together and cached."""
        texts = [completion_text(c) for c in completions]
        rows = self._rows(len(texts), kwargs)
        keys = [self._key(text, row) for text, row in zip(texts, rows)]
        with self._lock:
            verdicts: list[Verdict | None] = [self._cache.get(key) for key in keys]
        todo = [i for i, verdict in enumerate(verdicts) if verdict is None]
        if todo:
            fresh = self.verify_batch([texts[i] for i in todo], [rows[i] for i in todo])
            with self._lock:
                for i, verdict in zip(todo, fresh):
                    verdicts[i] = verdict
                    self._cache[keys[i]] = verdict
                    self._cache.move_to_end(keys[i])
                while len(self._cache) > self.cache_size:
                    self._cache.popitem(last=False)
        with self._lock:
            for key in keys:
                if key in self._cache:
                    self._cache.move_to_end(key)
        return verdicts  # type: ignore[return-value]

    def __call__(self, prompts, completions, completion_ids=None, **kwargs) -> list[float | None]:
        return self._reward(prompts, completions, completion_ids, **kwargs)

    def clear_cache(self) -> None:
        with self._lock:
            self._cache.clear()

    def _reward(self, prompts, completions, completion_ids=None, **kwargs) -> list[float | None]:
        return [verdict.reward for verdict in self.evaluate(prompts, completions, **kwargs)]

    def _feedback(self, prompts, completions, completion_ids=None, **kwargs) -> list[str | None]:
        verdicts = self.evaluate(prompts, completions, **kwargs)
        return [
            self.success_feedback if v.feedback is None and v.reward is not None and v.reward >= 1 else v.feedback
            for v in verdicts
        ]

    def _rows(self, n: int, kwargs: dict[str, Any]) -> list[dict[str, Any]]:
        present = {c: kwargs[c] for c in self.columns if c in kwargs and c not in TRAINER_KWARGS}
        for column, values in present.items():
            if not isinstance(values, (list, tuple)) or len(values) != n:
                raise ValueError(f"{self.name}: column {column!r} must hold one value per completion ({n}).")
        return [{c: values[i] for c, values in present.items()} for i in range(n)]

    @staticmethod
    def _key(text: str, row: dict[str, Any]) -> str:
        spec = json.dumps(row, sort_keys=True, default=repr)
        return hashlib.sha256(f"{len(text)}:{text}\0{spec}".encode("utf-8", errors="replace")).hexdigest()

    def _named(self, function: Callable, name: str) -> Callable:
        def func(prompts, completions, completion_ids=None, **kwargs):
            return function(prompts, completions, completion_ids, **kwargs)

        func.__name__ = func.__qualname__ = name
        func.__doc__ = f"{type(self).__name__}.{function.__name__.lstrip('_')} as a TRL-style function."
        func.verifier = self  # type: ignore[attr-defined]
        return func


def truncate(text: str, limit: int, keep: str = "head") -> str:
    """`text` cut to at most `limit` characters, marking the cut; `keep="tail"` keeps the end (tracebacks)."""
    if len(text) <= limit:
        return text
    marker = "...(truncated)"
    room = max(limit - len(marker), 0)
    return marker + text[len(text) - room :] if keep == "tail" else text[:room] + marker
