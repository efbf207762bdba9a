"""Warn when VPD has nothing to distil, so that a run does not silently turn into plain GRPO.

The M-step distils only samples whose teacher reads something: feedback (`vpd/feedback_coverage`) or a sibling that
reached `success_reward_threshold` (`vpd/sibling_solution_coverage`). When neither ever happens, for instance because
the reward function's best score lies below the threshold, both coverages stay 0 and every sample falls back to the
GRPO term. `NoSignalCallback` reads the logged metrics and says so once, with the threshold and the rewards seen.
"""

from __future__ import annotations

import logging
import math

from transformers import TrainerCallback

logger = logging.getLogger(__name__)

NO_SIGNAL_WARNING_AFTER = 10  # consecutive logged steps without feedback or a successful sibling before a warning


class NoSignalCallback(TrainerCallback):
    """Warn once after `patience` consecutive logs with zero feedback and zero sibling-solution coverage, naming
    `success_reward_threshold` and the range of the logged rewards (mean per step, and the largest spread)."""

    def __init__(self, success_reward_threshold: float, patience: int = NO_SIGNAL_WARNING_AFTER):
        self.threshold = success_reward_threshold
        self.patience = patience
        self.silent_logs = 0
        self.rewards: list[float] = []
        self.max_std = 0.0
        self.warned = False

    def on_log(self, args, state, control, logs=None, **kwargs):
        if self.warned or not logs or "reward" not in logs:
            return
        feedback = logs.get("vpd/feedback_coverage")
        siblings = logs.get("vpd/sibling_solution_coverage")
        if feedback is None and siblings is None:  # not a VPD training log (GRPO, evaluation)
            return
        if (feedback or 0.0) > 0.0 or (siblings or 0.0) > 0.0:
            self.silent_logs, self.rewards, self.max_std = 0, [], 0.0
            return
        self.silent_logs += 1
        reward, std = _number(logs["reward"]), _number(logs.get("reward_std"))
        if reward is not None:  # GRPO logs None (or NaN) when no reward function scored anything
            self.rewards.append(reward)
        if std is not None:
            self.max_std = max(self.max_std, std)
        if self.silent_logs >= self.patience:
            self.warned = True
            if state.is_world_process_zero:
                logger.warning(self.message())

    def message(self) -> str:
        spread = (
            f"the mean reward per step ranged {min(self.rewards):.3g} to {max(self.rewards):.3g}"
            if self.rewards
            else "no reward was scored"
        )
        return (
            f"VPD has had no teacher signal for {self.silent_logs} logged steps: no feedback arrived "
            f"(vpd/feedback_coverage = 0) and no rollout reached success_reward_threshold={self.threshold:g} "
            f"(vpd/sibling_solution_coverage = 0; {spread}, its "
            f"standard deviation reached {self.max_std:.3g}). The M-step distils nothing, so this is plain GRPO. "
            "Set success_reward_threshold to what a correct rollout scores, or add feedback_funcs / feedback_column."
        )


def _number(value) -> float | None:
    """A logged value as a float, None when it is missing, None or NaN."""
    if value is None:
        return None
    value = float(value)
    return None if math.isnan(value) else value
