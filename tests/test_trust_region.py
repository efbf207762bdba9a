"""The trust-region controller (β_E, skip rule, δ) and its checkpointed callback."""

from __future__ import annotations

import json
import math

import pytest
import torch
from transformers import Trainer, TrainerCallback, TrainingArguments
from transformers.trainer_callback import TrainerControl, TrainerState

from trl_vpd.trust_region import TrustRegionCallback, TrustRegionController, find_trust_region_callback

# ---------------------------------------------------------------------------------------------------- β_E


def test_kl_above_target_raises_beta_monotonically_to_max():
    controller = TrustRegionController(beta=0.1, target_kl=0.05, rate=0.5, beta_max=2.0)
    betas = [controller.update_beta(0.2) for _ in range(40)]
    assert all(b2 >= b1 for b1, b2 in zip(betas, betas[1:]))
    assert betas[0] == pytest.approx(0.1 * math.exp(0.5 * 1.0))  # (0.2 - 0.05)/0.05 = 3, clipped to c = 1
    assert betas[-1] == 2.0
    assert all(0.1 < b <= 2.0 for b in betas)
    assert controller.num_updates == 40


def test_kl_below_target_lowers_beta_to_min():
    controller = TrustRegionController(beta=0.1, target_kl=0.05, rate=0.5, beta_min=0.01)
    betas = [controller.update_beta(0.0375) for _ in range(60)]
    assert betas[0] == pytest.approx(0.1 * math.exp(0.5 * -0.25))  # unclipped error (0.0375 - 0.05)/0.05
    assert all(b2 <= b1 for b1, b2 in zip(betas, betas[1:]))
    assert betas[-1] == 0.01
    assert all(0.01 <= b < 0.1 for b in betas)


def test_kl_far_below_target_is_clipped():
    controller = TrustRegionController(beta=1.0, target_kl=0.05, rate=0.1, max_change=0.5)
    assert controller.update_beta(0.0) == pytest.approx(math.exp(-0.05))


def test_kl_at_target_leaves_beta_unchanged():
    controller = TrustRegionController(beta=0.3, target_kl=0.05)
    for _ in range(5):
        assert controller.update_beta(0.05) == pytest.approx(0.3)


def test_fixed_beta_without_target():
    controller = TrustRegionController(beta=0.1)
    for kl in (0.0, 1.0, 100.0, float("nan")):
        assert controller.update_beta(kl) == 0.1
    assert controller.num_updates == 0


@pytest.mark.parametrize("kl", [float("nan"), float("inf"), -float("inf")])
def test_non_finite_kl_is_ignored_and_counted(kl):
    controller = TrustRegionController(beta=0.2, target_kl=0.05)
    assert controller.update_beta(kl) == 0.2
    assert controller.num_invalid == 1 and controller.num_updates == 0


def test_invalid_configurations():
    with pytest.raises(ValueError, match="beta_min"):
        TrustRegionController(beta_min=1.0, beta_max=0.5)
    with pytest.raises(ValueError, match="target_kl"):
        TrustRegionController(target_kl=0.0)
    with pytest.raises(ValueError, match="skip_factor"):
        TrustRegionController(skip_factor=2.0)
    with pytest.raises(ValueError, match="delta_momentum"):
        TrustRegionController(delta_momentum=1.5)


# ---------------------------------------------------------------------------------------------------- skip rule


def test_skip_rule():
    controller = TrustRegionController(target_kl=0.1, skip_factor=2.0)
    assert not controller.should_skip(0.2)
    assert controller.should_skip(0.2001)
    assert controller.should_skip(float("nan"))
    assert controller.should_skip(float("inf"))


def test_never_skip_without_skip_factor_unless_non_finite():
    controller = TrustRegionController(target_kl=0.1)
    assert not controller.should_skip(1e6)
    assert controller.should_skip(float("nan"))
    assert not TrustRegionController().should_skip(1e6)


# ---------------------------------------------------------------------------------------------------- δ


def test_delta_running_mean_of_both_sides():
    controller = TrustRegionController(delta_momentum=0.9)
    assert controller.update_delta(1.0, -0.2) == pytest.approx(0.1 * 0.4)
    assert controller.update_delta(0.6, 0.2) == pytest.approx(0.9 * 0.04 + 0.1 * 0.4)


def test_delta_uses_the_present_side():
    controller = TrustRegionController(delta=1.0, delta_momentum=0.5)
    assert controller.update_delta(None, -1.0) == pytest.approx(0.0)
    assert controller.update_delta(2.0, float("nan")) == pytest.approx(1.0)
    assert controller.update_delta(None, float("nan")) == pytest.approx(1.0)
    assert controller.update_delta(None, None) == pytest.approx(1.0)


# ---------------------------------------------------------------------------------------------------- state


def test_state_dict_round_trip():
    controller = TrustRegionController(beta=0.1, target_kl=0.05, skip_factor=3.0)
    controller.update_beta(1.0)
    controller.update_delta(0.5, -0.1)
    controller.num_skipped = 2
    restored = TrustRegionController()
    with pytest.raises(ValueError):
        restored.load_state_dict({"beta": 1.0, "bogus": 1})
    restored = TrustRegionController(target_kl=0.05, skip_factor=3.0)
    restored.load_state_dict(json.loads(json.dumps(controller.state_dict())))
    assert restored == controller


# ---------------------------------------------------------------------------------------------------- callback


def test_callback_applies_mean_once_per_step():
    callback = TrustRegionCallback(beta=1.0, target_kl=0.1, rate=1.0, delta_momentum=0.0)
    callback.record(0.1, h_pos_scaled=1.0, h_neg_scaled=-1.0)
    callback.record(0.2, h_pos_scaled=3.0, h_neg_scaled=float("nan"), skipped=True)
    assert callback.beta == 1.0  # nothing applied before the optimizer step ends
    callback.on_step_end(None, TrainerState(), TrainerControl())
    assert callback.beta == pytest.approx(math.exp(0.5))  # mean KL 0.15 -> error 0.5
    assert callback.delta == pytest.approx(0.5 * (2.0 + -1.0))
    assert callback.metrics() == {"beta": pytest.approx(math.exp(0.5)), "delta": 0.5, "num_skipped": 1.0}
    callback.on_step_end(None, TrainerState(), TrainerControl())  # empty buffer: no E-step this step
    assert callback.beta == pytest.approx(math.exp(0.5))
    assert callback.controller.num_updates == 1


def test_callback_ignores_non_finite_records():
    callback = TrustRegionCallback(beta=1.0, target_kl=0.1, rate=1.0)
    callback.record(float("nan"))
    callback.record(0.2)
    callback.apply_recorded()
    assert callback.beta == pytest.approx(math.e)
    callback.record(float("nan"))
    callback.apply_recorded()
    assert callback.beta == pytest.approx(math.e)
    assert callback.controller.num_invalid == 1


def test_callback_accepts_a_controller_or_fields_not_both():
    controller = TrustRegionController(beta=0.5)
    assert TrustRegionCallback(controller).controller is controller
    with pytest.raises(ValueError):
        TrustRegionCallback(controller, beta=0.3)


def _trained_callback():
    callback = TrustRegionCallback(beta=0.2, target_kl=0.05, skip_factor=4.0, rate=0.3)
    callback.record(0.5, 0.4, -0.6, skipped=True)
    callback.apply_recorded()
    return callback


def test_exportable_state_round_trip_through_trainer_state_json(tmp_path):
    callback = _trained_callback()
    # What transformers does: TrainerState(stateful_callbacks=[...]) -> save_to_json -> load_from_json.
    TrainerState(stateful_callbacks=[callback]).save_to_json(tmp_path / "trainer_state.json")
    stored = TrainerState.load_from_json(tmp_path / "trainer_state.json").stateful_callbacks["TrustRegionCallback"]
    # Path 1: transformers' `_load_callback_state` / `ExportableState.from_state` (new instance from args, then
    # attributes set one by one).
    restored = TrustRegionCallback.from_state(stored)
    assert restored.controller == callback.controller
    # Path 2: our in-place restore at `on_train_begin` of a resumed run (the default, flag off).
    fresh = TrustRegionCallback(beta=0.2, target_kl=0.05, skip_factor=4.0, rate=0.3)
    state = TrainerState(global_step=7, stateful_callbacks={"TrustRegionCallback": stored})
    fresh.on_train_begin(None, state, TrainerControl())
    assert fresh.controller == callback.controller


def test_new_run_does_not_restore():
    fresh = TrustRegionCallback(beta=0.2)
    stored = _trained_callback().state()
    fresh.on_train_begin(None, TrainerState(global_step=0, stateful_callbacks={"TrustRegionCallback": stored}), None)
    assert fresh.beta == 0.2


# ---------------------------------------------------------------------------------------------------- real Trainer


class _TinyRegressor(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = torch.nn.Linear(2, 1)

    def forward(self, x, y):
        return {"loss": torch.nn.functional.mse_loss(self.linear(x).squeeze(-1), y)}


class _FeedKL(TrainerCallback):
    """Plays the trainer's part: one E-step measurement per optimizer step, KL far above target."""

    def __init__(self, get_callback):
        self.get_callback = get_callback

    def on_step_begin(self, args, state, control, **kwargs):
        self.get_callback().record(1.0, h_pos_scaled=0.2, h_neg_scaled=-0.1)


def _run(output_dir, resume=None, restore_flag=False):
    torch.manual_seed(0)
    data = [{"x": torch.randn(2), "y": torch.randn(())} for _ in range(16)]
    args = TrainingArguments(
        output_dir=str(output_dir),
        max_steps=4,
        save_steps=2,
        per_device_train_batch_size=2,
        report_to=[],
        use_cpu=True,
        logging_steps=100,
        restore_callback_states_from_checkpoint=restore_flag,
        disable_tqdm=True,
    )
    tr_callback = TrustRegionCallback(beta=0.1, target_kl=0.1, rate=0.1)
    trainer = Trainer(model=_TinyRegressor(), args=args, train_dataset=data)
    trainer.add_callback(tr_callback)
    trainer.add_callback(_FeedKL(lambda: find_trust_region_callback(trainer)))
    trainer.train(resume_from_checkpoint=resume)
    return trainer, tr_callback


@pytest.mark.parametrize("restore_flag", [False, True])
def test_trainer_checkpoint_round_trip(tmp_path, restore_flag):
    trainer, callback = _run(tmp_path)
    expected_final = 0.1 * math.exp(4 * 0.1)  # (1.0 - 0.1)/0.1 clipped to 1 each step
    assert callback.beta == pytest.approx(expected_final)
    saved = json.loads((tmp_path / "checkpoint-2" / "trainer_state.json").read_text())
    saved_state = saved["stateful_callbacks"]["TrustRegionCallback"]["attributes"]["controller_state"]
    assert saved_state["beta"] == pytest.approx(0.1 * math.exp(2 * 0.1))
    assert saved_state["num_updates"] == 2

    resumed_trainer, original = _run(tmp_path, resume=str(tmp_path / "checkpoint-2"), restore_flag=restore_flag)
    active = find_trust_region_callback(resumed_trainer)
    assert (active is original) == (not restore_flag)
    assert active.beta == pytest.approx(expected_final)
    assert active.controller.num_updates == 4
    assert active.delta == pytest.approx(callback.delta)


def _feed(callback, kls):
    for kl in kls:
        callback.record(kl)
        callback.apply_recorded()


def test_warns_once_when_beta_is_pinned_at_max_above_target(caplog):
    """The estep benchmark's failure mode: KL_E starts at 0.35 from the prompt alone, ε = 0.1 is out of reach."""
    callback = TrustRegionCallback(beta=0.1, target_kl=0.1, rate=1.0, max_change=1.0, beta_max=1.0)
    with caplog.at_level("WARNING", logger="trl_vpd.trust_region"):
        _feed(callback, [0.35, 0.5, 0.6])  # β: 0.1 → 0.27 → 0.74 → 1.0 (pinned)
        assert callback.beta == 1.0
        _feed(callback, [0.7, 0.8])
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 1, warnings
    assert "trust_region_beta_max=1" in warnings[0] and "KL_E=0.35" in warnings[0]  # names the prompt-only KL


def test_warns_when_beta_is_pinned_at_min_below_target(caplog):
    callback = TrustRegionCallback(beta=0.1, target_kl=1.0, rate=1.0, max_change=1.0, beta_min=0.05)
    with caplog.at_level("WARNING", logger="trl_vpd.trust_region"):
        _feed(callback, [0.0, 0.0, 0.0])
    assert callback.beta == 0.05
    assert len(caplog.records) == 1 and "trust_region_beta_min" in caplog.records[0].getMessage()


def test_no_warning_while_beta_is_free_or_fixed(caplog):
    adaptive = TrustRegionCallback(beta=0.1, target_kl=0.1, rate=0.1, beta_max=10.0)
    fixed = TrustRegionCallback(beta=0.1)
    with caplog.at_level("WARNING", logger="trl_vpd.trust_region"):
        _feed(adaptive, [0.12, 0.09, 0.2, 0.05] * 5)
        _feed(fixed, [5.0] * 20)
    assert caplog.records == []


def test_delta_follows_beta_units_when_beta_adapts():
    """δ is a running mean of β·h: when β changes, δ is rescaled with it, so β·h − δ compares like with like."""
    controller = TrustRegionController(beta=0.1, target_kl=0.1, rate=0.5)
    controller.update_delta(0.4, 0.2)
    delta = controller.delta
    old_beta = controller.beta
    controller.update_beta(0.3)  # KL above target: β rises
    assert controller.beta > old_beta
    assert controller.delta == pytest.approx(delta * controller.beta / old_beta)
