"""2-process DeepSpeed ZeRO-2/3 runs on CPU under `accelerate launch`: VPD trains with every M-step mode and the
shared and frozen teachers, every rank ends with the same weights, and the VPD metrics are logged."""

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("deepspeed")

SCRIPT = Path(__file__).parent / "scripts" / "deepspeed_train.py"

# `use_cpu: false` with `DS_ACCELERATOR=cpu`: accelerate starts DeepSpeed's CPU accelerator on two processes (gloo).
ACCELERATE_CONFIG = """\
compute_environment: LOCAL_MACHINE
distributed_type: DEEPSPEED
deepspeed_config:
  zero_stage: {stage}
  offload_optimizer_device: none
  offload_param_device: none
  zero3_init_flag: false
  gradient_accumulation_steps: {ga}
  gradient_clipping: 1.0
mixed_precision: 'no'
num_machines: 1
num_processes: 2
machine_rank: 0
main_training_function: main
rdzv_backend: static
same_network: true
use_cpu: false
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _launch(
    tmp_path, stage, teacher_mode, distillation_mode, ga=1, detach=False, repairs=False, frozen_reference=False,
    gradient_ratio=False,
):
    config = tmp_path / f"zero{stage}.yaml"
    config.write_text(ACCELERATE_CONFIG.format(stage=stage, ga=ga))
    command = [
        sys.executable, "-m", "accelerate.commands.launch", "--config_file", str(config),
        "--main_process_port", str(_free_port()), str(SCRIPT), str(tmp_path), teacher_mode, distillation_mode, str(ga),
        "1" if detach else "",
    ]  # fmt: skip
    env = {**os.environ, "DS_ACCELERATOR": "cpu", "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1",
           "VPD_DS_REPAIRS": "1" if repairs else "", "VPD_DS_FROZEN_REFERENCE": "1" if frozen_reference else "",
           "VPD_DS_GRADIENT_RATIO": "1" if gradient_ratio else ""}
    result = subprocess.run(command, capture_output=True, text=True, timeout=600, env=env, check=False)
    assert result.returncode == 0, result.stderr[-6000:]
    return json.loads((tmp_path / "deepspeed_result.json").read_text())


def _check(outcome, stage, teacher_mode):
    assert outcome["zero_stage"] == stage
    assert outcome["ranks"] == 2
    assert outcome["identical"], "ranks ended with different weights"
    assert outcome["finite"]
    assert "lm_head.weight" in outcome["changed"]
    assert {"vpd/distill_loss", "vpd/teacher_student_kl", "vpd/feedback_coverage"} <= set(outcome["metrics"])
    if teacher_mode in ("shared", "default"):
        assert {"vpd/e_loss", "vpd/kl_e", "vpd/beta_e"} <= set(outcome["metrics"])
    if teacher_mode == "ema":
        assert outcome["teacher_changed"]


@pytest.mark.distributed
def test_zero2_and_zero3_train_the_same_weights(tmp_path):
    """Default M-step (top-k) with the shared teacher (E-step on): ZeRO-3 reads the LM head from its shards, ZeRO-2 from
    the replicated weight; the same seeds must give the same weights, element by element (a random projection of each
    parameter agrees to float noise, ~1e-6; dropping the distillation gradient of the ZeRO-3 head moves it by >1e-2)."""
    outcomes = {}
    for stage in (2, 3):
        (tmp_path / str(stage)).mkdir()
        outcomes[stage] = _launch(tmp_path / str(stage), stage, "shared", "topk")
        _check(outcomes[stage], stage, "shared")
    zero2, zero3 = outcomes[2]["digest"], outcomes[3]["digest"]
    assert zero2.keys() == zero3.keys()
    for name in zero2:
        assert abs(zero2[name] - zero3[name]) <= 1e-4 * max(abs(zero2[name]), 1.0), name


@pytest.mark.distributed
@pytest.mark.parametrize(
    "stage, teacher_mode, distillation_mode, ga",
    [(2, "frozen", "sampled", 1), (3, "shared", "full", 2), (3, "ema", "topk", 1)],
)
def test_two_process_deepspeed(tmp_path, stage, teacher_mode, distillation_mode, ga):
    _check(_launch(tmp_path, stage, teacher_mode, distillation_mode, ga), stage, teacher_mode)


@pytest.mark.distributed
def test_default_teacher_of_a_full_weights_student_under_zero2_is_the_shared_one(tmp_path):
    """`teacher_mode=None` for a full-weights student resolves to a teacher adapter on a frozen copy on one process or
    DDP, but DeepSpeed does not shard the adapter's optimizer: the shared teacher there, and the trainer knew it was
    sharded before it would have copied the model."""
    outcome = _launch(tmp_path, 2, "default", "topk")
    _check(outcome, 2, "default")
    assert (outcome["teacher_mode"], outcome["sharded_before_the_trainer"]) == ("shared", True)


@pytest.mark.distributed
def test_zero3_detached_e_step_context(tmp_path):
    """`e_step_detach_context=True` under ZeRO-3: the context's forward without gradient and the completion's on its
    cache each gather the sharded weights; the shared teacher's E-step trains and the ranks agree."""
    _check(_launch(tmp_path, 3, "shared", "topk", detach=True), 3, "shared")


@pytest.mark.distributed
def test_zero3_exact_kl_e_against_the_reference_model(tmp_path):
    """β > 0 and the E-step's reference the initial weights under ZeRO-3: KL_E is the exact KL from GRPO's reference
    engine's hidden states and its gathered output head; the shared teacher trains and the ranks agree."""
    _check(_launch(tmp_path, 3, "shared", "topk", frozen_reference=True), 3, "shared")


@pytest.mark.distributed
def test_zero3_teacher_repairs_on_one_rank(tmp_path):
    """Teacher repairs under ZeRO-3: rank 1's all-failed group gets repairs, rank 0 has none, yet both enter the
    gathered generation and GRPO's reward gather; the ranks agree and the repair term trained."""
    outcome = _launch(tmp_path, 3, "shared", "topk", repairs=True)
    _check(outcome, 3, "shared")
    assert {"vpd/repaired_groups", "vpd/repair_loss"} <= set(outcome["metrics"])


def test_adapter_teacher_is_refused_under_deepspeed(tiny_model):
    """The teacher adapter's E-step is a second backward per micro-batch into its own optimizer: under DeepSpeed
    `accelerator.backward` also steps the engine (the student's optimizer) and ZeRO-3 partitions the adapter that
    optimizer would update. Refused when the teacher is built (in `VPDTrainer.__init__`), naming the alternatives."""
    from types import SimpleNamespace

    from peft import LoraConfig, get_peft_model

    from trl_vpd import VPDConfig
    from trl_vpd.teacher import build_teacher

    model = get_peft_model(tiny_model, LoraConfig(r=4, target_modules=["q_proj"], task_type="CAUSAL_LM"))
    args = VPDConfig(output_dir="unused", teacher_mode="adapter", report_to="none")
    trainer = SimpleNamespace(args=args, model=model, is_deepspeed_enabled=True, is_fsdp_enabled=False)
    with pytest.raises(NotImplementedError, match=r"teacher_mode='adapter'.*DeepSpeed.*use DDP"):
        build_teacher(trainer)


@pytest.mark.parametrize("deepspeed", [True, False])
def test_default_teacher_under_peft_is_the_shared_one_on_a_sharded_engine(tiny_model, deepspeed):
    """`teacher_mode=None` with a PEFT student: the shared teacher under DeepSpeed (which does not take the adapter's
    own optimizer), a teacher adapter otherwise."""
    from types import SimpleNamespace

    from peft import LoraConfig, get_peft_model

    from trl_vpd import VPDConfig
    from trl_vpd.teacher import AdapterTeacher, Teacher, build_teacher

    model = get_peft_model(tiny_model, LoraConfig(r=4, target_modules=["q_proj"], task_type="CAUSAL_LM"))
    args = VPDConfig(output_dir="unused", report_to="none")
    trainer = SimpleNamespace(args=args, model=model, is_deepspeed_enabled=deepspeed, is_fsdp_enabled=False)
    teacher = build_teacher(trainer)
    assert args.teacher_mode == ("shared" if deepspeed else "adapter")
    assert type(teacher) is (Teacher if deepspeed else AdapterTeacher)


@pytest.mark.distributed
def test_zero3_gradient_balance(tmp_path):
    """`distillation_gradient_ratio` under ZeRO-3 with gradient accumulation: the two terms' gradients at the backbone
    outputs are read through the sharded head before the engine's backward; the coefficient is logged, finite, and the
    ranks agree."""
    outcome = _launch(tmp_path, 3, "shared", "topk", ga=2, gradient_ratio=True)
    _check(outcome, 3, "shared")
    assert {"vpd/grad_norm_grpo", "vpd/grad_norm_distill", "vpd/distill_coefficient"} <= set(outcome["metrics"])
