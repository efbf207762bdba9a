"""The top-k / full M-step computed from hidden states and the LM head, a chunk of positions at a time, must equal the
same divergence on materialized logits (values and gradients), and must never hold more than one chunk's logits."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode

from trl_vpd.losses import OutputHead, full_vocab_divergence, head_divergence, topk_divergence

N, H, V = 23, 8, 40


def _np_log_softmax(x):
    x = np.asarray(x, dtype=np.float64)
    x = x - x.max(-1, keepdims=True)
    return x - np.log(np.exp(x).sum(-1, keepdims=True))


def _inputs(seed=0, softcap=None, scale=1.0, frozen_head=False):
    """Hidden states and heads; `frozen_head` is the LoRA case (only the hidden states need a gradient)."""
    g = torch.Generator().manual_seed(seed)
    student_head = OutputHead(
        torch.randn(V, H, generator=g, requires_grad=not frozen_head), torch.randn(V, generator=g), scale, softcap
    )
    teacher_head = OutputHead(torch.randn(V, H, generator=g), None, scale, softcap)
    h_s = torch.randn(N, H, generator=g, requires_grad=True)
    h_t = torch.randn(N, H, generator=g)
    return h_s, h_t, student_head, teacher_head


def _materialized(mode, h_s, h_t, s_head, t_head, alpha, temperature, topk):
    s_logits, t_logits = s_head.logits(h_s, temperature), t_head.logits(h_t, temperature)
    if mode == "full":
        return full_vocab_divergence(s_logits, t_logits, alpha)
    return topk_divergence(s_logits, t_logits, topk, alpha)


def test_output_head_logits_follow_the_formula():
    h_s, _, head, _ = _inputs(softcap=3.0, scale=0.5)
    expected = (h_s.detach().double() @ head.weight.detach().double().T + head.bias.double()) * 0.5
    expected = 3.0 * torch.tanh(expected / 3.0) / 0.7
    torch.testing.assert_close(head.logits(h_s, 0.7).double(), expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("mode", ["full", "topk"])
@pytest.mark.parametrize("alpha", [0.0, 0.5, 1.0])
@pytest.mark.parametrize("softcap", [None, 4.0])
@pytest.mark.parametrize("frozen_head", [False, True])
def test_chunked_divergence_equals_the_materialized_one(mode, alpha, softcap, frozen_head):
    h_s, h_t, s_head, t_head = _inputs(softcap=softcap, scale=1.3, frozen_head=frozen_head)
    chunked = head_divergence(
        mode, h_s, h_t, s_head, t_head, alpha=alpha, temperature=0.7, topk=6, chunk_tokens=5
    )
    reference = _materialized(mode, h_s, h_t, s_head, t_head, alpha, 0.7, 6)
    torch.testing.assert_close(chunked, reference, rtol=1e-4, atol=1e-5)
    weights = [h_s] if frozen_head else [h_s, s_head.weight]
    # a non-uniform outer gradient: the row-wise path must scale each row by its own incoming gradient
    outer = torch.linspace(-1.0, 2.0, N)
    grads = torch.autograd.grad(chunked, weights, grad_outputs=outer)
    expected = torch.autograd.grad(reference, weights, grad_outputs=outer)
    for got, want in zip(grads, expected, strict=True):
        torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-5)


def test_full_head_divergence_matches_numpy_reverse_kl():
    h_s, h_t, s_head, t_head = _inputs(seed=3)
    out = head_divergence("full", h_s, h_t, s_head, t_head, alpha=1.0, temperature=1.0).detach().numpy()
    ls = _np_log_softmax(h_s.detach().numpy() @ s_head.weight.detach().numpy().T + s_head.bias.numpy())
    lt = _np_log_softmax(h_t.numpy() @ t_head.weight.numpy().T)
    expected = (np.exp(ls) * (ls - lt)).sum(-1)
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("mode", ["full", "topk"])
def test_no_gradient_reaches_the_teacher(mode):
    h_s, h_t, s_head, _ = _inputs()
    h_t.requires_grad_(True)
    teacher_head = OutputHead(torch.randn(V, H, requires_grad=True))
    out = head_divergence(mode, h_s, h_t, s_head, teacher_head, alpha=0.5, topk=6, chunk_tokens=4)
    out.sum().backward()
    assert h_s.grad is not None and h_s.grad.abs().sum() > 0
    assert h_t.grad is None and teacher_head.weight.grad is None


def test_empty_selection_gives_an_attached_empty_result():
    h_s, h_t, s_head, t_head = _inputs()
    out = head_divergence("topk", h_s[:0], h_t[:0], s_head, t_head, alpha=1.0, topk=6)
    assert out.shape == (0,) and out.requires_grad
    out.sum().backward()  # no error: the (empty) graph is connected
    assert h_s.grad is not None and h_s.grad.abs().sum() == 0


class _LargestVocabRows(TorchDispatchMode):
    """Records the most rows of any new tensor (not a view of an input) an op produces whose last dimension is at least
    the vocabulary (logits, or TRL's vocabulary tiles)."""

    def __init__(self, vocab):
        super().__init__()
        self.vocab, self.rows = vocab, 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        inputs = torch.utils._pytree.tree_leaves((args, kwargs))
        shared = {x.untyped_storage().data_ptr() for x in inputs if isinstance(x, torch.Tensor)}
        for t in out if isinstance(out, (tuple, list)) else [out]:
            if not isinstance(t, torch.Tensor) or t.untyped_storage().data_ptr() in shared:
                continue
            if t.dim() >= 2 and t.shape[-1] >= self.vocab:
                self.rows = max(self.rows, math.prod(t.shape[:-1]))
        return out


@pytest.mark.parametrize("mode, frozen_head", [("topk", False), ("topk", True), ("full", False)])
@pytest.mark.parametrize("chunk_tokens, max_rows", [(4, 4), (64, N)])  # the second row is the detector's control
def test_never_more_than_one_chunk_of_logits(mode, frozen_head, chunk_tokens, max_rows):
    h_s, h_t, s_head, t_head = _inputs(frozen_head=frozen_head)
    with _LargestVocabRows(V) as probe:
        out = head_divergence(mode, h_s, h_t, s_head, t_head, alpha=1.0, topk=6, chunk_tokens=chunk_tokens)
        out.sum().backward()
    assert probe.rows == max_rows


def test_invalid_arguments_are_rejected():
    h_s, h_t, s_head, t_head = _inputs()
    with pytest.raises(ValueError, match="topk"):
        head_divergence("topk", h_s, h_t, s_head, t_head, alpha=1.0)
    with pytest.raises(ValueError, match="chunk_tokens"):
        head_divergence("topk", h_s, h_t, s_head, t_head, alpha=1.0, topk=3, chunk_tokens=0)
    with pytest.raises(ValueError, match="'full' or 'topk'"):
        head_divergence("sampled", h_s, h_t, s_head, t_head, alpha=1.0)
    with pytest.raises(ValueError, match="alpha"):
        head_divergence("full", h_s, h_t, s_head, t_head, alpha=1.5)


@pytest.mark.parametrize("frozen_head, projections_per_chunk", [(True, 2), (False, 4)])
def test_frozen_head_topk_is_not_recomputed_in_backward(monkeypatch, frozen_head, projections_per_chunk):
    """LoRA/QLoRA (frozen head): student + teacher projection once per chunk; a trainable head pays the checkpoint
    recompute of both in the backward."""
    h_s, h_t, s_head, t_head = _inputs(frozen_head=frozen_head)
    calls = []
    original = OutputHead.logits
    monkeypatch.setattr(OutputHead, "logits", lambda self, h, t: calls.append(1) or original(self, h, t))
    out = head_divergence("topk", h_s, h_t, s_head, t_head, alpha=1.0, topk=6, chunk_tokens=8)
    out.sum().backward()
    assert len(calls) == projections_per_chunk * math.ceil(N / 8)
    assert h_s.grad is not None and h_s.grad.abs().sum() > 0
