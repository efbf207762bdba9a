"""Distil the teacher only as far as it ranks outcomes better than chance.

The E-step's statistics say, on every E-step, whether the teacher (relative to the student) gives the successful
rollouts a higher implicit reward than the failed ones (h₊ > h₋). A teacher that does not, reads its feedback worse
than the student solves the task, and distilling it pulls the student down (benchmarks/results/learning_issue13.md,
`reveal`). The gate scales the distillation weight by max(0, 2p − 1), p the share of recent E-steps on which the
teacher ranked correctly: 1 for a teacher that always does, 0 for one at chance or worse (the student then trains as
GRPO). It depends on a sign per E-step, not on a loss scale, so it reads the same at any model size or β_E.
"""

from __future__ import annotations

import math
from collections import deque

WINDOW = 20  # recent E-steps with both successes and failures
MIN_RANKED = 5  # before this many, the gate stays open (no evidence yet)


class DistillationGate:
    def __init__(self, window: int = WINDOW, min_ranked: int = MIN_RANKED):
        self.ranked: deque[bool] = deque(maxlen=window)
        self.min_ranked = min_ranked

    def record(self, discrimination: float) -> None:
        """h₊ − h₋ of one E-step (NaN when it lacked successes or failures: not counted)."""
        if math.isfinite(discrimination):
            self.ranked.append(discrimination > 0)

    @property
    def value(self) -> float:
        if len(self.ranked) < self.min_ranked:
            return 1.0
        share = sum(self.ranked) / len(self.ranked)
        return max(0.0, 2.0 * share - 1.0)
