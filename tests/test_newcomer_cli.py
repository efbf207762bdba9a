"""A newcomer's first commands (issue 14): instant `--help`, one-line errors that name the argument, a suggestion
for a misspelt flag while real `accelerate launch` options still pass through, notes when the CLI changes a setting
or a GPU-sized recipe starts on a CPU, whole recipe descriptions, a CPU smoke run of every recipe, and a demo whose
output holds no library noise."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from trl_vpd.cli import (
    _explain_config_error,
    find_recipe,
    list_recipes,
    load_recipe,
    main,
    make_parser,
    make_passive,
    recipe_description,
    warn_if_gpu_sized,
)

REPO = Path(__file__).resolve().parent.parent
RECIPES = list_recipes()


def run_cli(capsys, *argv):
    """`trl-vpd argv`, in process: (return code, stderr)."""
    code = main(list(argv))
    return code, capsys.readouterr().err.strip()


def test_help_imports_nothing_heavy():
    """`trl-vpd --help` used to take 11 s importing torch, Transformers and PEFT; now it imports none of them."""
    code = (
        "import sys; from trl_vpd.cli import main; main(['--help']); "
        "heavy = [m for m in ('torch', 'transformers', 'peft', 'bitsandbytes') if m in sys.modules]; "
        "assert not heavy, heavy"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "recipes" in result.stdout and "demo" in result.stdout


def test_misspelt_flag_gets_a_suggestion(capsys):
    code, err = run_cli(capsys, "train", "--config", "science_sciknoweval", "--e_step_evrey", "3")
    assert code == 2
    assert err == "trl-vpd train: error: unknown argument --e_step_evrey; did you mean --e_step_every?"


def test_unknown_flag_without_a_near_miss(capsys):
    code, err = run_cli(capsys, "train", "--config", "science_sciknoweval", "--zzqx", "1")
    assert code == 2 and err == "trl-vpd train: error: unknown argument --zzqx"


def test_accelerate_options_still_pass_through(monkeypatch):
    """Real `accelerate launch` options (both spellings, `--flag=value` too) reach accelerate, the rest stays ours."""
    import accelerate.commands.launch as launch_module

    launched = []
    monkeypatch.setattr(launch_module, "launch_command", launched.append)
    argv = ["train", "--config", "cold_start", "--mixed-precision=no", "--num_processes", "2", "--max_steps", "3"]
    assert main(argv) == 0
    (args,) = launched
    assert args.mixed_precision == "no" and args.num_processes == 2
    assert "--max_steps" in args.training_script_args and "--num_processes" not in args.training_script_args


@pytest.mark.parametrize(
    "flags, expected",
    [
        (["--distillation_alpha", "2"], "distillation_alpha must be in [0, 1], got 2.0."),
        (["--teacher_mode", "foo"], "teacher_mode must be one of"),
        (["--learning_rate", "abc"], "argument --learning_rate/--learning-rate: invalid float value: 'abc'"),
        (["--trainer", "ppo"], "argument --trainer: invalid choice: 'ppo'"),
    ],
)
def test_config_mistakes_are_one_line(capsys, flags, expected):
    code, err = run_cli(capsys, "train", "--config", "science_sciknoweval", *flags)
    assert code == 2
    assert "\n" not in err and "Traceback" not in err
    assert err.startswith("trl-vpd train: error: ") and expected in err


def test_unknown_recipe_is_one_line(capsys):
    code, err = run_cli(capsys, "train", "--config", "sciense")
    assert code == 2 and "\n" not in err
    assert "--config sciense: neither a file nor a shipped recipe; shipped: code_livecodebench" in err


def test_unimportable_feedback_function_names_the_argument(capsys):
    """Resolved before any model is loaded; the error names the argument, the value and the import failure."""
    code, err = run_cli(capsys, "train", "--config", "science_sciknoweval", "--feedback_funcs", "my_mod.fb")
    (err,) = [line for line in err.splitlines() if "error" in line]  # after the note that the recipe wants a GPU
    assert code == 2 and "Traceback" not in err
    assert "--feedback_funcs my_mod.fb: No module named 'my_mod'" in err


def test_unknown_registered_name_names_the_argument(capsys):
    code, err = run_cli(capsys, "train", "--config", "science_sciknoweval", "--reward_funcs", "chioce")
    assert code == 2 and "--reward_funcs chioce: Unknown reward function 'chioce'" in err


def test_bf16_on_a_cpu_points_to_smoke():
    error = ValueError("Your setup doesn't support bf16/gpu. You need to assign use_cpu if you want to train on CPU.")
    message = _explain_config_error(error)
    assert message.startswith("--bf16 true needs a GPU") and "--smoke" in message and "--use_cpu true" in message


def test_traceback_on_request(monkeypatch):
    monkeypatch.setenv("TRL_VPD_TRACEBACK", "1")
    with pytest.raises(Exception, match="unknown argument --e_step_evrey"):
        main(["train", "--config", "science_sciknoweval", "--e_step_evrey", "3"])


def test_sdpo_passive_says_when_it_changes_the_teacher(capsys):
    args = make_parser().parse_args_and_config(["--output_dir", "x", "--teacher_mode", "adapter"])[1]
    make_passive(args, announce=True)
    err = capsys.readouterr().err
    assert args.teacher_mode == "ema" and args.e_step is False
    assert "--trainer sdpo-passive: teacher_mode adapter -> ema" in err
    make_passive(args, announce=True)  # already passive: nothing to say
    assert capsys.readouterr().err == ""


def test_gpu_sized_recipe_on_a_cpu_warns(capsys, tmp_path):
    import torch

    if torch.cuda.is_available():
        pytest.skip("the warning is for machines without a GPU")
    prepared = tmp_path / "recipe.yaml"
    prepared.write_text(yaml.safe_dump(load_recipe(find_recipe("science_sciknoweval"))))
    _, training_args, model_args, _ = make_parser().parse_args_and_config(["--config", str(prepared)])
    warn_if_gpu_sized(training_args, model_args)
    err = capsys.readouterr().err
    assert "sized for a GPU (a 4-bit base model, 2048-token completions" in err and "--smoke" in err


@pytest.mark.parametrize("recipe", RECIPES)
def test_recipes_command_prints_whole_descriptions(recipe, capsys):
    assert main(["recipes"]) == 0
    printed = " ".join(capsys.readouterr().out.split())
    description = recipe_description(find_recipe(recipe))
    assert description.endswith(".") and " ".join(description.split()) in printed


@pytest.mark.slow
@pytest.mark.parametrize("recipe", RECIPES)
def test_every_recipe_has_a_cpu_smoke_run(recipe, tmp_path, monkeypatch, capsys):
    """`--smoke` trains the recipe's own adapter, verifier, LoRA student and teacher adapter on a tiny local model
    and the recipe's fixture, then saves the student at the root and the teacher in `vpd_teacher/`."""
    monkeypatch.chdir(tmp_path)  # the smoke data path is resolved against the recipe, not the working directory
    out = tmp_path / "out"
    assert main(["train", "--config", recipe, "--smoke", "--output_dir", str(out)]) == 0
    assert "--smoke:" in capsys.readouterr().err
    assert (out / "adapter_model.safetensors").is_file()
    assert (out / "vpd_teacher" / "adapter_model.safetensors").is_file()
    # The card is true for a local model and local data: no Hub links to them, no `None`, the run's settings.
    card = (out / "README.md").read_text()
    for wrong in ("[None]", '"None"', "huggingface.co/datasets", "https://huggingface.co/tmp", "base_model:"):
        assert wrong not in card, wrong
    assert "local data (`" in card and "| teacher mode | `adapter` |" in card and "`vpd_teacher/` is the **teacher**" in card


def test_demo_output_has_no_library_noise(tmp_path):
    """No bitsandbytes kernel warning, no Transformers `gradient_checkpointing` FutureWarnings, no DeepSpeed CPU
    notice: the demo prints only its own lines."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONWARNINGS",)}
    result = subprocess.run(
        [sys.executable, "-m", "trl_vpd.cli", "demo", "--output_dir", str(tmp_path), "--max_steps", "2", "--no_plot",
         "--warm_start_steps", "5"],
        capture_output=True, text=True, timeout=600, env=env, cwd=tmp_path,
    )  # fmt: skip
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    for noise in ("gemm_4bit_forward", "FutureWarning", "gradient_checkpointing", "Setting accelerator to CPU",
                  "train dataset"):
        assert noise not in output, output
    assert "reward, mean of the last 5 steps" in result.stdout
