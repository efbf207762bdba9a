"""Says, once, when the E-step is not training the teacher: VPD then costs more than passive self-distillation and
gives the same thing. Two symptoms, read from the E-step's own statistics over a window of recent E-steps:

- inert: the teacher barely moves from the student (KL_E below a floor) while the BCO loss sits at log 2, its value
  when the teacher cannot tell successes from failures;
- starved: most E-steps had no labelled rollout with teacher context (the loss had nothing to learn from);
- misranking: the teacher, relative to the student, prefers the failed rollouts to the successful ones (its mean
  implicit reward h₊ − h₋ is below 0 by more than two standard errors over the window, so one noisy stretch of a
  teacher that is improving does not count): it does worse with the feedback than the student without it, and
  distilling it pulls the student down (benchmarks/results/learning_issue13_reveal.md).
"""

from __future__ import annotations

import logging
import math
from collections import deque

logger = logging.getLogger(__name__)

WINDOW = 20  # recent E-step micro-batches the monitor reads
KL_FLOOR = 1e-2  # per-token KL(teacher ‖ reference) below which the teacher has not left the student
LOSS_TOLERANCE = 0.01  # relative distance of the BCO loss to log 2 that counts as "at chance"
STARVED_RATE = 0.5  # share of E-steps without a labelled rollout that counts as starved
MISRANK_Z = 2.0  # standard errors by which the window's mean h₊ − h₋ must fall below 0


class EStepMonitor:
    """Collects (E-loss, KL_E, no signal, h₊ − h₋) per E-step micro-batch; `observe` returns the warning it logs (once
    per symptom), so callers and tests can read it."""

    def __init__(self, loss_name: str, config_hint: str, window: int = WINDOW):
        self.loss_name = loss_name
        self.config_hint = config_hint
        self.records: deque[tuple[float, float | None, bool]] = deque(maxlen=window)
        self.discrimination: deque[float] = deque(maxlen=window)
        self.warned: set[str] = set()

    def observe(self, e_loss: float, kl: float | None, no_signal: bool, discrimination: float = math.nan) -> str | None:
        """`discrimination`: h₊ − h₋ of this E-step (NaN unless it had both successes and failures)."""
        self.records.append((e_loss, kl, no_signal))
        self.discrimination.append(discrimination)
        if len(self.records) < self.records.maxlen:
            return None
        ranked = [d for d in self.discrimination if math.isfinite(d)]
        if len(ranked) >= max(2, len(self.records) // 2) and "misranking" not in self.warned:
            mean = sum(ranked) / len(ranked)
            se = math.sqrt(sum((d - mean) ** 2 for d in ranked) / (len(ranked) - 1) / len(ranked))
            if mean + MISRANK_Z * se < 0:
                return self._warn(
                    "misranking",
                    f"The teacher prefers the failed rollouts to the successful ones, relative to the student: its "
                    f"implicit reward h₊ − h₋ averaged {mean:.3g} ± {se:.2g} over the last {len(ranked)} E-steps "
                    "(vpd/teacher_reward_pos − vpd/teacher_reward_neg). With the feedback it does worse than the "
                    "student without it, and distilling it pulls the student down. Check that the teacher template "
                    "and feedback read well to the model, lower distillation_weight, or compare with GRPO.",
                )
        starved = sum(r[2] for r in self.records) / len(self.records)
        if starved > STARVED_RATE and "starved" not in self.warned:
            return self._warn(
                "starved",
                f"{starved:.0%} of the last {len(self.records)} E-steps had no labelled rollout with teacher context, "
                "so the teacher was not trained on them. Rollouts teach the E-step only where the teacher prompt "
                "carries feedback or a sibling's solution and their outcome is labelled: with feedback on failures only, "
                "set e_step_pairing='group' (a failed sibling's feedback conditions the teacher on every rollout of the "
                "group) or e_step_negatives=True; check `vpd/feedback_coverage` and the reward spread.",
            )
        with_signal = [r for r in self.records if not r[2] and r[1] is not None]
        if len(with_signal) >= len(self.records) // 2 and "inert" not in self.warned:
            at_chance = self.loss_name != "sigmoid" or all(
                abs(loss - math.log(2)) <= LOSS_TOLERANCE * math.log(2) for loss, _, _ in with_signal
            )
            kl = sum(r[1] for r in with_signal) / len(with_signal)
            if at_chance and kl < KL_FLOOR:
                return self._warn(
                    "inert",
                    f"The E-step is not moving the teacher: over the last {len(with_signal)} E-steps KL_E averaged "
                    f"{kl:.2g} (< {KL_FLOOR:g})"
                    + (", and the E-loss stayed at log 2 (chance)" if self.loss_name == "sigmoid" else "")
                    + f". VPD then trains like passive self-distillation at a higher cost. {self.config_hint}",
                )
        return None

    def _warn(self, symptom: str, message: str) -> str:
        self.warned.add(symptom)
        logger.warning(message)
        return message
