"""The two VPD losses as pure tensor functions: M-step divergences and E-step objectives (no model needed)."""

from __future__ import annotations

from .distillation import (
    DISTILLATION_MODES,
    divergence,
    OutputHead,
    full_vocab_divergence,
    head_divergence,
    masked_mean,
    per_token_distillation,
    sampled_token_divergence,
    sampled_token_kl,
    topk_divergence,
)
from .e_step import (
    E_STEP_LOSSES,
    awr_e_loss,
    e_step_loss,
    implicit_reward,
    kto_e_loss,
    outcome_labels,
    selected_labels,
    sequence_logps,
    sigmoid_e_loss,
    swapped_feedback_loss,
    token_kl,
)

__all__ = [
    "DISTILLATION_MODES",
    "E_STEP_LOSSES",
    "OutputHead",
    "awr_e_loss",
    "divergence",
    "e_step_loss",
    "full_vocab_divergence",
    "head_divergence",
    "implicit_reward",
    "kto_e_loss",
    "masked_mean",
    "outcome_labels",
    "selected_labels",
    "per_token_distillation",
    "sampled_token_divergence",
    "sampled_token_kl",
    "sequence_logps",
    "sigmoid_e_loss",
    "swapped_feedback_loss",
    "token_kl",
    "topk_divergence",
]
