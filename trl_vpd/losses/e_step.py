"""E-step objectives: fit the feedback-conditioned teacher q to trajectory outcomes, near the student reference.

The rollouts come from the student, so this is an unpaired, off-policy preference fit on the implicit reward
h_i = log q(y_i | c_i) - log π_ref(y_i | x) (ALGORITHM.md, "E-step objective"). The teacher side carries the
gradient; the reference (the current student, stop-gradient) is detached inside every function here.

Aggregation: the per-sample losses are summed with their weights w_i (1, or |A_i|) and divided by the number of
labelled samples (z_i != 0), not by Σ w_i, so that |A|-weighted losses scale like the advantages themselves and a
batch with weak advantages gives a proportionally weak teacher update.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from .distillation import masked_mean

E_STEP_LOSSES = ("sigmoid", "kto", "awr")

# Keeps exp(log q - log ref) finite in float32; a per-token log-ratio of 50 nats is already a broken teacher.
_MAX_LOG_RATIO = 50.0


def sequence_logps(token_logps: torch.Tensor, mask: torch.Tensor, length_normalize: bool = False) -> torch.Tensor:
    """Sequence log-likelihood (B,) from per-token log-probs (B, T): the sum over valid tokens, or their mean."""
    mask = mask.to(torch.float32)
    total = torch.where(mask != 0, token_logps.float() * mask, 0.0).sum(-1)
    if length_normalize:
        total = total / mask.sum(-1).clamp(min=1.0)
    return total


def implicit_reward(
    teacher_token_logps: torch.Tensor,
    ref_token_logps: torch.Tensor,
    mask: torch.Tensor,
    length_normalize: bool = False,
) -> torch.Tensor:
    """h_i = log q(y_i | c_i) - log π_ref(y_i | x) over completion tokens (B,); the reference is detached."""
    teacher = sequence_logps(teacher_token_logps, mask, length_normalize)
    reference = sequence_logps(ref_token_logps.detach(), mask, length_normalize)
    return teacher - reference


def outcome_labels(
    advantages: torch.Tensor,
    rewards: torch.Tensor | None = None,
    success_threshold: float | None = None,
    eps: float = 1e-6,
) -> torch.Tensor:
    """Outcome label z_i ∈ {-1, 0, +1} (float32, (B,)) for the unpaired E-step.

    With `success_threshold`: +1 where reward ≥ threshold, -1 below, 0 for a NaN reward (no verdict). Otherwise the
    sign of the group-normalized advantage, with |A| ≤ eps (and NaN) mapped to 0: such rollouts carry no signal.
    """
    if success_threshold is not None:
        if rewards is None:
            raise ValueError("`success_threshold` labels need `rewards`.")
        rewards = rewards.float()
        labels = torch.where(rewards >= success_threshold, 1.0, -1.0)
        return torch.where(torch.isnan(rewards), 0.0, labels)
    advantages = advantages.float()
    labels = torch.sign(advantages)
    return torch.where((advantages.abs() > eps) & ~torch.isnan(advantages), labels, 0.0)


def selected_labels(
    advantages: torch.Tensor,
    rows: torch.Tensor | None = None,
    rewards: torch.Tensor | None = None,
    success_threshold: float | None = None,
    negatives: bool = True,
) -> tuple[torch.Tensor, torch.Tensor]:
    """(labels, trained): the outcome labels of the rollouts in `rows` (0 elsewhere), and those that train the teacher
    (without `negatives`, the successes only; the statistics still describe every labelled rollout). Known before any
    teacher forward, so a chunked E-step can weigh each chunk by the micro-batch's count of trained rollouts."""
    if rows is not None:
        advantages = advantages * rows.to(advantages.dtype)
    labels = outcome_labels(advantages, rewards=rewards, success_threshold=success_threshold)
    if rows is not None:
        labels = labels * rows.float()
    return labels, labels if negatives else labels.clamp(min=0.0)


def _labelled_mean(per_sample: torch.Tensor, labels: torch.Tensor, weights: torch.Tensor | None) -> torch.Tensor:
    """Σ_{z≠0} w_i·ℓ_i / #{z≠0}; a graph-attached 0 when nothing is labelled."""
    labelled = labels != 0
    if weights is not None:
        per_sample = per_sample * weights.detach().float()
    return masked_mean(per_sample, labelled)


def sigmoid_e_loss(
    h: torch.Tensor,
    labels: torch.Tensor,
    beta: float,
    delta: float,
    weights: torch.Tensor | None = None,
) -> torch.Tensor:
    """BCO-style loss -w_i·log σ(z_i·(β·h_i - δ)), averaged over labelled samples.

    `delta` is the detached running reference point in the units of β·h: successes are pushed above it, failures
    below, so the classifier boundary tracks the teacher instead of sitting at h = 0.
    """
    logits = labels.float() * (beta * h.float() - float(delta))
    return _labelled_mean(F.softplus(-logits), labels, weights)


def kto_e_loss(
    h: torch.Tensor,
    labels: torch.Tensor,
    beta: float,
    z_ref: float,
    weights: torch.Tensor | None = None,
) -> torch.Tensor:
    """KTO-style loss 1 - σ(z_i·β·(h_i - z_ref)), averaged over labelled samples.

    `z_ref` is the detached batch estimate of KL(q ‖ π_ref) in the units of h, clamped at 0 as in KTO; saturating
    (bounded) per-sample losses make this variant robust to outlier rollouts.
    """
    z_ref = max(float(z_ref), 0.0)
    per_sample = 1.0 - torch.sigmoid(labels.float() * beta * (h.float() - z_ref))
    return _labelled_mean(per_sample, labels, weights)


def _token_kl_terms(teacher_token_logps: torch.Tensor, ref_token_logps: torch.Tensor) -> torch.Tensor:
    """Per-token r·log r - (r - 1) with r = q / π_ref (≥ 0, 0 iff equal); the reference is detached."""
    log_ratio = (teacher_token_logps.float() - ref_token_logps.detach().float()).clamp(
        -_MAX_LOG_RATIO, _MAX_LOG_RATIO
    )
    return log_ratio.exp() * log_ratio - torch.expm1(log_ratio)


def token_kl(teacher_token_logps: torch.Tensor, ref_token_logps: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Masked token mean of r·log r - (r - 1), r = q / π_ref, on tokens sampled from the student (≈ π_ref).

    Under y ~ π_ref its expectation is exactly KL(q ‖ π_ref) and so is the expectation of its gradient, so it serves
    both as the AWR trust-region penalty and (with detached inputs) as the trust-region measurement KL_E.
    """
    return masked_mean(_token_kl_terms(teacher_token_logps, ref_token_logps), mask)


def _sequence_kl(
    teacher_token_logps: torch.Tensor, ref_token_logps: torch.Tensor, mask: torch.Tensor, length_normalize: bool
) -> float:
    """Detached batch estimate of KL(q ‖ π_ref) in the units of h (per sequence, or per token when normalized)."""
    terms = _token_kl_terms(teacher_token_logps.detach(), ref_token_logps)
    per_sequence = sequence_logps(terms, mask, length_normalize)
    return max(float(per_sequence.mean()), 0.0) if per_sequence.numel() else 0.0


def awr_e_loss(
    teacher_token_logps: torch.Tensor,
    ref_token_logps: torch.Tensor,
    mask: torch.Tensor,
    advantages: torch.Tensor,
    beta: float,
) -> torch.Tensor:
    """Advantage-weighted likelihood -A_i·(Σ_t log q)/|y_i| plus β·token_kl(q ‖ π_ref).

    The likelihood term is averaged over samples with at least one completion token; the KL term keeps the teacher
    inside the trust region around the student, which the likelihood term alone would leave.
    """
    per_sample = sequence_logps(teacher_token_logps, mask, length_normalize=True)
    has_tokens = mask.to(torch.float32).sum(-1) > 0
    likelihood = masked_mean(-advantages.detach().float() * per_sample, has_tokens)
    return likelihood + beta * token_kl(teacher_token_logps, ref_token_logps, mask)


def _masked_sample_mean(values: torch.Tensor, select: torch.Tensor) -> float:
    """Mean of `values` where `select`, NaN when nothing is selected (a statistic, never a loss)."""
    return float(values[select].mean()) if bool(select.any()) else math.nan


def e_step_loss(
    name: str,
    *,
    teacher_token_logps: torch.Tensor,
    ref_token_logps: torch.Tensor,
    mask: torch.Tensor,
    advantages: torch.Tensor,
    beta: float,
    delta: float = 0.0,
    rewards: torch.Tensor | None = None,
    success_threshold: float | None = None,
    use_weights: bool = False,
    length_normalize: bool = False,
    negatives: bool = True,
    rows: torch.Tensor | None = None,
    normalize: bool = False,
    kl_terms: torch.Tensor | None = None,
) -> tuple[torch.Tensor, dict[str, float]]:
    """The E-step loss named in `E_STEP_LOSSES` and its statistics.

    Stats (plain floats): `h_pos` / `h_neg` (mean unscaled h on z=+1 / z=-1, NaN if none: the teacher's
    discrimination; multiply by β for the δ update), `kl` (detached token_kl, the trust-region measurement),
    `num_labelled`, and `z_ref` for "kto". Weights are |A| when `use_weights`. "awr" weights each sample by its
    advantage itself, so labels, thresholds and `use_weights` only shape its statistics. `negatives=False` leaves the
    z=-1 rollouts out of the loss ("awr": negative advantages become 0) but not out of `h_neg`. `rows` (B,) bool keeps
    only those rollouts in the loss and in every statistic (the others are unlabelled and their tokens unmeasured).
    `kl_terms` (B, T), when given, is the per-token KL(q ‖ π_ref) measured otherwise (exact over the vocabulary, for a
    reference that did not sample the rollouts) and replaces the sampled estimate in `kl`/`kl_sum`.
    For averaging across processes the stats also hold the sums and counts behind each mean: `kl_sum`/`kl_tokens`,
    `h_pos_sum`/`num_pos`, `h_neg_sum`/`num_neg`.

    `normalize` ("sigmoid", "kto"): h per token (length-normalized) and the loss divided by β, so that each rollout
    pushes its tokens' log q with a weight of at most 1/|y_i| (at the boundary ½), as a GRPO policy term with an
    advantage ≤ 1 does, whatever β, the completion length or the model; β then only sets where the loss saturates
    (the trust region). Without it the push grows with β and with |y_i|.
    """
    if name not in E_STEP_LOSSES:
        raise ValueError(f"Unknown E-step loss {name!r}; expected one of {E_STEP_LOSSES}.")
    if rows is not None:
        mask = mask * rows.to(mask.dtype).unsqueeze(1)
        advantages = advantages * rows.to(advantages.dtype)
    length_normalize = length_normalize or (normalize and name != "awr")
    h = implicit_reward(teacher_token_logps, ref_token_logps, mask, length_normalize)
    labels, trained = selected_labels(advantages, rows, rewards, success_threshold, negatives)
    weights = advantages.detach().float().abs() if use_weights else None
    h_detached = h.detach()
    if kl_terms is None:
        kl_terms = _token_kl_terms(teacher_token_logps.detach(), ref_token_logps)
    kl_mask = mask.to(torch.float32) != 0
    stats = {
        "h_pos": _masked_sample_mean(h_detached, labels > 0),
        "h_neg": _masked_sample_mean(h_detached, labels < 0),
        "kl": float(masked_mean(kl_terms, mask)),
        "num_labelled": float((trained != 0).sum()),
        "kl_sum": float(kl_terms[kl_mask].sum()),
        "kl_tokens": float(kl_mask.sum()),
        "h_pos_sum": float(h_detached[labels > 0].sum()),
        "num_pos": float((labels > 0).sum()),
        "h_neg_sum": float(h_detached[labels < 0].sum()),
        "num_neg": float((labels < 0).sum()),
    }
    if name == "sigmoid":
        loss = sigmoid_e_loss(h, trained, beta, delta, weights)
    elif name == "kto":
        z_ref = _sequence_kl(teacher_token_logps, ref_token_logps, mask, length_normalize)
        stats["z_ref"] = z_ref
        loss = kto_e_loss(h, trained, beta, z_ref, weights)
    else:  # already per token and weighted by the advantage itself
        awr_advantages = advantages if negatives else advantages.clamp(min=0.0)
        loss = awr_e_loss(teacher_token_logps, ref_token_logps, mask, awr_advantages, beta)
    if normalize and name != "awr":
        loss = loss / beta
    return loss, stats


def swapped_feedback_loss(
    teacher_token_logps: torch.Tensor,
    swapped_token_logps: torch.Tensor,
    mask: torch.Tensor,
    rows: torch.Tensor,
    beta: float,
    length_normalize: bool = False,
    normalizer: torch.Tensor | float | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """−log σ(β·g_i) summed over `rows` (B,) bool and divided by `normalizer` (default: their count), with the
    feedback gain g_i = log q(y_i | c_i) − log q(y_i | c̃_i): the teacher's log-likelihood of a success under its own
    critique c_i minus under another problem's critique c̃_i (the same prompt and template). Both sides carry the
    gradient, so solving the problem without the critique raises them alike and earns nothing: only reading the
    critique does. Returns (loss, g (B,) detached)."""
    own = sequence_logps(teacher_token_logps, mask, length_normalize)
    swapped = sequence_logps(swapped_token_logps, mask, length_normalize)
    gain = own - swapped
    loss = masked_mean(F.softplus(-beta * gain), rows, normalizer)
    return loss, gain.detach()
