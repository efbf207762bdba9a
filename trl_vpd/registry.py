"""Names for reward and feedback functions, so recipes and the CLI can refer to them by string.

Three kinds of entries:

* verifiers (`register_verifier`): a factory whose object has `.reward_func` and `.feedback_func`. One object is
  kept per name and keyword arguments, so `get_reward_func("code")` and `get_feedback_func("code")` share its
  cache and each program runs once. Built in: `code`, `code_all_or_nothing`, `math`, `choice`, `exact`.
* plain functions (`register_reward`, `register_feedback`): returned as they are, keyword arguments bound.
* factories (`register_reward(name, factory=True)`, likewise for feedback): called with the keyword arguments
  (once per name and arguments); for feedback sources that need setup, such as a self-critique model.

Anything else is read as a dotted import path `pkg.module.attr`, with the working directory on `sys.path` as in
TRL's GRPO script; the attribute may be a function, a verifier object, or a verifier class (then instantiated).
"""

from __future__ import annotations

import functools
import importlib
import json
import os
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class _Entry:
    target: Callable[..., Any]
    kind: str  # "verifier", "factory" or "function"


_REWARDS: dict[str, _Entry] = {}
_FEEDBACK: dict[str, _Entry] = {}
_INSTANCES: dict[tuple[str, str], Any] = {}
_LOCK = threading.RLock()


def register_verifier(name: str, factory: Callable[..., Any] | None = None, *, overwrite: bool = False):
    """Register a verifier factory under `name` for both rewards and feedback (usable as a decorator)."""

    def add(target):
        _add(_REWARDS, name, _Entry(target, "verifier"), overwrite)
        _add(_FEEDBACK, name, _Entry(target, "verifier"), overwrite)
        return target

    return add if factory is None else add(factory)


def register_reward(name: str, func: Callable[..., Any] | None = None, *, factory: bool = False, overwrite: bool = False):
    """Register a reward function (or, with `factory=True`, a callable that builds one) under `name`."""

    def add(target):
        _add(_REWARDS, name, _Entry(target, "factory" if factory else "function"), overwrite)
        return target

    return add if func is None else add(func)


def register_feedback(name: str, func: Callable[..., Any] | None = None, *, factory: bool = False, overwrite: bool = False):
    """Register a feedback function (or, with `factory=True`, a callable that builds one) under `name`."""

    def add(target):
        _add(_FEEDBACK, name, _Entry(target, "factory" if factory else "function"), overwrite)
        return target

    return add if func is None else add(func)


def get_reward_func(name_or_path: str, **kwargs: Any) -> Callable[..., list[float | None]]:
    """A TRL reward function: a registered name or a dotted import path, configured by `kwargs`."""
    return _resolve(_REWARDS, "reward_func", name_or_path, kwargs)


def get_feedback_func(name_or_path: str, **kwargs: Any) -> Callable[..., list[str | None]]:
    """A VPD feedback function: a registered name or a dotted import path, configured by `kwargs`."""
    return _resolve(_FEEDBACK, "feedback_func", name_or_path, kwargs)


def get_verifier(name: str, **kwargs: Any) -> Any:
    """The shared verifier object registered under `name` for these `kwargs`."""
    entry = _REWARDS.get(name) or _FEEDBACK.get(name)
    if entry is None or entry.kind != "verifier":
        raise KeyError(f"No verifier registered as {name!r}; verifiers: {sorted(_verifier_names())}.")
    return _instance(name, entry.target, kwargs)


def registered_rewards() -> list[str]:
    return sorted(_REWARDS)


def registered_feedback() -> list[str]:
    return sorted(_FEEDBACK)


def _verifier_names() -> set[str]:
    return {name for name, entry in _REWARDS.items() if entry.kind == "verifier"}


def _add(table: dict[str, _Entry], name: str, entry: _Entry, overwrite: bool) -> None:
    with _LOCK:
        if name in table and table[name] != entry and not overwrite:
            raise ValueError(f"{name!r} is already registered; pass overwrite=True to replace it.")
        table[name] = entry


def _instance(key: str, factory: Callable[..., Any], kwargs: dict[str, Any]) -> Any:
    cache_key = (key, json.dumps(kwargs, sort_keys=True, default=repr))
    with _LOCK:
        if cache_key not in _INSTANCES:
            _INSTANCES[cache_key] = factory(**kwargs)
        return _INSTANCES[cache_key]


def _resolve(table: dict[str, _Entry], attribute: str, name: str, kwargs: dict[str, Any]) -> Callable[..., Any]:
    entry = table.get(name)
    if entry is not None:
        if entry.kind == "function":
            return _bind(entry.target, kwargs)
        made = _instance(name, entry.target, kwargs)
        return getattr(made, attribute, made)
    if "." not in name:
        kind = "reward" if table is _REWARDS else "feedback"
        raise KeyError(f"Unknown {kind} function {name!r}: registered are {sorted(table)}, or give a dotted import path.")
    module_path, attr = name.rsplit(".", 1)
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    target = getattr(importlib.import_module(module_path), attr)
    if isinstance(target, type):
        target = _instance(name, target, kwargs)
    elif kwargs and not hasattr(target, attribute):
        return _bind(target, kwargs)
    return getattr(target, attribute, target)


def _bind(func: Callable[..., Any], kwargs: dict[str, Any]) -> Callable[..., Any]:
    if not kwargs:
        return func
    bound = functools.partial(func, **kwargs)
    return functools.update_wrapper(bound, func)


def _code(**kwargs):
    from trl_vpd.verifiers.code import CodeVerifier

    return CodeVerifier(**kwargs)


def _code_all_or_nothing(**kwargs):
    from trl_vpd.verifiers.code import CodeVerifier

    return CodeVerifier(reward_mode="all_or_nothing", **kwargs)


def _math(**kwargs):
    from trl_vpd.verifiers.math import MathVerifier

    return MathVerifier(**kwargs)


def _choice(**kwargs):
    from trl_vpd.verifiers.choice import ChoiceVerifier

    return ChoiceVerifier(**kwargs)


def _exact(**kwargs):
    from trl_vpd.verifiers.choice import ChoiceVerifier

    return ChoiceVerifier(mode="exact", **kwargs)


for _name, _factory in (
    ("code", _code),
    ("code_all_or_nothing", _code_all_or_nothing),
    ("math", _math),
    ("choice", _choice),
    ("exact", _exact),
):
    register_verifier(_name, _factory)


def _self_critique(**kwargs):
    from trl_vpd.critique import SelfCritique

    return SelfCritique(**kwargs)


register_feedback("self_critique", _self_critique, factory=True)
