"""VPD must not silently be GRPO (issue 14): `NoSignalCallback` warns once, naming `success_reward_threshold` and the
logged reward range, when no feedback arrives and no rollout reaches the threshold; never while there is signal."""

import logging

import pytest
from transformers import TrainerControl, TrainerState

from trl_vpd.no_signal import NoSignalCallback


def silent(reward, std=0.1):
    return {"reward": reward, "reward_std": std, "vpd/feedback_coverage": 0.0, "vpd/sibling_solution_coverage": 0.0}


def feed(callback, logs_list, main_process=True):
    state = TrainerState(is_world_process_zero=main_process)
    for logs in logs_list:
        callback.on_log(None, state, TrainerControl(), logs=logs)


def warnings_of(caplog):
    return [r.getMessage() for r in caplog.records if r.name == "trl_vpd.no_signal"]


def test_warns_once_with_threshold_and_reward_range(caplog):
    callback = NoSignalCallback(success_reward_threshold=1.0, patience=3)
    with caplog.at_level(logging.WARNING):
        feed(callback, [silent(0.2), silent(0.45, std=0.3), silent(0.3)] + [silent(0.1)] * 10)
    (message,) = warnings_of(caplog)
    assert "success_reward_threshold=1" in message and "ranged 0.2 to 0.45" in message
    assert "deviation reached 0.3" in message and "plain GRPO" in message


@pytest.mark.parametrize("key", ["vpd/feedback_coverage", "vpd/sibling_solution_coverage"])
def test_no_warning_while_there_is_signal(caplog, key):
    callback = NoSignalCallback(success_reward_threshold=1.0, patience=3)
    logs = [silent(0.2), silent(0.2), {**silent(0.9), key: 0.25}, silent(0.2), silent(0.2)]  # signal resets the count
    with caplog.at_level(logging.WARNING):
        feed(callback, logs)
    assert warnings_of(caplog) == []


def test_ignores_logs_that_are_not_vpd_training_logs(caplog):
    callback = NoSignalCallback(success_reward_threshold=1.0, patience=2)
    with caplog.at_level(logging.WARNING):
        feed(callback, [{"reward": 0.1}, {"eval_loss": 1.0}, {"reward": 0.1}, {"train_runtime": 3.0}])
    assert warnings_of(caplog) == []


def test_only_the_main_process_speaks(caplog):
    callback = NoSignalCallback(success_reward_threshold=1.0, patience=1)
    with caplog.at_level(logging.WARNING):
        feed(callback, [silent(0.1)], main_process=False)
    assert warnings_of(caplog) == [] and callback.warned


def test_trainer_warns_when_rewards_never_reach_the_threshold(tiny_model, tiny_tokenizer, tmp_path, caplog):
    """A reward that tops out at 0.5 under the default threshold 1.0 and no feedback function: VPD has nothing to
    distil, and the trainer's own callback says so."""
    from trl_vpd import VPDConfig, VPDTrainer
    from trl_vpd.demo import make_addition_dataset

    args = VPDConfig(
        output_dir=str(tmp_path), max_steps=3, per_device_train_batch_size=4, num_generations=2,
        max_completion_length=4, logging_steps=1, report_to="none", save_strategy="no", e_step=False,
        teacher_mode="frozen", disable_tqdm=True,
    )  # fmt: skip
    trainer = VPDTrainer(
        model=tiny_model,
        reward_funcs=lambda completions, **kwargs: [0.5 * (i % 2) for i in range(len(completions))],
        args=args,
        train_dataset=make_addition_dataset(16),
        processing_class=tiny_tokenizer,
    )
    (callback,) = [c for c in trainer.callback_handler.callbacks if isinstance(c, NoSignalCallback)]
    callback.patience = 2
    with caplog.at_level(logging.WARNING):
        trainer.train()
    (message,) = warnings_of(caplog)
    assert "success_reward_threshold=1" in message and "ranged" in message


def test_unscored_rewards_are_reported_not_crashed_on(caplog):
    """GRPO logs `reward: None` when every reward function returned None (TRL's `test_warning_raised_all_rewards_none`):
    the callback must keep going and say that no reward was scored."""
    callback = NoSignalCallback(success_reward_threshold=1.0, patience=2)
    with caplog.at_level(logging.WARNING):
        feed(callback, [silent(None, std=None), silent(float("nan"), std=float("nan"))])
    (message,) = warnings_of(caplog)
    assert "no reward was scored" in message
