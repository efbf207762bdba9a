"""E-step objectives checked against values written from the formulas with math/numpy."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from trl_vpd.losses import (
    E_STEP_LOSSES,
    awr_e_loss,
    e_step_loss,
    implicit_reward,
    kto_e_loss,
    outcome_labels,
    sequence_logps,
    sigmoid_e_loss,
    swapped_feedback_loss,
    token_kl,
)


def softplus(x):
    return math.log1p(math.exp(x))


def sigmoid(x):
    return 1.0 / (1.0 + math.exp(-x))


def k3(t, r):
    ratio = math.exp(t - r)
    return ratio * (t - r) - (ratio - 1.0)


TEACHER = [[-0.5, -1.0, -2.0], [-0.1, -0.3, -9.0], [-1.5, -0.7, -0.2]]
REF = [[-0.7, -0.8, -1.0], [-0.4, -0.2, -3.0], [-1.0, -1.0, -1.0]]
MASK = [[1, 1, 0], [1, 1, 1], [1, 0, 0]]
ADVANTAGES = [0.8, -1.2, 0.0]


def seq(values, mask, normalize=False):
    total = sum(v for v, m in zip(values, mask) if m)
    return total / max(sum(mask), 1) if normalize else total


def expected_h(normalize=False):
    return [seq(t, m, normalize) - seq(r, m, normalize) for t, r, m in zip(TEACHER, REF, MASK)]


def tensors(requires_grad=True):
    teacher = torch.tensor(TEACHER, requires_grad=requires_grad)
    ref = torch.tensor(REF, requires_grad=requires_grad)
    return teacher, ref, torch.tensor(MASK), torch.tensor(ADVANTAGES)


# ---------------------------------------------------------------------------------------------------- sequences


def test_sequence_logps_sum_and_mean():
    teacher, _, mask, _ = tensors(False)
    torch.testing.assert_close(sequence_logps(teacher, mask), torch.tensor([-1.5, -9.4, -1.5]))
    torch.testing.assert_close(
        sequence_logps(teacher, mask, length_normalize=True), torch.tensor([-0.75, -9.4 / 3, -1.5])
    )


def test_sequence_logps_empty_row_is_zero():
    out = sequence_logps(torch.tensor([[-1.0, float("-inf")]]), torch.tensor([[0, 0]]), length_normalize=True)
    assert out.tolist() == [0.0]


@pytest.mark.parametrize("normalize", [False, True])
def test_implicit_reward_values_and_gradient(normalize):
    teacher, ref, mask, _ = tensors()
    h = implicit_reward(teacher, ref, mask, length_normalize=normalize)
    np.testing.assert_allclose(h.detach().numpy(), expected_h(normalize), atol=1e-6)
    h.sum().backward()
    expected_grad = torch.tensor(MASK, dtype=torch.float32)
    if normalize:
        expected_grad = expected_grad / expected_grad.sum(-1, keepdim=True)
    torch.testing.assert_close(teacher.grad, expected_grad)
    assert ref.grad is None


# ---------------------------------------------------------------------------------------------------- labels


def test_labels_from_advantage_sign():
    labels = outcome_labels(torch.tensor([0.5, -0.2, 0.0, 1e-8, -1e-7, float("nan")]))
    assert labels.dtype == torch.float32
    assert labels.tolist() == [1.0, -1.0, 0.0, 0.0, 0.0, 0.0]


def test_labels_from_success_threshold():
    labels = outcome_labels(
        torch.tensor([-1.0, 1.0, 0.0, 0.0]),
        rewards=torch.tensor([1.0, 0.2, 0.5, float("nan")]),
        success_threshold=0.5,
    )
    assert labels.tolist() == [1.0, -1.0, 1.0, 0.0]


def test_threshold_without_rewards_is_an_error():
    with pytest.raises(ValueError, match="rewards"):
        outcome_labels(torch.tensor([1.0]), success_threshold=0.5)


# ---------------------------------------------------------------------------------------------------- sigmoid


def test_sigmoid_loss_values():
    h, labels = torch.tensor([1.0, -2.0, 0.5]), torch.tensor([1.0, -1.0, 0.0])
    beta, delta = 0.1, 0.05
    l1 = softplus(-(0.1 * 1.0 - 0.05))  # -log σ(β h - δ)
    l2 = softplus(-(-(0.1 * -2.0 - 0.05)))  # -log σ(-(β h - δ))
    assert sigmoid_e_loss(h, labels, beta, delta).item() == pytest.approx((l1 + l2) / 2, abs=1e-6)
    weights = torch.tensor([2.0, 0.5, 3.0])
    assert sigmoid_e_loss(h, labels, beta, delta, weights).item() == pytest.approx((2 * l1 + 0.5 * l2) / 2, abs=1e-6)


def test_sigmoid_loss_gradient_direction():
    # Minimizing raises h on successes and lowers it on failures.
    h = torch.tensor([0.0, 0.0], requires_grad=True)
    sigmoid_e_loss(h, torch.tensor([1.0, -1.0]), beta=0.5, delta=0.0).backward()
    assert h.grad[0] < 0 < h.grad[1]
    assert h.grad[0].item() == pytest.approx(-0.5 * 0.5 / 2)  # -β σ(0) / N


def test_sigmoid_loss_without_labels_is_zero_with_graph():
    h = torch.tensor([1.0, 2.0], requires_grad=True)
    loss = sigmoid_e_loss(h, torch.zeros(2), beta=0.1, delta=0.0)
    assert loss.item() == 0.0 and loss.requires_grad
    loss.backward()
    torch.testing.assert_close(h.grad, torch.zeros(2))


# ---------------------------------------------------------------------------------------------------- kto


def test_kto_loss_values():
    h, labels = torch.tensor([1.0, -2.0, 0.5]), torch.tensor([1.0, -1.0, 0.0])
    beta, z_ref = 0.2, 0.3
    l1 = 1 - sigmoid(0.2 * (1.0 - 0.3))
    l2 = 1 - sigmoid(-0.2 * (-2.0 - 0.3))
    assert kto_e_loss(h, labels, beta, z_ref).item() == pytest.approx((l1 + l2) / 2, abs=1e-6)
    weights = torch.tensor([0.5, 2.0, 9.0])
    assert kto_e_loss(h, labels, beta, z_ref, weights).item() == pytest.approx((0.5 * l1 + 2 * l2) / 2, abs=1e-6)


def test_kto_reference_point_is_clamped_at_zero():
    h, labels = torch.tensor([1.0]), torch.tensor([1.0])
    assert kto_e_loss(h, labels, 0.2, -5.0).item() == pytest.approx(1 - sigmoid(0.2), abs=1e-6)


# ---------------------------------------------------------------------------------------------------- token KL


def test_token_kl_values():
    teacher, ref, mask, _ = tensors(False)
    terms = [k3(t, r) for tr, rr, mr in zip(TEACHER, REF, MASK) for t, r, m in zip(tr, rr, mr) if m]
    assert token_kl(teacher, ref, mask).item() == pytest.approx(sum(terms) / len(terms), abs=1e-6)


def test_token_kl_nonnegative_and_zero_iff_equal():
    generator = torch.Generator().manual_seed(0)
    teacher = torch.randn(4, 7, generator=generator) - 2
    ref = torch.randn(4, 7, generator=generator) - 2
    mask = torch.ones(4, 7)
    assert token_kl(teacher, ref, mask).item() > 0
    assert token_kl(teacher, teacher.clone(), mask).item() == 0.0


def test_token_kl_is_unbiased_for_kl_and_its_gradient():
    # Tokens drawn from p = (1/2, 1/4, 1/4): the multiset [0, 0, 1, 2] is the exact expectation.
    p = np.array([0.5, 0.25, 0.25])
    q_logits = [0.3, -0.4, 1.1]
    q_theta = torch.tensor(q_logits, requires_grad=True)
    log_q = torch.log_softmax(q_theta, -1)
    tokens = torch.tensor([0, 0, 1, 2])
    log_p = torch.tensor(np.log(p), dtype=torch.float32)
    estimate = token_kl(log_q[tokens][None], log_p[tokens][None], torch.ones(1, 4))
    q = np.exp(q_logits) / np.exp(q_logits).sum()
    exact = float(np.sum(q * np.log(q / p)))
    assert estimate.item() == pytest.approx(exact, abs=1e-6)
    estimate.backward()
    # d KL(softmax(θ) || p) / dθ = q (log q - log p - KL)
    np.testing.assert_allclose(q_theta.grad.numpy(), q * (np.log(q / p) - exact), atol=1e-6)


def test_token_kl_is_finite_for_extreme_ratios():
    out = token_kl(torch.tensor([[0.0, -200.0]]), torch.tensor([[-200.0, 0.0]]), torch.ones(1, 2))
    assert math.isfinite(out.item())


# ---------------------------------------------------------------------------------------------------- awr


def test_awr_loss_values():
    teacher, ref, mask, advantages = tensors(False)
    beta = 0.3
    per_sample = [-a * seq(t, m, normalize=True) for a, t, m in zip(ADVANTAGES, TEACHER, MASK)]
    terms = [k3(t, r) for tr, rr, mr in zip(TEACHER, REF, MASK) for t, r, m in zip(tr, rr, mr) if m]
    expected = sum(per_sample) / 3 + beta * sum(terms) / len(terms)
    assert awr_e_loss(teacher, ref, mask, advantages, beta).item() == pytest.approx(expected, abs=1e-6)


def test_awr_ignores_samples_without_tokens():
    teacher = torch.tensor([[-1.0, -2.0], [-3.0, -3.0]])
    mask = torch.tensor([[1, 1], [0, 0]])
    got = awr_e_loss(teacher, teacher.clone(), mask, torch.tensor([2.0, 5.0]), beta=1.0)
    assert got.item() == pytest.approx(-2.0 * -1.5, abs=1e-6)


# ---------------------------------------------------------------------------------------------------- dispatcher


@pytest.mark.parametrize("name", E_STEP_LOSSES)
def test_gradient_reaches_only_the_teacher(name):
    teacher, ref, mask, advantages = tensors()
    loss, _ = e_step_loss(
        name, teacher_token_logps=teacher, ref_token_logps=ref, mask=mask, advantages=advantages, beta=0.5
    )
    loss.backward()
    assert teacher.grad is not None and teacher.grad.abs().sum() > 0
    assert ref.grad is None
    # Padding tokens get no gradient.
    assert teacher.grad[0, 2] == 0 and teacher.grad[2, 1] == 0 and teacher.grad[2, 2] == 0


def test_dispatcher_sigmoid_value_and_stats():
    teacher, ref, mask, advantages = tensors()
    beta, delta = 0.5, 0.1
    loss, stats = e_step_loss(
        "sigmoid", teacher_token_logps=teacher, ref_token_logps=ref, mask=mask, advantages=advantages,
        beta=beta, delta=delta,
    )
    h = expected_h()
    expected = (softplus(-(beta * h[0] - delta)) + softplus(beta * h[1] - delta)) / 2
    assert loss.item() == pytest.approx(expected, abs=1e-6)
    assert stats["h_pos"] == pytest.approx(h[0], abs=1e-6)
    assert stats["h_neg"] == pytest.approx(h[1], abs=1e-6)
    assert stats["kl"] == pytest.approx(token_kl(teacher, ref, mask).item(), abs=1e-7)
    assert stats["num_labelled"] == 2
    assert "z_ref" not in stats
    assert all(isinstance(v, float) for v in stats.values())


def test_dispatcher_weights_and_length_normalization():
    teacher, ref, mask, advantages = tensors()
    beta = 0.5
    loss, _ = e_step_loss(
        "sigmoid", teacher_token_logps=teacher, ref_token_logps=ref, mask=mask, advantages=advantages,
        beta=beta, use_weights=True, length_normalize=True,
    )
    h = expected_h(normalize=True)
    expected = (0.8 * softplus(-beta * h[0]) + 1.2 * softplus(beta * h[1])) / 2
    assert loss.item() == pytest.approx(expected, abs=1e-6)


def test_dispatcher_kto_reference_point():
    teacher, ref, mask, advantages = tensors()
    beta = 0.5
    loss, stats = e_step_loss(
        "kto", teacher_token_logps=teacher, ref_token_logps=ref, mask=mask, advantages=advantages, beta=beta
    )
    per_sequence = [sum(k3(t, r) for t, r, m in zip(tr, rr, mr) if m) for tr, rr, mr in zip(TEACHER, REF, MASK)]
    z_ref = sum(per_sequence) / 3
    assert stats["z_ref"] == pytest.approx(z_ref, abs=1e-5)
    h = expected_h()
    expected = ((1 - sigmoid(beta * (h[0] - z_ref))) + (1 - sigmoid(-beta * (h[1] - z_ref)))) / 2
    assert loss.item() == pytest.approx(expected, abs=1e-6)


def test_dispatcher_threshold_labels_and_missing_sides():
    teacher, ref, mask, advantages = tensors()
    _, stats = e_step_loss(
        "sigmoid", teacher_token_logps=teacher, ref_token_logps=ref, mask=mask, advantages=advantages, beta=0.1,
        rewards=torch.tensor([1.0, 1.0, float("nan")]), success_threshold=0.5,
    )
    h = expected_h()
    assert stats["h_pos"] == pytest.approx((h[0] + h[1]) / 2, abs=1e-6)
    assert math.isnan(stats["h_neg"])
    assert stats["num_labelled"] == 2


def test_dispatcher_without_negatives_trains_on_successes_only():
    """`negatives=False`: the loss is the positive rollout's term alone (the mean over one labelled rollout), the
    gradient leaves the failure's tokens alone, and h_neg is still reported."""
    teacher, ref, mask, advantages = tensors()
    teacher.requires_grad_(True)
    beta, delta = 0.5, 0.1
    loss, stats = e_step_loss(
        "sigmoid", teacher_token_logps=teacher, ref_token_logps=ref, mask=mask, advantages=advantages,
        beta=beta, delta=delta, negatives=False,
    )
    h = expected_h()
    assert loss.item() == pytest.approx(softplus(-(beta * h[0] - delta)), abs=1e-6)
    assert stats["num_labelled"] == 1 and stats["h_neg"] == pytest.approx(h[1], abs=1e-6)
    loss.backward()
    assert teacher.grad[0].abs().sum() > 0 and teacher.grad[1].abs().sum() == 0
    awr, _ = e_step_loss(
        "awr", teacher_token_logps=teacher, ref_token_logps=ref, mask=mask, advantages=advantages, beta=beta,
        negatives=False,
    )
    clamped, _ = e_step_loss(
        "awr", teacher_token_logps=teacher, ref_token_logps=ref, mask=mask, advantages=advantages.clamp(min=0),
        beta=beta,
    )
    assert awr.item() == pytest.approx(clamped.item(), abs=1e-7)


def test_dispatcher_unknown_loss():
    teacher, ref, mask, advantages = tensors()
    with pytest.raises(ValueError, match="Unknown E-step loss"):
        e_step_loss(
            "dpo", teacher_token_logps=teacher, ref_token_logps=ref, mask=mask, advantages=advantages, beta=0.1
        )


@pytest.mark.parametrize("name", ["sigmoid", "kto"])
def test_normalized_e_loss_pushes_tokens_by_at_most_one_over_length_whatever_beta(name):
    """`normalize`: ∂L/∂log q_t = −z·σ(·)/(|y|·n_labelled) (sigmoid), bounded by 1/|y| per rollout and, at h = δ = 0,
    exactly ½/|y| per token for every β; the paper's form scales with β instead."""
    teacher = torch.zeros(2, 4, requires_grad=True)
    ref = torch.zeros(2, 4)
    mask = torch.tensor([[1.0, 1.0, 1.0, 1.0], [1.0, 1.0, 0.0, 0.0]])
    advantages = torch.tensor([1.0, -1.0])
    grads = {}
    for beta in (0.1, 1.0, 10.0):
        for normalize in (True, False):
            teacher.grad = None
            loss, _ = e_step_loss(name, teacher_token_logps=teacher, ref_token_logps=ref, mask=mask,
                                  advantages=advantages, beta=beta, negatives=True, normalize=normalize)  # fmt: skip
            loss.backward()
            grads[beta, normalize] = teacher.grad.clone()
    scale = 0.5 if name == "sigmoid" else 0.25  # σ(0) = ½; KTO: σ(0)·(1 − σ(0)) = ¼
    expected = torch.tensor([[-1 / 4] * 4, [1 / 2, 1 / 2, 0, 0]]) * scale / 2  # 2 labelled rollouts
    for beta in (0.1, 1.0, 10.0):
        torch.testing.assert_close(grads[beta, True], expected)
    torch.testing.assert_close(grads[10.0, False], 100 * grads[0.1, False])


def test_swapped_feedback_loss_values_and_gradient():
    """−log σ(β·g) over the selected rows, g = Σ log q(y|own critique) − Σ log q(y|swapped critique); the gradient
    raises the own side and lowers the swapped side equally, on masked tokens of selected rows only."""
    own = torch.tensor([[-1.0, -2.0, -7.0], [-0.5, -0.5, -0.5], [-3.0, -1.0, -1.0]], requires_grad=True)
    swapped = torch.tensor([[-2.0, -2.5, 0.0], [-0.5, -0.5, -0.5], [-1.0, -1.0, -1.0]], requires_grad=True)
    mask = torch.tensor([[1, 1, 0], [1, 1, 1], [1, 1, 1]])
    rows = torch.tensor([True, True, False])
    beta = 0.5
    loss, gain = swapped_feedback_loss(own, swapped, mask, rows, beta)
    assert gain.tolist() == pytest.approx([1.5, 0.0, -2.0])
    assert loss.item() == pytest.approx((softplus(-0.75) + softplus(0.0)) / 2, abs=1e-6)
    loss.backward()
    g0 = -beta * sigmoid(-0.75) / 2
    assert own.grad[0].tolist() == pytest.approx([g0, g0, 0.0], abs=1e-6)
    assert swapped.grad[0].tolist() == pytest.approx([-g0, -g0, 0.0], abs=1e-6)
    assert own.grad[1].tolist() == pytest.approx([-beta * 0.5 / 2] * 3, abs=1e-6)
    assert own.grad[2].abs().sum() == 0 and swapped.grad[2].abs().sum() == 0
    normalized, _ = swapped_feedback_loss(own, swapped, mask, rows, beta, normalizer=4)
    assert normalized.item() == pytest.approx((softplus(-0.75) + softplus(0.0)) / 4, abs=1e-6)
    per_token, gain = swapped_feedback_loss(own, swapped, mask, rows, beta, length_normalize=True)
    assert gain[0].item() == pytest.approx(0.75)
