"""The distillation gate: distil the teacher only as far as it ranks outcomes better than chance."""

import math

import pytest
import torch
from helpers import make_trainer

from trl_vpd.distillation_gate import DistillationGate


def test_gate_is_twice_the_share_of_correct_rankings_minus_one():
    gate = DistillationGate(window=4, min_ranked=2)
    assert gate.value == 1.0  # no evidence yet: open
    gate.record(math.nan)  # an E-step without both kinds of rollout does not count
    gate.record(-0.5)
    assert gate.value == 1.0 and len(gate.ranked) == 1
    gate.record(-0.1)
    assert gate.value == 0.0  # always wrong: closed (never negative)
    for d in (2.0, 0.3):
        gate.record(d)
    assert gate.value == pytest.approx(0.0)  # 2 of 4 right: chance
    gate.record(1.0)  # the window drops the oldest (-0.5): 3 of 4 right
    assert gate.value == pytest.approx(0.5)
    gate.record(4.0)
    assert gate.value == pytest.approx(1.0)


def test_closed_gate_trains_the_student_as_without_distillation(tmp_path, tiny_tokenizer):
    """A gate closed by a teacher that misranked every recent E-step gives the loss of distillation_weight=0 (GRPO's
    term at full strength, no M-step), and logs itself; without the flag the same state changes nothing."""

    def first_loss(**overrides):
        torch.manual_seed(0)
        trainer = make_trainer(tmp_path, tiny_tokenizer, teacher_mode="frozen", max_steps=1, **overrides)
        for _ in range(20):
            trainer.distillation_gate.record(-1.0)
        trainer.train()
        entry = next(e for e in trainer.state.log_history if "loss" in e)
        return entry, trainer

    gated, trainer = first_loss(distillation_gate=True)
    plain, _ = first_loss(distillation_weight=0.0)
    ungated, _ = first_loss()
    assert gated["vpd/distillation_gate"] == 0.0
    assert "vpd/distill_loss" not in gated and "vpd/distill_loss" in ungated
    assert gated["loss"] == pytest.approx(plain["loss"], abs=1e-7)
    assert ungated["loss"] != pytest.approx(plain["loss"], abs=1e-7)


def test_every_e_step_with_both_outcomes_feeds_the_gate(tmp_path, tiny_tokenizer):
    trainer = make_trainer(tmp_path, tiny_tokenizer, teacher_mode="shared", max_steps=3, distillation_gate=True,
                           reward_funcs=lambda completions, **k: [float(i % 2) for i in range(len(completions))])
    trainer.train()
    logged = [(e["vpd/teacher_reward_pos"], e["vpd/teacher_reward_neg"]) for e in trainer.state.log_history
              if "vpd/teacher_reward_pos" in e]
    both = [p - n for p, n in logged if p is not None and n is not None and math.isfinite(p) and math.isfinite(n)]
    assert len(both) == 3 and [d > 0 for d in both] == list(trainer.distillation_gate.ranked)
