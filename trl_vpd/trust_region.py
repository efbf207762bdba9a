"""The E-step trust region: the coefficient β_E, its adaptive controller, and the BCO reference point δ.

ALGORITHM.md, "Adaptive trust region": after each E-step the trainer measures KL_E between the teacher and the
student reference; the controller moves β_E to keep KL_E near a target ε, optionally skips teacher updates that left
the region, and keeps δ, the running mean of β·h. The callback applies the measurements once per optimizer step and
stores the controller in `trainer_state.json`, so a resumed run continues with the same β_E and δ.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from dataclasses import dataclass
from typing import Any

from transformers.trainer_callback import ExportableState, TrainerCallback

logger = logging.getLogger(__name__)

# What changes during training (restored on resume); every other field is configuration.
_DYNAMIC_FIELDS = ("beta", "delta", "num_updates", "num_skipped", "num_invalid")


def _present(value: float | None) -> bool:
    """A measurement that can be used: given and finite."""
    return value is not None and math.isfinite(value)


@dataclass
class TrustRegionController:
    """β_E controller and δ running mean for the E-step.

    β_E scales the implicit reward h = log q - log π_ref inside the E-step loss (σ(β·h - δ) for "sigmoid"), so a
    larger β makes the objective saturate at a smaller |h|: the teacher gains nothing by moving further from the
    student, i.e. the trust region is tighter. With `target_kl` = ε set, β_E follows
    β ← clip(β·exp(η·clip((KL - ε)/ε, -c, c)), β_min, β_max): a teacher too far from the student (KL > ε) raises β
    (tighten), one too close lowers it (loosen). `target_kl=None` keeps β fixed, the paper-faithful setting.
    """

    beta: float = 0.1
    target_kl: float | None = None
    rate: float = 0.1
    max_change: float = 1.0
    beta_min: float = 1e-3
    beta_max: float = 10.0
    skip_factor: float | None = None
    delta: float = 0.0
    delta_momentum: float = 0.9
    num_updates: int = 0
    num_skipped: int = 0
    num_invalid: int = 0

    def __post_init__(self):
        if self.beta <= 0:
            raise ValueError(f"beta must be positive, got {self.beta}.")
        if not 0 < self.beta_min <= self.beta_max:
            raise ValueError(f"Need 0 < beta_min <= beta_max, got beta_min={self.beta_min}, beta_max={self.beta_max}.")
        if self.target_kl is not None and self.target_kl <= 0:
            raise ValueError(f"target_kl must be positive (or None for a fixed beta), got {self.target_kl}.")
        if self.rate < 0 or self.max_change <= 0:
            raise ValueError(f"Need rate >= 0 and max_change > 0, got rate={self.rate}, max_change={self.max_change}.")
        if self.skip_factor is not None:
            if self.target_kl is None:
                raise ValueError("skip_factor needs target_kl: the skip threshold is skip_factor * target_kl.")
            if self.skip_factor <= 0:
                raise ValueError(f"skip_factor must be positive, got {self.skip_factor}.")
        if not 0.0 <= self.delta_momentum <= 1.0:
            raise ValueError(f"delta_momentum must lie in [0, 1], got {self.delta_momentum}.")

    def update_beta(self, kl: float) -> float:
        """Move β toward the target KL and return it; no-op for a fixed β, and for a NaN/inf KL (counted)."""
        if self.target_kl is None:
            return self.beta
        kl = float(kl)
        if not math.isfinite(kl):
            self.num_invalid += 1
            return self.beta
        error = min(max((kl - self.target_kl) / self.target_kl, -self.max_change), self.max_change)
        previous = self.beta
        self.beta = min(max(self.beta * math.exp(self.rate * error), self.beta_min), self.beta_max)
        # δ is a running mean of β·h: rescale it so that it stays in the units of the β it is used with
        self.delta *= self.beta / previous
        self.num_updates += 1
        return self.beta

    def should_skip(self, kl: float) -> bool:
        """Hard trust region: True when KL > κ·ε, or when the KL is NaN/inf (a broken teacher update is never kept)."""
        kl = float(kl)
        if not math.isfinite(kl):
            return True
        if self.skip_factor is None or self.target_kl is None:
            return False
        return kl > self.skip_factor * self.target_kl

    def update_delta(self, mean_pos_scaled: float | None, mean_neg_scaled: float | None) -> float:
        """δ ← m·δ + (1 - m)·½(E[β·h₊] + E[β·h₋]), using the one side present when the other is missing or NaN."""
        sides = [float(v) for v in (mean_pos_scaled, mean_neg_scaled) if _present(v)]
        if sides:
            midpoint = sum(sides) / len(sides)
            self.delta = self.delta_momentum * self.delta + (1.0 - self.delta_momentum) * midpoint
        return self.delta

    def state_dict(self) -> dict[str, Any]:
        """All fields as a JSON-serializable dict."""
        return dataclasses.asdict(self)

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Set the fields present in `state` (a partial dict is fine); unknown keys are an error."""
        known = {f.name for f in dataclasses.fields(self)}
        unknown = set(state) - known
        if unknown:
            raise ValueError(f"Unknown TrustRegionController fields: {sorted(unknown)}.")
        for name, value in state.items():
            setattr(self, name, value)

    def config(self) -> dict[str, Any]:
        """The configuration fields (everything but β, δ and the counters)."""
        return {k: v for k, v in self.state_dict().items() if k not in _DYNAMIC_FIELDS}

    def dynamic_state(self) -> dict[str, Any]:
        """β, δ and the counters: what a resumed run must get back."""
        return {k: getattr(self, k) for k in _DYNAMIC_FIELDS}


class TrustRegionCallback(TrainerCallback, ExportableState):
    """Applies the E-step measurements to a `TrustRegionController` once per optimizer step, and checkpoints it.

    The trainer calls `record` after each E-step micro-batch (values already averaged across processes);
    `on_step_end` feeds their mean to the controller. The state goes to `trainer_state.json` (`stateful_callbacks`)
    as `{"args": config, "attributes": {"controller_state": β, δ, counters}}`. On resume it is restored in place in
    `on_train_begin`, so a trainer may keep a reference to this object; with
    `restore_callback_states_from_checkpoint=True` transformers instead replaces it by a new instance (look it up
    again with `find_trust_region_callback`).
    """

    def __init__(self, controller: TrustRegionController | None = None, **controller_kwargs):
        if controller is not None and controller_kwargs:
            raise ValueError("Pass either a TrustRegionController or its fields, not both.")
        self.controller = controller if controller is not None else TrustRegionController(**controller_kwargs)
        self._kls: list[float] = []
        self._h_pos: list[float] = []
        self._h_neg: list[float] = []
        self._first_kl: float | None = None
        self._warned_at_bound = False

    @property
    def controller_state(self) -> dict[str, Any]:
        """The controller's dynamic state; assigning to it (as transformers' restore does) loads it."""
        return self.controller.dynamic_state()

    @controller_state.setter
    def controller_state(self, value: dict[str, Any]) -> None:
        self.controller.load_state_dict(value)

    @property
    def beta(self) -> float:
        """The current β_E."""
        return self.controller.beta

    @property
    def delta(self) -> float:
        """The current reference point δ (units of β·h)."""
        return self.controller.delta

    def should_skip(self, kl: float) -> bool:
        """The controller's hard trust-region rule for one E-step measurement."""
        return self.controller.should_skip(kl)

    def record(
        self,
        kl: float | None,
        h_pos_scaled: float | None = None,
        h_neg_scaled: float | None = None,
        skipped: bool = False,
    ) -> None:
        """Buffer one E-step micro-batch's KL_E (None: not measured) and mean β·h on positive / negative rollouts;
        count a skip."""
        if kl is not None:  # None: nothing was measured (no rollout with teacher context on any process)
            self._kls.append(float(kl))
        if _present(h_pos_scaled):
            self._h_pos.append(float(h_pos_scaled))
        if _present(h_neg_scaled):
            self._h_neg.append(float(h_neg_scaled))
        if skipped:
            self.controller.num_skipped += 1

    def apply_recorded(self) -> None:
        """Feed the mean of the buffered measurements to the controller and clear the buffer (no-op if empty)."""
        if self._kls:
            finite = [v for v in self._kls if math.isfinite(v)]
            kl = sum(finite) / len(finite) if finite else math.nan
            if self._first_kl is None and finite:
                self._first_kl = kl
            self.controller.update_beta(kl)
            self._warn_if_pinned(kl)
        if self._h_pos or self._h_neg:
            self.controller.update_delta(_mean_or_none(self._h_pos), _mean_or_none(self._h_neg))
        self._kls, self._h_pos, self._h_neg = [], [], []

    def _warn_if_pinned(self, kl: float) -> None:
        """Say once when β_E sits at a bound: the controller can no longer steer KL_E toward the target, usually
        because the target lies below what the teacher prompt alone produces (KL_E is > 0 before any E-step)."""
        c = self.controller
        if c.target_kl is None or self._warned_at_bound or not math.isfinite(kl):
            return
        if c.beta >= c.beta_max and kl > c.target_kl:
            self._warned_at_bound = True
            logger.warning(
                "β_E reached trust_region_beta_max=%g while KL_E=%.3g stays above trust_region_target_kl=%g. The first "
                "E-step measured KL_E=%.3g before any teacher update (the teacher prompt alone); set the target above "
                "that, or raise trust_region_beta_max.", c.beta_max, kl, c.target_kl, self._first_kl,
            )  # fmt: skip
        elif c.beta <= c.beta_min and kl < c.target_kl:
            self._warned_at_bound = True
            logger.warning(
                "β_E reached trust_region_beta_min=%g while KL_E=%.3g stays below trust_region_target_kl=%g: the "
                "E-step does not move the teacher that far; lower the target or raise teacher_learning_rate.",
                c.beta_min, kl, c.target_kl,
            )  # fmt: skip

    def on_step_end(self, args, state, control, **kwargs):
        """Once per optimizer step, after all gradient-accumulation micro-batches: update β and δ."""
        self.apply_recorded()

    def on_train_begin(self, args, state, control, **kwargs):
        """On resume, load β, δ and the counters from the checkpoint's `trainer_state.json` into this instance."""
        if state.global_step == 0:
            return
        stored = (state.stateful_callbacks or {}).get(type(self).__name__)
        if isinstance(stored, dict):
            self.controller_state = stored.get("attributes", {}).get("controller_state", {})

    def metrics(self) -> dict[str, float]:
        """Values for TRL's `_metrics` (the trainer adds its `vpd/` prefix)."""
        return {
            "beta": float(self.controller.beta),
            "delta": float(self.controller.delta),
            "num_skipped": float(self.controller.num_skipped),
        }

    def state(self) -> dict[str, Any]:
        """ExportableState format: constructor `args` (the configuration) and `attributes` set after construction."""
        return {"args": self.controller.config(), "attributes": {"controller_state": self.controller.dynamic_state()}}


def _mean_or_none(values: list[float]) -> float | None:
    """Mean of a non-empty list, None for an empty one."""
    return sum(values) / len(values) if values else None


def find_trust_region_callback(trainer) -> TrustRegionCallback | None:
    """The `TrustRegionCallback` currently registered with `trainer` (transformers may have replaced the original)."""
    for callback in trainer.callback_handler.callbacks:
        if isinstance(callback, TrustRegionCallback):
            return callback
    return None
