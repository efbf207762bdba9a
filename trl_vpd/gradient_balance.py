"""The distillation's coefficient set by gradients, not loss values (`distillation_gradient_ratio`).

A constant weight w mixes GRPO's policy loss and the distillation by their loss scales, which differ with the task, the
model and the vocabulary (the distillation's per-token divergence over 100 tokens vs GRPO's advantage-weighted ratio);
under Adam, whose step has a fixed size, the term with the larger gradient sets the direction whatever w says. Both
terms reach the parameters through the student's final hidden states, where their gradients are cheap to read (one
pass back through the output head each); this module keeps running means of the two norms and scales the distillation
so its gradient there is a fixed multiple of GRPO's.
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
    """Running means (decay `decay`) of GRPO's and the distillation's gradient norms at the hidden states, each updated
    only on micro-batches where it is non-zero (a batch whose groups all tie gives GRPO no gradient, and that is where
    the distillation matters most); the coefficient is `ratio` × mean_GRPO / mean_distill, or `fallback` until both
    have been seen."""

    ratio: float
    fallback: float
    decay: float = 0.9
    grpo: float | None = None
    distill: float | None = None

    def update(self, grpo_norm: float, distill_norm: float) -> float:
        self.grpo = self._mean(self.grpo, grpo_norm)
        self.distill = self._mean(self.distill, distill_norm)
        return self.coefficient()

    def coefficient(self) -> float:
        if not self.grpo or not self.distill:
            return self.fallback
        return self.ratio * self.grpo / self.distill

    def _mean(self, mean: float | None, value: float) -> float | None:
        if not (math.isfinite(value) and value > 0):
            return mean
        return value if mean is None else self.decay * mean + (1 - self.decay) * value

    def save(self, path: str) -> None:
        with open(path, "w") as f:
            json.dump({"grpo": self.grpo, "distill": self.distill}, f)

    def load(self, path: str) -> None:
        with open(path) as f:
            state = json.load(f)
        self.grpo, self.distill = state["grpo"], state["distill"]
