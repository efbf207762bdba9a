"""The E-step decision for one micro-batch: whether the teacher trains, in how many passes, and on which rollouts.

Every input to the decision is the same on every process (the optimizer step, the configuration, the batch shapes
maximised across processes), so all ranks take the E-step's collectives in the same order whatever their own data:
a rank whose rollouts carry no feedback still runs the same teacher passes as a rank whose rollouts do.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class EStepPlan:
    """`run`: this optimizer step trains the teacher. `chunk_rows`: rollouts per teacher pass with gradient (`rows`:
    one pass). Identical on every process."""

    run: bool
    rows: int
    chunk_rows: int

    @property
    def chunked(self) -> bool:
        return self.run and self.chunk_rows < self.rows


def is_e_step(step: int, *, enabled: bool, warmup: int, every: int) -> bool:
    """Whether optimizer step `step` (0-based, `state.global_step` during the step) is an E-step."""
    return enabled and step >= warmup and (step - warmup) % every == 0


def served_steps(global_step: int, micro_step: int, steps_per_generation: int, num_iterations: int, ga: int) -> range:
    """The optimizer steps that the generation batch made at micro-step `micro_step` will feed: GRPO reuses it for
    `steps_per_generation × num_iterations` micro-steps, i.e. that many / GA optimizer steps from `global_step` on."""
    remaining = steps_per_generation * num_iterations - micro_step % (steps_per_generation * num_iterations)
    return range(global_step, global_step + max(1, -(-remaining // ga)))


def chunk_rows(rows: int, student_len: int, teacher_len: int, chunk_size: int | None, one_pass: bool) -> int:
    """Rollouts per teacher pass: `chunk_size`, or (None) as many as keep the teacher's padded tokens within the
    student micro-batch's, so the E-step holds no more activations than the student's own step; 0 means all. The
    lengths must be the maxima across processes (see module docstring)."""
    if one_pass:
        return rows
    if chunk_size is None:
        return min(rows, max(1, rows * student_len // max(teacher_len, 1)))
    return min(chunk_size, rows) if chunk_size else rows


def e_step_rows(has_context: torch.Tensor, token_mask: torch.Tensor) -> torch.Tensor:
    """Rollouts the E-step may learn from (B,) bool: those whose teacher prompt carries context and that keep at least
    one trained token. Without context the teacher prompt is the student's (h = 0 with the gradient of log π: a
    REINFORCE term on the student, not a teacher update); without tokens (a masked truncation, tool output only) h is
    a constant."""
    return (has_context > 0) & (token_mask.sum(-1) > 0)
