"""M-step divergences: token-level distance between the student and the (detached) feedback-conditioned teacher.

Every function takes logits or log-probs already divided by the sampling temperature, computes in float32, and
detaches the teacher side, so gradients reach only the student (ALGORITHM.md, "M-step objective").
`alpha` follows SDPO's convention: 1.0 is reverse KL(student ‖ teacher) (mode-seeking, the VPD default), 0.0 is
forward KL(teacher ‖ student), anything in between the generalized Jensen-Shannon divergence.
"""

from __future__ import annotations

import math

import torch

DISTILLATION_MODES = ("full", "topk", "sampled")

# Top-k log-mass closer to 0 than this is not resolvable in float32; the tail bucket is floored at this mass.
_MIN_TAIL_MASS = 1e-7
_LOG_FLOOR = torch.finfo(torch.float32).min


def _check_alpha(alpha: float) -> float:
    """Reject an `alpha` outside [0, 1] early, with the meaning of its ends in the message."""
    alpha = float(alpha)
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(
            f"alpha must lie in [0, 1] (1 = reverse KL, 0 = forward KL, in between = generalized JSD), got {alpha}."
        )
    return alpha


def _kl(log_p: torch.Tensor, log_q: torch.Tensor) -> torch.Tensor:
    """KL(p ‖ q) over the last dim; `-inf` log-probs are floored so that zero-mass entries add 0, not NaN."""
    log_p = log_p.clamp(min=_LOG_FLOOR)
    log_q = log_q.clamp(min=_LOG_FLOOR)
    return (log_p.exp() * (log_p - log_q)).sum(-1)


def divergence(student_logp: torch.Tensor, teacher_logp: torch.Tensor, alpha: float) -> torch.Tensor:
    """D_alpha between two normalized log-prob tensors, summed over the last (support) dim.

    alpha=1: KL(s ‖ t); alpha=0: KL(t ‖ s); otherwise (1-α)·KL(s ‖ m) + α·KL(t ‖ m) with m = (1-α)·s + α·t, the
    mixture computed as a logsumexp so that it stays exact in log space.
    """
    alpha = _check_alpha(alpha)
    student_logp = student_logp.float()
    teacher_logp = teacher_logp.detach().float()
    if alpha == 1.0:
        return _kl(student_logp, teacher_logp)
    if alpha == 0.0:
        return _kl(teacher_logp, student_logp)
    mixture = torch.logsumexp(
        torch.stack([student_logp + math.log(1.0 - alpha), teacher_logp + math.log(alpha)]), dim=0
    )
    return (1.0 - alpha) * _kl(student_logp, mixture) + alpha * _kl(teacher_logp, mixture)


def full_vocab_divergence(student_logits: torch.Tensor, teacher_logits: torch.Tensor, alpha: float) -> torch.Tensor:
    """Per-token D_alpha over the whole vocabulary: logits (B, T, V) -> (B, T)."""
    student_logp = torch.log_softmax(student_logits.float(), dim=-1)
    teacher_logp = torch.log_softmax(teacher_logits.detach().float(), dim=-1)
    return divergence(student_logp, teacher_logp, alpha)


def _log1mexp(log_x: torch.Tensor) -> torch.Tensor:
    """log(1 - exp(log_x)) for log_x < 0, accurate on both sides of -log 2 (Mächler's log1mexp)."""
    log_x = log_x.clamp(max=math.log1p(-_MIN_TAIL_MASS))
    return torch.where(log_x > -math.log(2.0), torch.log(-torch.expm1(log_x)), torch.log1p(-torch.exp(log_x)))


def _with_tail(topk_logp: torch.Tensor) -> torch.Tensor:
    """Append one bucket holding the mass outside the top-k, so the support sums to 1."""
    captured = torch.logsumexp(topk_logp, dim=-1, keepdim=True)
    return torch.cat([topk_logp, _log1mexp(captured)], dim=-1)


def _renormalized(topk_logp: torch.Tensor) -> torch.Tensor:
    """Condition a top-k log-prob slice on the top-k set itself."""
    return topk_logp - torch.logsumexp(topk_logp, dim=-1, keepdim=True)


def topk_divergence(
    student_logits: torch.Tensor,
    teacher_logits: torch.Tensor,
    k: int,
    alpha: float,
    add_tail: bool = True,
) -> torch.Tensor:
    """Per-token D_alpha on the student's top-k tokens: logits (B, T, V) -> (B, T).

    Both sides are log-probs under the full vocabulary (logit - logsumexp), gathered at the student's top-k ids (a
    detached selection), so only (B, T, k) slices are materialized. With `add_tail` the leftover mass of each side
    becomes one extra bucket (approximating the full-vocabulary divergence); without it both sides are renormalized
    over the top-k. When k covers the vocabulary this is the full-vocabulary divergence.
    """
    if int(k) < 1:
        raise ValueError(f"topk must be a positive integer, got {k}.")
    student_logits = student_logits.float()
    teacher_logits = teacher_logits.detach().float()
    vocab = student_logits.shape[-1]
    k = min(int(k), vocab)
    index = torch.topk(student_logits.detach(), k=k, dim=-1).indices
    student_logp = student_logits.gather(-1, index) - torch.logsumexp(student_logits, dim=-1, keepdim=True)
    teacher_logp = teacher_logits.gather(-1, index) - torch.logsumexp(teacher_logits, dim=-1, keepdim=True)
    if k < vocab:
        if add_tail:
            student_logp, teacher_logp = _with_tail(student_logp), _with_tail(teacher_logp)
        else:
            student_logp, teacher_logp = _renormalized(student_logp), _renormalized(teacher_logp)
    return divergence(student_logp, teacher_logp, alpha)


def sampled_token_divergence(student_logps: torch.Tensor, teacher_logps: torch.Tensor) -> torch.Tensor:
    """REINFORCE surrogate (s - t).detach() · s on the realized tokens, (B, T) -> (B, T).

    Its value is not the KL, but its gradient under student sampling is the score-function estimator of
    ∇ KL(student ‖ teacher): E_s[(log s - log t) ∇log s] (the E_s[∇log s] term vanishes).
    """
    student_logps = student_logps.float()
    log_ratio = (student_logps - teacher_logps.float()).detach()
    return log_ratio * student_logps


def sampled_token_kl(student_logps: torch.Tensor, teacher_logps: torch.Tensor) -> torch.Tensor:
    """Detached per-token log-ratio s - t on student samples: an unbiased estimate of reverse KL, for logging."""
    return (student_logps.float() - teacher_logps.float()).detach()


def masked_mean(
    values: torch.Tensor, mask: torch.Tensor, normalizer: torch.Tensor | float | None = None
) -> torch.Tensor:
    """Σ values·mask / (normalizer or Σ mask), denominator clamped to ≥ 1.

    Masked-out entries are selected away (not multiplied), so NaN/inf there cannot leak; an empty mask gives a 0 that
    is still attached to the graph, so `backward()` works on every process.
    """
    mask = mask.to(values.dtype)
    weighted = torch.where(mask != 0, values * mask, 0.0)
    denominator = mask.sum() if normalizer is None else normalizer
    denominator = torch.as_tensor(denominator, dtype=weighted.dtype, device=weighted.device).clamp(min=1.0)
    return weighted.sum() / denominator


def per_token_distillation(
    mode: str,
    *,
    alpha: float,
    student_logits: torch.Tensor | None = None,
    teacher_logits: torch.Tensor | None = None,
    student_logps: torch.Tensor | None = None,
    teacher_logps: torch.Tensor | None = None,
    topk: int | None = None,
    add_tail: bool = True,
) -> torch.Tensor:
    """Per-token M-step loss (B, T) for one of `DISTILLATION_MODES`, checking that the inputs it needs were given.

    "full" and "topk" take logits (B, T, V); "sampled" takes the realized tokens' log-probs (B, T) and supports only
    reverse KL (alpha=1), the one divergence with an unbiased single-sample estimator.
    """
    alpha = _check_alpha(alpha)
    if mode not in DISTILLATION_MODES:
        raise ValueError(f"Unknown distillation mode {mode!r}; expected one of {DISTILLATION_MODES}.")
    if mode == "sampled":
        if alpha != 1.0:
            raise ValueError(f"Sampled-token distillation supports only reverse KL (alpha=1.0), got alpha={alpha}.")
        if student_logps is None or teacher_logps is None:
            raise ValueError("Sampled-token distillation needs `student_logps` and `teacher_logps` (B, T).")
        return sampled_token_divergence(student_logps, teacher_logps)
    if student_logits is None or teacher_logits is None:
        raise ValueError(f"Distillation mode {mode!r} needs `student_logits` and `teacher_logits` (B, T, V).")
    if mode == "full":
        return full_vocab_divergence(student_logits, teacher_logits, alpha)
    if topk is None:
        raise ValueError("Distillation mode 'topk' needs `topk` (the support size).")
    return topk_divergence(student_logits, teacher_logits, topk, alpha, add_tail=add_tail)
