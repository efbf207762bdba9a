"""The E-step monitor warns once when the teacher is not being trained: inert (KL_E under the floor, BCO loss at
log 2) or starved (most E-steps without a labelled rollout)."""

import logging
import math

import pytest
from helpers import make_trainer

from trl_vpd.e_step_monitor import EStepMonitor

LOG2 = math.log(2)


def test_inert_e_step_is_named_once_with_the_fields_to_change():
    monitor = EStepMonitor("sigmoid", "Fields: e_step_every.", window=4)
    assert [monitor.observe(LOG2 * 1.001, 1e-3, False) for _ in range(3)] == [None] * 3  # window not full yet
    message = monitor.observe(LOG2, 2e-3, False)
    assert message is not None and "not moving the teacher" in message and "e_step_every" in message
    assert monitor.observe(LOG2, 1e-3, False) is None  # once


@pytest.mark.parametrize(
    "loss, kl", [(LOG2 * 0.9, 1e-3), (LOG2, 0.05)], ids=["loss-left-chance", "teacher-moved"]
)
def test_a_moving_teacher_is_not_inert(loss, kl):
    monitor = EStepMonitor("sigmoid", "", window=4)
    assert all(monitor.observe(loss, kl, False) is None for _ in range(8))


def test_other_losses_are_judged_by_kl_alone():
    monitor = EStepMonitor("awr", "", window=2)
    monitor.observe(3.0, 1e-4, False)
    assert "not moving the teacher" in monitor.observe(2.5, 1e-4, False)


def test_starved_e_step_names_group_pairing():
    monitor = EStepMonitor("sigmoid", "", window=4)
    for no_signal in (True, True, False):
        assert monitor.observe(LOG2, None if no_signal else 0.3, no_signal) is None
    message = monitor.observe(LOG2, None, True)
    assert "no labelled rollout" in message and "e_step_pairing='group'" in message


def test_trainer_feeds_the_monitor(tmp_path, tiny_tokenizer, caplog):
    """A reward that never varies gives no label: the trainer's monitor reports a starved E-step."""
    trainer = make_trainer(tmp_path, tiny_tokenizer, teacher_mode="shared", reward_funcs=lambda completions, **k: [
        1.0 for _ in completions
    ])
    trainer.e_step_monitor = EStepMonitor("sigmoid", "", window=2)
    with caplog.at_level(logging.WARNING, logger="trl_vpd.e_step_monitor"):
        trainer.train()
    assert trainer.e_step_monitor.warned == {"starved"}
    assert any("no labelled rollout" in r.message for r in caplog.records)


def test_teacher_that_ranks_failures_above_successes_is_reported_once():
    """h₊ − h₋ below 0 by more than two standard errors over the window (E-steps with both kinds of rollout): the
    teacher reads the feedback worse than the student solves the task. NaN steps (one kind only) do not count; a
    positive mean, or a negative one within noise (a dip of a teacher that is improving), stays silent."""
    nan = float("nan")
    monitor = EStepMonitor("sigmoid", "", window=4)
    for d in (-1.5, nan, -2.0):
        assert monitor.observe(0.5, 0.3, False, d) is None  # window not full
    message = monitor.observe(0.5, 0.3, False, -1.0)  # mean −1.5, standard error 0.5/√3 = 0.29
    assert "prefers the failed rollouts" in message and "-1.5 ± 0.29" in message
    assert monitor.observe(0.5, 0.3, False, -1.0) is None  # once
    quiet = EStepMonitor("sigmoid", "", window=4)
    assert all(quiet.observe(0.5, 0.3, False, d) is None for d in (1.0, -0.5, nan, 0.2, 0.4, 0.3))
    noisy = EStepMonitor("sigmoid", "", window=4)  # mean −0.43 ± 0.77: within noise
    assert all(noisy.observe(0.5, 0.3, False, d) is None for d in (0.5, nan, -2.0, 0.2))
    sparse = EStepMonitor("sigmoid", "", window=4)  # one ranked E-step in four: too few to judge
    assert all(sparse.observe(0.5, 0.3, False, d) is None for d in (-1.0, nan, nan, nan))
