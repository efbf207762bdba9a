"""M-step divergences: token-level distance between the student and the (detached) feedback-conditioned teacher.

Every function takes logits or log-probs already divided by the sampling temperature, computes in float32, and
detaches the teacher side, so gradients reach only the student (ALGORITHM.md, "M-step objective").
`alpha` follows SDPO's convention: 1.0 is reverse KL(student ‖ teacher) (mode-seeking, the VPD default), 0.0 is
forward KL(teacher ‖ student), anything in between the generalized Jensen-Shannon divergence.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch.utils.checkpoint import checkpoint

DISTILLATION_MODES = ("full", "topk", "sampled")

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


def _topk_with_tail(logits: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """Log-probs at `index` plus one bucket for the mass outside it, the bucket summed from the logits themselves:
    `log(1 - Σ top-k)` loses all precision when the top-k hold nearly all the mass, which they usually do."""
    log_z = torch.logsumexp(logits, dim=-1, keepdim=True)
    tail = torch.logsumexp(logits.scatter(-1, index, float("-inf")), dim=-1, keepdim=True)
    return torch.cat([logits.gather(-1, index), tail], dim=-1) - log_z


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
    if k < vocab and add_tail:
        return divergence(_topk_with_tail(student_logits, index), _topk_with_tail(teacher_logits, index), alpha)
    student_logp = student_logits.gather(-1, index) - torch.logsumexp(student_logits, dim=-1, keepdim=True)
    teacher_logp = teacher_logits.gather(-1, index) - torch.logsumexp(teacher_logits, dim=-1, keepdim=True)
    if k < vocab:
        student_logp, teacher_logp = _renormalized(student_logp), _renormalized(teacher_logp)
    return divergence(student_logp, teacher_logp, alpha)


@dataclass(frozen=True)
class OutputHead:
    """A model's LM head as tensors: logits = softcap·tanh(scale·(h Wᵀ + b) / softcap) (softcap optional)."""

    weight: torch.Tensor
    bias: torch.Tensor | None = None
    logit_scale: float = 1.0
    softcap: float | None = None

    def logits(self, hidden: torch.Tensor, temperature: float) -> torch.Tensor:
        """Tempered float32 logits of `hidden` (N, H) -> (N, V)."""
        logits = F.linear(hidden.to(self.weight.dtype), self.weight, self.bias).float() * self.logit_scale
        if self.softcap is not None:
            logits = self.softcap * torch.tanh(logits / self.softcap)
        return logits / temperature


def head_divergence(
    mode: str,
    student_hidden: torch.Tensor,
    teacher_hidden: torch.Tensor,
    student_head: OutputHead,
    teacher_head: OutputHead,
    *,
    alpha: float,
    temperature: float = 1.0,
    topk: int | None = None,
    add_tail: bool = True,
    chunk_tokens: int = 256,
) -> torch.Tensor:
    """Per-token "full" or "topk" D_alpha from final hidden states (N, H) -> (N,), never holding (N, V) logits.

    Positions are processed `chunk_tokens` at a time. "full" hands each chunk to TRL's `ChunkedDivergenceFunction`
    (vocabulary tiles, online logsumexp, same alpha convention; its tile buffers grow with the rows it is given).
    "topk" holds at most one chunk's logits at once: with a frozen student head (LoRA / QLoRA) the gradient with
    respect to the hidden states is taken in the forward (`_RowwiseLoss`: student and teacher projected once, no
    recompute), otherwise the chunk runs under activation checkpointing (recomputed in the backward). Gradients reach
    the student side only.
    """
    alpha = _check_alpha(alpha)
    if mode not in ("full", "topk"):
        raise ValueError(f"head_divergence computes 'full' or 'topk', got {mode!r}.")
    if mode == "topk" and topk is None:
        raise ValueError("Distillation mode 'topk' needs `topk` (the support size).")
    if chunk_tokens < 1:
        raise ValueError(f"chunk_tokens must be ≥ 1, got {chunk_tokens}.")
    teacher_hidden = teacher_hidden.detach()
    # The teacher's head needs no `.detach()`: top-k projects it under no_grad and TRL's kernel returns no teacher
    # gradient. Detaching would drop the `ds_status` by which that kernel recognizes an already gathered ZeRO-3 weight.

    def full_chunk(h_s, h_t):
        from trl.kernels.chunked_divergence import ChunkedDivergenceFunction

        s, t = student_head, teacher_head
        return ChunkedDivergenceFunction.apply(
            h_s, s.weight, s.bias, h_t, t.weight, t.bias, alpha, temperature, s.logit_scale, s.softcap,
            t.logit_scale, t.softcap,
        )[0]  # fmt: skip

    def topk_chunk(h_s, h_t):
        with torch.no_grad():
            teacher_logits = teacher_head.logits(h_t, temperature)
        student_logits = student_head.logits(h_s, temperature)
        return topk_divergence(student_logits, teacher_logits, topk, alpha, add_tail=add_tail)

    needs_grad = torch.is_grad_enabled() and (student_hidden.requires_grad or student_head.weight.requires_grad)
    head_frozen = not student_head.weight.requires_grad and (
        student_head.bias is None or not student_head.bias.requires_grad
    )
    chunks = []
    for start in range(0, student_hidden.size(0), chunk_tokens):
        h_s = student_hidden[start : start + chunk_tokens]
        h_t = teacher_hidden[start : start + chunk_tokens]
        if mode == "full":
            chunks.append(full_chunk(h_s, h_t))
        elif needs_grad and head_frozen:  # LoRA / QLoRA: the head is frozen, only the hidden states need a gradient
            chunks.append(_RowwiseLoss.apply(h_s, h_t, topk_chunk))
        elif needs_grad:
            chunks.append(checkpoint(topk_chunk, h_s, h_t, use_reentrant=False))
        else:
            chunks.append(topk_chunk(h_s, h_t))
    if not chunks:
        return student_hidden.sum(-1).float() * 0.0  # (0,), still attached to the graph
    return torch.cat(chunks)


class _RowwiseLoss(torch.autograd.Function):
    """Per-row losses whose gradient with respect to the rows is taken in the forward, so nothing of the (rows, V)
    logits is kept or recomputed: valid because row i's loss depends on row i alone and no other input needs a
    gradient (a frozen LM head). The backward only scales each stored row gradient by its incoming gradient."""

    @staticmethod
    def forward(ctx, rows, other, row_loss):
        with torch.enable_grad():
            leaf = rows.detach().requires_grad_(True)
            loss = row_loss(leaf, other)
            (grad,) = torch.autograd.grad(loss.sum(), leaf)
        ctx.save_for_backward(grad)
        return loss.detach()

    @staticmethod
    def backward(ctx, grad_output):
        (grad,) = ctx.saved_tensors
        return grad * grad_output.unsqueeze(-1).to(grad.dtype), None, None


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
