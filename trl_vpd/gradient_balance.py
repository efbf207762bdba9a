"""The distillation's coefficient set by gradients, not loss values (`distillation_gradient_ratio`).

A constant weight w mixes GRPO's policy loss and the distillation by their loss scales, which differ with the task, the
model and the vocabulary (the distillation's per-token divergence over 100 tokens vs GRPO's advantage-weighted ratio):
at w = 0.5 the distillation's gradient was 0.4-2.4 × GRPO's across our benchmark models. Both terms reach the
parameters through the student's final hidden states, where their gradients are cheap to read (one pass back through
the output head each); this module keeps means of the two norms and scales the distillation so its gradient there is
a fixed multiple of GRPO's.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

import torch


def hidden_gradient_norms(losses: list[torch.Tensor], hidden: list[torch.Tensor], all_reduce) -> list[float]:
    """‖∂loss/∂hidden‖ for each loss (`hidden`: the backbone outputs both losses were computed from), summed in square
    over processes by `all_reduce` (one collective, taken on every process whatever its data). A loss without a graph
    to `hidden` counts 0."""
    squares = []
    for loss in losses:
        square = hidden[0].new_zeros((), dtype=torch.float32)
        if loss.requires_grad:
            for grad in torch.autograd.grad(loss, hidden, retain_graph=True, allow_unused=True):
                if grad is not None:
                    square = square + grad.float().pow(2).sum()
        squares.append(square)
    return all_reduce(torch.stack(squares)).sqrt().tolist()


# the running means in a checkpoint, so that a resumed run continues with them
GRADIENT_BALANCE_FILE = "vpd_gradient_balance.json"


@dataclass
class GradientBalance:
    """Means of GRPO's and the distillation's gradient norms at the hidden states, each updated only on micro-batches
    where it is non-zero (a batch whose groups all tie gives GRPO no gradient, and that is where the distillation
    matters most); the coefficient is `ratio` × mean_GRPO / mean_distill, or `fallback` until both have been seen.
    `window` None: running means (decay `decay`) throughout, so the balance holds at every step. `window` K: plain
    means over the first K non-zero norms of each, then frozen, so the coefficient is calibrated once and afterwards the
    distillation's share rises and falls with its gradient as under a constant weight. `cap`: the coefficient's upper
    bound (the constant weight, so that the balance only lowers the distillation where its gradient outweighs GRPO's).
    """

    ratio: float
    fallback: float
    decay: float = 0.9
    window: int | None = None
    cap: float | None = None
    grpo: float | None = None
    distill: float | None = None
    grpo_count: int = 0
    distill_count: int = 0

    def update(self, grpo_norm: float, distill_norm: float) -> float:
        self.grpo, self.grpo_count = self._mean(self.grpo, self.grpo_count, grpo_norm)
        self.distill, self.distill_count = self._mean(self.distill, self.distill_count, distill_norm)
        return self.coefficient()

    @property
    def calibrated(self) -> bool:
        """A window's means are both complete and frozen: the norms need not be read any more."""
        return self.window is not None and min(self.grpo_count, self.distill_count) >= self.window

    def coefficient(self) -> float:
        if not self.grpo or not self.distill:
            return self.fallback
        balanced = self.ratio * self.grpo / self.distill
        return balanced if self.cap is None else min(balanced, self.cap)

    def _mean(self, mean: float | None, count: int, value: float) -> tuple[float | None, int]:
        if not (math.isfinite(value) and value > 0) or (self.window is not None and count >= self.window):
            return mean, count
        if mean is None:
            return value, 1
        if self.window is not None:
            return mean + (value - mean) / (count + 1), count + 1
        return self.decay * mean + (1 - self.decay) * value, count + 1

    _STATE = ("grpo", "distill", "grpo_count", "distill_count")

    def save(self, path: str) -> None:
        with open(path, "w") as f:
            json.dump({name: getattr(self, name) for name in self._STATE}, f)

    def load(self, path: str) -> None:
        with open(path) as f:
            state = json.load(f)
        for name in self._STATE:
            setattr(self, name, state.get(name, getattr(self, name)))
