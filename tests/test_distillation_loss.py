"""M-step divergences checked against values written from the formulas with numpy, never by the code under test."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from trl_vpd.losses import (
    DISTILLATION_MODES,
    divergence,
    full_vocab_divergence,
    masked_mean,
    per_token_distillation,
    sampled_token_divergence,
    sampled_token_kl,
    topk_divergence,
)

ALPHAS = [0.0, 0.3, 0.5, 1.0]


def np_kl(p, q):
    p, q = np.asarray(p, dtype=np.float64), np.asarray(q, dtype=np.float64)
    return float(np.sum(p * (np.log(p) - np.log(q))))


def np_divergence(p_s, p_t, alpha):
    """D_alpha from probabilities: reverse KL, forward KL, or the generalized JSD with m = (1-α)s + αt."""
    p_s, p_t = np.asarray(p_s, dtype=np.float64), np.asarray(p_t, dtype=np.float64)
    if alpha == 1.0:
        return np_kl(p_s, p_t)
    if alpha == 0.0:
        return np_kl(p_t, p_s)
    m = (1 - alpha) * p_s + alpha * p_t
    return (1 - alpha) * np_kl(p_s, m) + alpha * np_kl(p_t, m)


def np_softmax(x):
    x = np.asarray(x, dtype=np.float64)
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def logp(probs):
    return torch.tensor(probs, dtype=torch.float64).log()


P_S = [0.7, 0.2, 0.1]
P_T = [0.3, 0.3, 0.4]

STUDENT_LOGITS = [[[2.0, 0.5, -1.0, 0.1], [0.0, 1.0, 3.0, -2.0]], [[1.0, 0.9, 0.0, -0.5], [-1.0, 0.2, 0.3, 2.5]]]
TEACHER_LOGITS = [[[0.0, 1.5, -0.5, 0.5], [1.0, 0.0, 2.0, 0.3]], [[2.0, -1.0, 0.5, 0.0], [0.5, 0.5, -1.0, 1.0]]]


# ---------------------------------------------------------------------------------------------------- divergence


def test_reverse_kl_literal_value():
    # KL([.5,.5] || [.25,.75]) = .5 ln 2 + .5 ln(2/3)
    got = divergence(logp([0.5, 0.5]), logp([0.25, 0.75]), 1.0)
    assert got.item() == pytest.approx(0.5 * math.log(2) + 0.5 * math.log(2 / 3), abs=1e-6)


def test_forward_kl_literal_value():
    # KL([.25,.75] || [.5,.5]) = .25 ln .5 + .75 ln 1.5
    got = divergence(logp([0.5, 0.5]), logp([0.25, 0.75]), 0.0)
    assert got.item() == pytest.approx(0.25 * math.log(0.5) + 0.75 * math.log(1.5), abs=1e-6)


def test_jsd_half_literal_value():
    # alpha=.5 is the ordinary JSD: m = [.375, .625]
    m = [0.375, 0.625]
    expected = 0.5 * (0.5 * math.log(0.5 / m[0]) + 0.5 * math.log(0.5 / m[1])) + 0.5 * (
        0.25 * math.log(0.25 / m[0]) + 0.75 * math.log(0.75 / m[1])
    )
    got = divergence(logp([0.5, 0.5]), logp([0.25, 0.75]), 0.5)
    assert got.item() == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize("alpha", ALPHAS)
def test_divergence_matches_formula(alpha):
    got = divergence(logp(P_S), logp(P_T), alpha)
    assert got.dtype == torch.float32
    assert got.item() == pytest.approx(np_divergence(P_S, P_T, alpha), abs=1e-6)


@pytest.mark.parametrize("alpha", ALPHAS)
def test_divergence_zero_for_equal_distributions(alpha):
    assert divergence(logp(P_S), logp(P_S), alpha).item() == pytest.approx(0.0, abs=1e-7)


def test_divergence_sums_over_last_dim_only():
    s = torch.stack([logp(P_S), logp(P_T)]).unsqueeze(0)  # (1, 2, 3)
    t = torch.stack([logp(P_T), logp(P_S)]).unsqueeze(0)
    got = divergence(s, t, 1.0)
    assert got.shape == (1, 2)
    assert got[0, 0].item() == pytest.approx(np_kl(P_S, P_T), abs=1e-6)
    assert got[0, 1].item() == pytest.approx(np_kl(P_T, P_S), abs=1e-6)


@pytest.mark.parametrize("alpha", [-0.1, 1.5, float("nan")])
def test_divergence_rejects_alpha_outside_unit_interval(alpha):
    with pytest.raises(ValueError, match="alpha"):
        divergence(logp(P_S), logp(P_T), alpha)


@pytest.mark.parametrize("alpha", ALPHAS)
def test_zero_mass_tokens_add_nothing(alpha):
    # A token impossible under both sides (e.g. a padded vocab slot) contributes 0, not NaN.
    s = torch.tensor([0.7, 0.3, 0.0]).log()
    t = torch.tensor([0.4, 0.6, 0.0]).log()
    got = divergence(s, t, alpha)
    assert got.item() == pytest.approx(np_divergence([0.7, 0.3], [0.4, 0.6], alpha), abs=1e-6)


# ---------------------------------------------------------------------------------------------------- full vocab


@pytest.mark.parametrize("alpha", ALPHAS)
def test_full_vocab_divergence_matches_formula(alpha):
    s, t = torch.tensor(STUDENT_LOGITS), torch.tensor(TEACHER_LOGITS)
    got = full_vocab_divergence(s, t, alpha)
    assert got.shape == (2, 2)
    p_s, p_t = np_softmax(STUDENT_LOGITS), np_softmax(TEACHER_LOGITS)
    for b in range(2):
        for i in range(2):
            assert got[b, i].item() == pytest.approx(np_divergence(p_s[b, i], p_t[b, i], alpha), abs=1e-6)


def test_full_vocab_reverse_kl_gradient_is_analytic():
    # d KL(softmax(θ) || q) / dθ_j = p_j (log p_j - log q_j - KL)
    theta = torch.tensor([1.0, -0.5, 0.3], requires_grad=True)
    q_logits = [0.2, 0.8, -1.0]
    full_vocab_divergence(theta, torch.tensor(q_logits), 1.0).backward()
    p, q = np_softmax([1.0, -0.5, 0.3]), np_softmax(q_logits)
    kl = np_kl(p, q)
    expected = p * (np.log(p) - np.log(q) - kl)
    np.testing.assert_allclose(theta.grad.numpy(), expected, atol=1e-6)


def test_half_precision_inputs_are_computed_in_float32():
    s = torch.tensor(STUDENT_LOGITS, dtype=torch.bfloat16)
    t = torch.tensor(TEACHER_LOGITS, dtype=torch.bfloat16)
    assert full_vocab_divergence(s, t, 1.0).dtype == torch.float32


# ---------------------------------------------------------------------------------------------------- top-k


def np_topk_divergence(student_logits, teacher_logits, k, alpha, add_tail):
    p_s, p_t = np_softmax(student_logits), np_softmax(teacher_logits)
    ids = np.argsort(-np.asarray(student_logits))[:k]
    s, t = p_s[ids], p_t[ids]
    if add_tail:
        s, t = np.append(s, 1 - s.sum()), np.append(t, 1 - t.sum())
    else:
        s, t = s / s.sum(), t / t.sum()
    return np_divergence(s, t, alpha)


@pytest.mark.parametrize("alpha", ALPHAS)
@pytest.mark.parametrize(("k", "add_tail"), [(1, True), (2, True), (3, True), (2, False), (3, False)])
def test_topk_divergence_matches_formula(alpha, add_tail, k):
    got = topk_divergence(torch.tensor(STUDENT_LOGITS), torch.tensor(TEACHER_LOGITS), k, alpha, add_tail=add_tail)
    assert got.shape == (2, 2)
    for b in range(2):
        for i in range(2):
            expected = np_topk_divergence(STUDENT_LOGITS[b][i], TEACHER_LOGITS[b][i], k, alpha, add_tail)
            assert got[b, i].item() == pytest.approx(expected, abs=1e-5)


def test_topk_single_token_without_tail_is_zero():
    got = topk_divergence(torch.tensor(STUDENT_LOGITS), torch.tensor(TEACHER_LOGITS), 1, 1.0, add_tail=False)
    assert torch.allclose(got, torch.zeros(2, 2), atol=1e-7)


def test_topk_support_is_the_students_top_k():
    # Teacher puts its mass on token 3, which is outside the student's top-2 = {0, 1}: with a tail bucket that mass
    # shows up in the tail; the support is never chosen by the teacher.
    s = torch.tensor([3.0, 2.0, 0.0, -1.0])
    t = torch.tensor([0.0, 0.0, 0.0, 5.0])
    got = topk_divergence(s, t, 2, 1.0, add_tail=True)
    assert got.item() == pytest.approx(np_topk_divergence(s.tolist(), t.tolist(), 2, 1.0, True), abs=1e-5)


@pytest.mark.parametrize("alpha", ALPHAS)
@pytest.mark.parametrize("add_tail", [True, False])
@pytest.mark.parametrize("k", [4, 10])
def test_topk_covering_vocab_equals_full(alpha, add_tail, k):
    s, t = torch.tensor(STUDENT_LOGITS), torch.tensor(TEACHER_LOGITS)
    got = topk_divergence(s, t, k, alpha, add_tail=add_tail)
    torch.testing.assert_close(got, full_vocab_divergence(s, t, alpha), atol=1e-6, rtol=1e-6)


def test_topk_tail_bucket_is_finite_when_top_k_holds_all_mass():
    s = torch.tensor([[30.0, 29.0, -30.0, -31.0]], requires_grad=True)
    t = torch.tensor([[29.0, 30.0, -30.0, -30.0]])
    got = topk_divergence(s, t, 2, 1.0, add_tail=True)
    assert torch.isfinite(got).all()
    p_s, p_t = np_softmax(s.detach().numpy()[0]), np_softmax(t.numpy()[0])
    assert got.item() == pytest.approx(np_kl(p_s[:2] / p_s[:2].sum(), p_t[:2] / p_t[:2].sum()), abs=1e-5)
    got.sum().backward()
    assert torch.isfinite(s.grad).all()


def test_topk_rejects_non_positive_k():
    with pytest.raises(ValueError, match="topk"):
        topk_divergence(torch.tensor(STUDENT_LOGITS), torch.tensor(TEACHER_LOGITS), 0, 1.0)


# ---------------------------------------------------------------------------------------------------- sampled token


def test_sampled_token_values():
    s = torch.tensor([[-0.5, -1.2], [-2.0, -0.1]])
    t = torch.tensor([[-1.0, -0.2], [-2.0, -3.0]])
    expected = [[(-0.5 + 1.0) * -0.5, (-1.2 + 0.2) * -1.2], [0.0, (-0.1 + 3.0) * -0.1]]
    torch.testing.assert_close(sampled_token_divergence(s, t), torch.tensor(expected))
    torch.testing.assert_close(sampled_token_kl(s, t), torch.tensor([[0.5, -1.0], [0.0, 2.9]]))


def test_sampled_token_gradient_is_score_function_estimator():
    s = torch.tensor([-0.5, -1.2], requires_grad=True)
    t = torch.tensor([-1.0, -0.2], requires_grad=True)
    sampled_token_divergence(s, t).sum().backward()
    # d/ds [(s - t).detach() * s] = s - t
    torch.testing.assert_close(s.grad, torch.tensor([0.5, -1.0]))
    assert t.grad is None


def test_sampled_token_surrogate_is_unbiased_for_reverse_kl_gradient():
    # Exact expectation over student samples: Σ_y p(y) ∇[(s_y - t_y).detach() s_y] = ∇ KL(p || q).
    theta_values, q_logits = [0.4, -1.0, 1.3], [1.0, 0.0, -0.5]
    theta = torch.tensor(theta_values, requires_grad=True)
    student_logp = torch.log_softmax(theta, -1)
    teacher_logp = torch.log_softmax(torch.tensor(q_logits), -1)
    surrogate = sampled_token_divergence(student_logp, teacher_logp)
    (student_logp.exp().detach() * surrogate).sum().backward()
    p, q = np_softmax(theta_values), np_softmax(q_logits)
    expected = p * (np.log(p) - np.log(q) - np_kl(p, q))
    np.testing.assert_allclose(theta.grad.numpy(), expected, atol=1e-6)


def test_sampled_token_kl_is_detached():
    s = torch.tensor([-0.5], requires_grad=True)
    assert not sampled_token_kl(s, torch.tensor([-1.0])).requires_grad


# ---------------------------------------------------------------------------------------------------- gradients


@pytest.mark.parametrize("alpha", ALPHAS)
@pytest.mark.parametrize("mode", ["full", "topk"])
def test_gradient_reaches_only_the_student(alpha, mode):
    s = torch.tensor(STUDENT_LOGITS, requires_grad=True)
    t = torch.tensor(TEACHER_LOGITS, requires_grad=True)
    loss = per_token_distillation(mode, alpha=alpha, student_logits=s, teacher_logits=t, topk=2)
    loss.sum().backward()
    assert s.grad is not None and s.grad.abs().sum() > 0
    assert t.grad is None


def test_sampled_mode_gradient_reaches_only_the_student():
    s = torch.tensor([[-0.5, -1.2]], requires_grad=True)
    t = torch.tensor([[-1.0, -0.2]], requires_grad=True)
    per_token_distillation("sampled", alpha=1.0, student_logps=s, teacher_logps=t).sum().backward()
    assert s.grad is not None and s.grad.abs().sum() > 0
    assert t.grad is None


# ---------------------------------------------------------------------------------------------------- masked mean


def test_masked_mean_values():
    values = torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, float("nan")]])
    mask = torch.tensor([[1, 1, 0], [1, 0, 0]])
    assert masked_mean(values, mask).item() == pytest.approx(7.0 / 3.0)
    assert masked_mean(values, mask.bool()).item() == pytest.approx(7.0 / 3.0)
    assert masked_mean(values, mask, normalizer=10).item() == pytest.approx(0.7)
    assert masked_mean(values, mask, normalizer=0.5).item() == pytest.approx(7.0)  # clamped to 1


def test_masked_mean_empty_mask_is_zero_with_graph():
    values = torch.tensor([[1.0, float("inf")]], requires_grad=True)
    out = masked_mean(values, torch.zeros(1, 2))
    assert out.item() == 0.0
    assert out.requires_grad
    out.backward()
    torch.testing.assert_close(values.grad, torch.zeros(1, 2))


def test_masked_mean_gradient_only_on_masked_tokens():
    values = torch.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    masked_mean(values, torch.tensor([1, 0, 1, 0])).backward()
    torch.testing.assert_close(values.grad, torch.tensor([0.5, 0.0, 0.5, 0.0]))


def test_masked_mean_of_per_token_loss():
    s, t = torch.tensor(STUDENT_LOGITS), torch.tensor(TEACHER_LOGITS)
    per_token = per_token_distillation("full", alpha=1.0, student_logits=s, teacher_logits=t)
    mask = torch.tensor([[1, 0], [1, 1]])
    p_s, p_t = np_softmax(STUDENT_LOGITS), np_softmax(TEACHER_LOGITS)
    expected = (np_kl(p_s[0, 0], p_t[0, 0]) + np_kl(p_s[1, 0], p_t[1, 0]) + np_kl(p_s[1, 1], p_t[1, 1])) / 3
    assert masked_mean(per_token, mask).item() == pytest.approx(expected, abs=1e-6)


# ---------------------------------------------------------------------------------------------------- dispatcher


def test_dispatcher_modes_and_results():
    assert DISTILLATION_MODES == ("full", "topk", "sampled")
    s, t = torch.tensor(STUDENT_LOGITS), torch.tensor(TEACHER_LOGITS)
    torch.testing.assert_close(
        per_token_distillation("full", alpha=0.5, student_logits=s, teacher_logits=t),
        full_vocab_divergence(s, t, 0.5),
    )
    torch.testing.assert_close(
        per_token_distillation("topk", alpha=0.5, student_logits=s, teacher_logits=t, topk=2, add_tail=False),
        topk_divergence(s, t, 2, 0.5, add_tail=False),
    )


def test_dispatcher_errors():
    s, t = torch.tensor(STUDENT_LOGITS), torch.tensor(TEACHER_LOGITS)
    lp = torch.zeros(2, 2)
    with pytest.raises(ValueError, match="Unknown distillation mode"):
        per_token_distillation("bogus", alpha=1.0, student_logits=s, teacher_logits=t)
    with pytest.raises(ValueError, match="teacher_logits"):
        per_token_distillation("full", alpha=1.0, student_logits=s)
    with pytest.raises(ValueError, match="topk"):
        per_token_distillation("topk", alpha=1.0, student_logits=s, teacher_logits=t)
    with pytest.raises(ValueError, match="student_logps"):
        per_token_distillation("sampled", alpha=1.0, teacher_logps=lp)
    with pytest.raises(ValueError, match="reverse KL"):
        per_token_distillation("sampled", alpha=0.5, student_logps=lp, teacher_logps=lp)
    with pytest.raises(ValueError, match="alpha"):
        per_token_distillation("full", alpha=2.0, student_logits=s, teacher_logits=t)
