"""A 2-process CPU (gloo) DDP run under `accelerate launch`: VPD trains and every rank ends with the same weights."""

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).parent / "scripts" / "ddp_train.py"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.distributed
@pytest.mark.parametrize(
    "teacher_mode, em_schedule, chunk",
    [("adapter", "joint", ""), ("adapter", "sequential", ""), ("shared", "joint", ""), ("shared", "joint", "0"),
     ("adapter", "joint", "2")],
)
def test_two_process_ddp(tmp_path, teacher_mode, em_schedule, chunk):
    _launch(tmp_path, teacher_mode, em_schedule, chunk)
    outcome = json.loads((tmp_path / "ddp_result.json").read_text())
    assert {"vpd/distill_loss", "vpd/e_loss", "vpd/beta_e", "vpd/kl_e"} <= set(outcome["metrics"])
    if teacher_mode == "adapter":
        assert outcome["teacher_changed"]


@pytest.mark.distributed
@pytest.mark.parametrize(
    "scenario, teacher_mode",
    [("feedback_rank0", "shared"), ("failed_rank1", "shared"), ("lengths", "shared"), ("feedback_rank0", "adapter"),
     ("feedback_rank0_e_without_solutions", "shared"), ("lengths_detached", "shared"), ("lengths_detached", "adapter"),
     ("failed_rank1_swapped", "shared"), ("failed_rank1_swapped", "adapter"), ("failed_rank1_defaults", "shared"),
     ("failed_rank1_repairs", "shared"), ("failed_rank1_repairs", "adapter"), ("failed_rank1", "adapter_full"),
     ("feedback_rank0_e_mixed", "adapter"), ("failed_rank1_beta", "adapter_full"),
     ("feedback_rank0_gradratio", "shared"), ("feedback_rank0_gradwindow", "shared")],
)
def test_ranks_with_different_data_take_the_same_collectives(tmp_path, scenario, teacher_mode):
    """Teacher context on one rank only (also for half the E-step's rollouts, mixed contexts; with the gradient
    balance), every rollout failed on one rank, different padded teacher lengths, the swapped-feedback term trained on
    one rank only, the default teacher and contexts (critiques only in all-failed groups), teacher repairs generated
    and scored on one rank only, a full-weights student's teacher adapter (its gradients averaged by the trainer; with
    β > 0 on GRPO's reference model): the E-step (auto chunks) must not hang, and both ranks end with the same weights
    (and the balance's running means)."""
    _launch(tmp_path, teacher_mode, "joint", "", scenario=scenario)
    outcome = json.loads((tmp_path / "ddp_result.json").read_text())
    assert "vpd/e_loss" in outcome["metrics"]
    if teacher_mode == "adapter_full":
        assert outcome["teacher_changed"] and outcome["teacher_mode"] == "adapter"
    if scenario.endswith("_swapped"):
        assert "vpd/feedback_gain" in outcome["metrics"]
    if scenario.endswith("_defaults"):  # full weights: a teacher adapter on a copy, critiques where no sibling succeeded
        assert (outcome["teacher_mode"], outcome["feedback_only_without_solution"]) == ("adapter", True)
    if scenario.endswith("_beta"):  # β > 0: the teacher adapter sits on GRPO's reference model on every rank
        assert outcome["teacher_on_grpo_reference"] and outcome["teacher_changed"] and outcome["identical"]
    if scenario.endswith(("_gradratio", "_gradwindow")):  # rank 1 had no distillation tokens; both hold rank 0's means
        assert all(outcome["balance"]) and outcome["identical"]
        assert "vpd/distill_coefficient" in outcome["metrics"]
        assert outcome["balance_calibrated"] == scenario.endswith("_gradwindow")  # then the norms were read no more
    if scenario.endswith("_repairs"):  # rank 1's all-failed group got a repair; rank 0 took the same collectives
        assert {"vpd/repaired_groups", "vpd/repair_loss"} <= set(outcome["metrics"])


@pytest.mark.distributed
def test_ranks_whose_e_step_trains_on_different_rollouts_take_the_same_collectives(tmp_path):
    """The E-step's teacher pass with gradient covers only the rollouts with an E-loss term: every rollout of rank 0
    has one, none of rank 1 (chunks of 3 rollouts), so rank 1 runs passes without gradient that rank 0 does not, and
    both ranks still take one pass with gradient per chunk and end with the same weights."""
    _launch(tmp_path, "shared", "joint", "3", scenario="trained_rank0")
    outcome = json.loads((tmp_path / "ddp_result.json").read_text())
    assert outcome["identical"] and "vpd/e_loss" in outcome["metrics"]
    passes = [json.loads((tmp_path / f"passes_rank{rank}.json").read_text()) for rank in (0, 1)]
    steps = 3  # max_steps, an E-step on each
    assert passes[0] == [[True, 3], [True, 1]] * steps, passes[0]
    assert passes[1] == [[True, 1], [False, 2], [True, 1]] * steps, passes[1]


def _launch(tmp_path, teacher_mode, em_schedule, chunk, scenario=""):
    # `--multi_gpu` on a machine without a GPU launches two processes; `use_cpu=True` makes them MULTI_CPU (gloo).
    command = [
        sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", "2",
        "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no",
        "--main_process_port", str(_free_port()), str(SCRIPT), str(tmp_path), teacher_mode, em_schedule, chunk,
    ]  # fmt: skip
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1", "VPD_DDP_SCENARIO": scenario}
    result = subprocess.run(command, capture_output=True, text=True, timeout=600, env=env)
    assert result.returncode == 0, result.stderr[-4000:]
    outcome = json.loads((tmp_path / "ddp_result.json").read_text())
    assert outcome["ranks"] == 2
    assert outcome["identical"], "ranks diverged: gradients were not averaged"
