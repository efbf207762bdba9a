"""The gradient balance of the M-step (`distillation_gradient_ratio`): norms at the hidden states, running means that
skip batches without a gradient, and the coefficient they give."""

from __future__ import annotations

import math
from types import SimpleNamespace

import pytest
import torch
from helpers import make_config, make_trainer

from trl_vpd.gradient_balance import GradientBalance, hidden_gradient_norms
from trl_vpd.model_card import _distillation_weight


def test_hidden_gradient_norms_read_each_loss_over_every_tensor_and_sum_squares_across_processes():
    h1 = torch.randn(2, 3, requires_grad=True)
    h2 = torch.randn(4, requires_grad=True)
    a, b = torch.randn(2, 3), torch.randn(4)
    linear = (a * h1).sum() + (b * h2).sum()  # gradient (a, b)
    quadratic = (h2**2).sum()  # gradient 2·h2, none at h1
    frozen = torch.tensor(1.0)  # no graph
    two_processes = lambda squares: 2 * squares  # an all-reduce over two identical processes
    norms = hidden_gradient_norms([linear, quadratic, frozen], [h1, h2], two_processes)
    expected = [
        math.sqrt(2 * (a.pow(2).sum() + b.pow(2).sum()).item()),
        math.sqrt(2 * (2 * h2.detach()).pow(2).sum().item()),
        0,
    ]
    assert norms == pytest.approx(expected, rel=1e-6)
    assert h1.grad is None and h2.grad is None  # read, not accumulated into .grad
    linear.backward()  # the graph was kept for the real backward
    torch.testing.assert_close(h1.grad, a)


def test_gradient_balance_uses_the_weight_until_both_norms_were_seen_then_running_means():
    balance = GradientBalance(ratio=2.0, fallback=0.5, decay=0.5)
    assert balance.coefficient() == 0.5
    assert balance.update(0.0, 4.0) == 0.5  # all groups tied: no GRPO gradient yet
    assert balance.update(1.0, 2.0) == pytest.approx(2.0 * 1.0 / 3.0)  # distill mean 0.5·4 + 0.5·2 = 3
    assert balance.update(3.0, 0.0) == pytest.approx(2.0 * 2.0 / 3.0)  # no distillation tokens: its mean kept
    assert balance.update(float("nan"), float("inf")) == pytest.approx(2.0 * 2.0 / 3.0)  # neither mean takes them
    assert balance.grpo == pytest.approx(2.0) and balance.distill == pytest.approx(3.0)


def test_gradient_balance_with_a_window_calibrates_once_then_keeps_the_coefficient():
    balance = GradientBalance(ratio=1.0, fallback=0.5, window=2)
    assert balance.update(0.0, 6.0) == 0.5  # GRPO not seen yet; the distillation's first of two
    assert balance.update(1.0, 0.0) == pytest.approx(1.0 / 6.0)  # GRPO's first; no distillation tokens
    assert not balance.calibrated
    assert balance.update(3.0, 2.0) == pytest.approx(2.0 / 4.0)  # both windows full: means 2 and 4
    assert balance.calibrated
    assert balance.update(100.0, 0.01) == pytest.approx(0.5)  # frozen
    assert (balance.grpo_count, balance.distill_count) == (2, 2)
    assert not GradientBalance(ratio=1.0, fallback=0.5, grpo=1.0, distill=1.0, grpo_count=9).calibrated  # no window


def test_a_capped_balance_never_exceeds_its_cap_and_can_go_below_it():
    balance = GradientBalance(ratio=1.0, fallback=0.5, window=2, cap=0.5)
    assert balance.update(1.0, 1.0) == 0.5  # balanced 1.0, capped
    assert balance.update(1.0, 7.0) == pytest.approx(1.0 / 4.0)  # means 1 and 4: below the cap, as uncapped
    assert GradientBalance(ratio=1.0, fallback=0.5, grpo=1.0, distill=1.0).coefficient() == 1.0  # no cap


def test_gradient_balance_state_round_trips(tmp_path):
    balance = GradientBalance(ratio=1.0, fallback=0.5, window=3)
    balance.update(1.0, 2.0)
    balance.save(str(tmp_path / "balance.json"))
    restored = GradientBalance(ratio=1.0, fallback=0.5, window=3)
    restored.load(str(tmp_path / "balance.json"))
    assert (restored.grpo, restored.distill, restored.grpo_count, restored.distill_count) == (1.0, 2.0, 1, 1)
    assert restored.update(4.0, 2.0) == balance.update(4.0, 2.0) == pytest.approx(2.5 / 2.0)


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"distillation_gradient_ratio": -1.0}, "must be ≥ 0"),
        ({"distillation_gradient_ratio": 1.0, "distillation_gradient_window": 0}, "window must be ≥ 1"),
        ({"distillation_gradient_ratio": 1.0, "distillation_mode": "sampled"}, "hidden states"),
    ],
)
def test_gradient_ratio_config_errors(tmp_path, overrides, message):
    with pytest.raises(ValueError, match=message):
        make_config(tmp_path, **overrides)


def test_model_card_names_the_constant_weight_or_the_gradient_ratio_and_its_coefficient(tmp_path):
    def weight(args, balance=None):
        return _distillation_weight(SimpleNamespace(args=args, distillation_balance=balance))

    assert weight(make_config(tmp_path)) == "weight 0.5"
    args = make_config(tmp_path, distillation_gradient_ratio=2.0)
    assert weight(args, GradientBalance(2.0, fallback=0.5)) == "gradient ratio 2 to GRPO's"
    assert weight(args, GradientBalance(2.0, fallback=0.5, grpo=1.0, distill=8.0)) == (
        "gradient ratio 2 to GRPO's, last coefficient 0.25"
    )
    args = make_config(tmp_path, distillation_gradient_ratio=2.0, distillation_gradient_capped=True)
    assert weight(args, GradientBalance(2.0, fallback=0.5, cap=0.5, grpo=1.0, distill=1.0)) == (
        "gradient ratio 2 to GRPO's, at most 0.5, last coefficient 0.5"
    )


@pytest.mark.parametrize(
    "overrides, peft, expected",
    [
        ({"teacher_mode": "adapter"}, True, (2 / 3, 10, False)),  # a LoRA student's teacher adapter: calibrated once
        ({"teacher_mode": "adapter"}, False, (2 / 3, 10, True)),  # a full-weights student's (on a frozen copy): capped
        ({"teacher_mode": "shared"}, True, (0.0, None, False)),  # every other teacher: the constant weight
        ({"teacher_mode": "shared"}, False, (0.0, None, False)),
        ({"teacher_mode": "frozen", "e_step": False}, True, (0.0, None, False)),
        ({"teacher_mode": "adapter", "distillation_mode": "sampled"}, True, (0.0, None, False)),  # no hidden states
        ({"teacher_mode": "adapter", "distillation_gradient_ratio": 0.0}, True, (0.0, None, False)),  # off, explicitly
        ({"teacher_mode": "adapter", "distillation_gradient_ratio": 1.0}, True, (1.0, None, False)),  # as stated
        ({"teacher_mode": "shared", "distillation_gradient_ratio": 1.0, "distillation_gradient_capped": True}, False,
         (1.0, None, True)),
        ({"teacher_mode": "adapter", "distillation_gradient_window": 4}, False, (2 / 3, 4, True)),
        ({"teacher_mode": "adapter", "distillation_gradient_capped": False}, False, (2 / 3, 10, False)),
        ({"teacher_mode": "adapter", "distillation_gradient_capped": True}, True, (2 / 3, 10, True)),
    ],
)
def test_the_gradient_balance_is_the_default_for_a_teacher_adapter_only(tmp_path, overrides, peft, expected):
    def balance(config):
        return config.distillation_gradient_ratio, config.distillation_gradient_window, config.distillation_gradient_capped

    config = make_config(tmp_path, **overrides)
    config.resolve_teacher_mode(peft=peft, sharded=False)
    assert balance(config) == pytest.approx(expected)
    config.resolve_teacher_mode(peft=not peft, sharded=False)  # a config reused for the other kind of student
    config.resolve_teacher_mode(peft=peft, sharded=False)
    assert balance(config) == pytest.approx(expected)


def test_a_default_balance_is_chosen_again_for_another_teacher(tmp_path):
    """The balance resolved for one teacher is not kept when the same config is resolved for another."""
    config = make_config(tmp_path, teacher_mode="adapter")
    config.resolve_teacher_mode(peft=False, sharded=False)
    assert config.distillation_gradient_capped is True
    config.teacher_mode = "shared"
    config.resolve_teacher_mode(peft=False, sharded=False)
    assert (config.distillation_gradient_ratio, config.distillation_gradient_capped) == (0.0, False)


@pytest.mark.parametrize("peft", [True, False])
def test_trainers_default_balance_is_calibrated_once_and_capped_for_full_weights(tmp_path, tiny_tokenizer, peft):
    trainer = make_trainer(tmp_path, tiny_tokenizer, peft=peft)
    assert trainer.args.teacher_mode == "adapter"
    balance = trainer.distillation_balance
    cap = None if peft else 0.5
    assert (balance.ratio, balance.window, balance.fallback, balance.cap) == (pytest.approx(2 / 3), 10, 0.5, cap)


def test_a_calibrated_balance_stops_reading_the_gradients_and_keeps_its_coefficient(tmp_path, tiny_tokenizer, monkeypatch):
    """Once a window's means are complete the two extra passes back through the head are skipped (the reading is the
    balance's whole cost); the coefficient is still applied and logged on every step."""
    import trl_vpd.trainer as trainer_module

    reads = []

    def counted(*args, **kwargs):
        reads.append(hidden_gradient_norms(*args, **kwargs))
        return reads[-1]

    monkeypatch.setattr(trainer_module, "hidden_gradient_norms", counted)
    trainer = make_trainer(tmp_path, tiny_tokenizer, teacher_mode="shared", distillation_mode="full",
                           distillation_gradient_ratio=1.0, distillation_gradient_window=1, max_steps=4,
                           logging_steps=1)  # fmt: skip
    trainer.train()
    balance = trainer.distillation_balance
    assert balance.calibrated
    grpo = [g for g, _ in reads if g > 0]
    distill = [d for _, d in reads if d > 0]
    assert grpo and distill and (reads[-1][0] > 0 and len(grpo) == 1 or reads[-1][1] > 0 and len(distill) == 1)
    coefficients = [h["vpd/distill_coefficient"] for h in trainer.state.log_history if "vpd/distill_coefficient" in h]
    assert len(coefficients) == 4 > len(reads)  # read until both norms were seen once, then no more
    assert coefficients[-1] == pytest.approx(grpo[0] / distill[0])
