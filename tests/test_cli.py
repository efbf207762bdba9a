"""The `trl-vpd` CLI: every shipped recipe parses into the four dataclasses, a recipe trains end to end on a tiny
local model and fixture (QLoRA, adapter teacher, model card), baselines run from the same recipe, `--accelerate_config`
goes through `accelerate launch`, and `trl-vpd demo` completes."""

import dataclasses
import json
import re
from pathlib import Path

import pytest
import yaml
from trl import DatasetMixtureConfig, GRPOConfig, ModelConfig

from trl_vpd.cli import (
    SMOKE_SETTINGS,
    VPDScriptArguments,
    find_recipe,
    grpo_config,
    list_recipes,
    load_recipe,
    main,
    make_parser,
    make_passive,
)
from trl_vpd.config import VPDConfig

FIXTURES = Path(__file__).parent / "fixtures"
RECIPES = list_recipes()


def test_the_four_recipes_ship():
    assert {"science_sciknoweval", "code_livecodebench", "math_stress", "cold_start"} <= set(RECIPES)


@pytest.mark.parametrize("recipe", RECIPES)
def test_recipe_keys_are_dataclass_fields(recipe):
    config = yaml.safe_load(open(find_recipe(recipe)))
    known = {
        f.name
        for cls in (VPDScriptArguments, VPDConfig, ModelConfig, DatasetMixtureConfig)
        for f in dataclasses.fields(cls)
    }
    assert set(config) - {"env", "smoke"} <= known, set(config) - known
    # Every recipe has a CPU smoke path whose keys are fields too, and whose data ships in the repository.
    assert set(config["smoke"]) | set(SMOKE_SETTINGS) <= known
    assert (Path(find_recipe(recipe)).parent / config["smoke"]["dataset_name"]).is_file()
    # Sized for one GPU with QLoRA and a teacher adapter, as the README promises.
    assert config["load_in_4bit"] and config["use_peft"] and config["teacher_mode"] == "adapter"
    assert "/" in config["model_name_or_path"] and config["reward_funcs"] and config["feedback_funcs"]


@pytest.mark.parametrize("recipe", RECIPES)
def test_recipe_parses_for_every_trainer(recipe, tmp_path):
    prepared = tmp_path / "recipe.yaml"  # what `trl-vpd train` hands TrlParser: the recipe without its smoke section
    prepared.write_text(yaml.safe_dump(load_recipe(find_recipe(recipe))))
    argv = ["--config", str(prepared)]
    *parsed, config_remaining, cli_remaining = make_parser().parse_args_and_config(
        argv, return_remaining_strings=True, separate_remaining_strings=True
    )
    script_args, training_args, model_args, _ = parsed
    assert config_remaining == [] and cli_remaining == []
    assert isinstance(training_args, VPDConfig) and script_args.trainer == "vpd"
    assert model_args.load_in_4bit and training_args.teacher_mode == "adapter"
    assert script_args.dataset_adapter is not None

    grpo = grpo_config(argv + ["--trainer", "grpo"])
    assert type(grpo) is GRPOConfig and not hasattr(grpo, "teacher_mode")
    assert grpo.learning_rate == training_args.learning_rate and grpo.num_generations == training_args.num_generations

    make_passive(training_args)
    assert training_args.e_step is False and training_args.teacher_mode in ("frozen", "ema")


def test_recipe_with_unknown_key_is_rejected(tmp_path, capsys):
    recipe = tmp_path / "bad.yaml"
    recipe.write_text(yaml.safe_dump({"model_name_or_path": "x", "teacher_mood": "adapter"}))
    assert main(["train", "--config", str(recipe)]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "teacher_mood; did you mean teacher_mode?" in err


def test_unknown_trainer_is_rejected(tmp_path):
    with pytest.raises(SystemExit):  # a flag: argparse checks the choices
        make_parser().parse_args_and_config(["--trainer", "ppo", "--output_dir", str(tmp_path)])
    recipe = tmp_path / "ppo.yaml"
    recipe.write_text(yaml.safe_dump({"trainer": "ppo", "output_dir": str(tmp_path)}))
    with pytest.raises(ValueError, match="trainer must be one of"):  # a recipe value: the dataclass checks it
        make_parser().parse_args_and_config(["--config", str(recipe)])


def test_accelerate_config_goes_through_accelerate_launch(monkeypatch):
    """`--accelerate_config multi_gpu` resolves TRL's shipped config and relaunches `-m trl_vpd.cli train`."""
    import accelerate.commands.launch as launch_module

    launched = []
    monkeypatch.setattr(launch_module, "launch_command", launched.append)
    argv = ["train", "--config", "science_sciknoweval", "--accelerate_config", "multi_gpu", "--num_processes", "2"]
    assert main(argv) == 0
    (args,) = launched
    assert Path(args.config_file).parts[-2:] == ("accelerate_configs", "multi_gpu.yaml")
    assert args.module and args.training_script == "trl_vpd.cli" and args.num_processes == 2
    assert args.training_script_args[:2] == ["train", "--config"]
    assert args.training_script_args[2].endswith("science_sciknoweval.yaml")
    assert "--accelerate_config" not in args.training_script_args


TINY_RUN = [
    "--max_steps", "2", "--per_device_train_batch_size", "4", "--gradient_accumulation_steps", "1",
    "--num_generations", "2", "--max_completion_length", "8", "--max_teacher_prompt_length", "512",
    "--use_cpu", "true", "--bf16", "false", "--dtype", "float32", "--gradient_checkpointing", "false",
    "--report_to", "none", "--save_strategy", "no", "--log_completions", "false", "--logging_steps", "1",
    "--e_step_every", "1", "--distillation_topk", "10", "--dataset_train_split", "train",
]  # fmt: skip


def test_science_recipe_trains_end_to_end_with_qlora(tiny_model_dir, tmp_path):
    """The science recipe as shipped (4-bit base, LoRA student, LoRA teacher adapter, `choice` reward and feedback),
    with only the model, the data and the sizes overridden; the final model card cites the paper."""
    out = tmp_path / "vpd"
    data = str(FIXTURES / "sciknoweval_adapter_sample.jsonl")
    argv = ["train", "--config", "science_sciknoweval", "--model_name_or_path", tiny_model_dir,
            "--dataset_name", data, "--output_dir", str(out)]  # fmt: skip
    assert main(argv + TINY_RUN) == 0
    assert (out / "adapter_model.safetensors").is_file()
    assert (out / "vpd_teacher" / "adapter_model.safetensors").is_file()  # the teacher adapter is saved too
    card = (out / "README.md").read_text()
    assert "2605.15113" in card and "VPD" in card


@pytest.mark.parametrize("trainer", ["grpo", "sdpo-passive"])
def test_baselines_run_from_the_same_recipe(tiny_model_dir, tmp_path, trainer):
    out = tmp_path / trainer
    argv = ["train", "--config", "cold_start", "--trainer", trainer, "--model_name_or_path", tiny_model_dir,
            "--dataset_name", str(FIXTURES / "gsm8k_adapter_sample.jsonl"), "--output_dir", str(out),
            "--load_in_4bit", "false", "--use_peft", "false"]  # fmt: skip
    argv += TINY_RUN + ["--max_steps", "1"]
    assert main(argv) == 0
    assert (out / "model.safetensors").is_file()
    card = (out / "README.md").read_text()
    assert ("2605.15113" in card) == (trainer != "grpo")


def test_demo_command(tmp_path, capsys):
    assert main(["demo", "--output_dir", str(tmp_path), "--max_steps", "4", "--warm_start_steps", "20"]) == 0
    printed = capsys.readouterr().out
    assert "vpd/beta_e" in printed
    assert "warm start: 20 supervised steps" in printed and "teacher repair on the sums the student gets wrong:" in printed
    # The summary leads with what training changed (greedy student success, teacher repair), then the smoothed
    # reward and its change, not the noisy last step.
    summary = printed.strip().splitlines()[-1]
    assert summary.startswith("student greedy success ") and "teacher repair " in summary
    assert "; reward, mean of the last 5 steps:" in summary
    history = json.loads((tmp_path / "log_history.json").read_text())
    assert sum("reward" in entry for entry in history) == 4
    # the teacher is measured before the first step and after the last: both join those steps' log lines
    measured = [entry["step"] for entry in history if "vpd/teacher_eval/teacher_repair" in entry]
    assert measured == [1, 4]
    # ... also on the sums the student got wrong before training, which at the start are the same sums
    fixed = [e for e in history if "vpd/teacher_eval/teacher_repair_initial" in e]
    assert [e["step"] for e in fixed] == [1, 4]
    for key in ("teacher_repair", "feedback_specificity"):
        assert fixed[0][f"vpd/teacher_eval/{key}_initial"] == fixed[0][f"vpd/teacher_eval/{key}"]
    assert "on the sums it got wrong before training" in printed and "on the sums wrong before training)" in summary
    assert re.search(r"before training \d\.\d\d -> \d\.\d\d \(specificity [+-]\d\.\d\d -> [+-]\d\.\d\d\)", printed)
    assert (tmp_path / "metrics.csv").read_text().startswith("step,")
    assert (tmp_path / "metrics.png").stat().st_size > 0


def test_help_and_unknown_command(capsys):
    assert main([]) == 0
    assert "demo" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["bogus"])


def test_demo_warm_start_data_is_what_the_teacher_reads():
    """The warm start's examples: plain questions, and the trainer's own teacher template with the grader's feedback
    on a wrong guess, a correct solution, or both; every target is the right sum."""
    from trl_vpd.demo import demo_config, warm_start_dataset

    args = demo_config("unused")
    rows = warm_start_dataset(args, num_examples=600, seed=3)
    kinds = {"plain": 0, "feedback": 0, "solution": 0, "both": 0}
    for prompt, completion in zip(rows["prompt"], rows["completion"]):
        a, b = map(int, re.search(r"What is (\d+) \+ (\d+)\?", prompt[-1]["content"]).groups())
        assert completion[0]["content"] == str(a + b)
        text = prompt[-1]["content"]
        fb = re.search(r"You answered (\d+), but the sum is (\d+)\.", text)
        sol = args.solution_template.format(solution=a + b) in text
        if fb:
            assert fb.group(1) != str(a + b) and fb.group(2) == str(a + b)
        if fb or sol:  # the question first, then the template's parts and its closing instruction
            assert text.startswith(f"What is {a} + {b}?") and text.endswith("solve the original problem correctly.")
        kinds["both" if fb and sol else "feedback" if fb else "solution" if sol else "plain"] += 1
    assert kinds["plain"] == pytest.approx(300, abs=45) and min(kinds.values()) > 60, kinds


def test_demo_warm_start_cache_and_evaluation_curve(tmp_path, monkeypatch):
    """`warm_start_cache` trains the warm start once and loads it afterwards (a second run never calls `warm_start`
    and ends where the first did); `teacher_eval_every` measures student and teacher every so many steps and writes
    the measurements to `teacher_eval.json`."""
    import torch

    from trl_vpd import demo

    cache = tmp_path / "warm.pt"
    kwargs = dict(max_steps=2, plot=False, verbose=False, warm_start_steps=5, teacher_eval_prompts=8,
                  teacher_eval_every=1, warm_start_cache=cache)
    first = demo.run_demo(tmp_path / "a", **kwargs)
    saved = torch.load(cache)
    assert saved and all(torch.isfinite(t).all() for t in saved.values())

    def no_warm_start(*args, **kwargs):
        raise AssertionError("warm start retrained despite its cache")

    monkeypatch.setattr(demo, "warm_start", no_warm_start)
    second = demo.run_demo(tmp_path / "b", **kwargs)
    for key in ("student_success_end", "teacher_repair_end", "reward", "vpd/distill_loss"):
        assert second[key] == first[key], key
    curve = json.loads((tmp_path / "b" / "teacher_eval.json").read_text())
    assert [point["step"] for point in curve] == [0, 1, 2]
    assert curve[-1]["vpd/teacher_eval/student_success"] == second["student_success_end"]


def test_demo_rewards_partial_credit_and_exact():
    """The demo's reward gives half credit shrinking with the distance to the sum (group rewards differ even when all
    fail); the 0/1 reward gives 1 only for the right sum, whatever surrounds it."""
    from trl_vpd.demo import addition_reward, exact_addition_reward

    completions = ["7", "The answer is 7.", "8", "12", "no idea", "-3"]
    answers = ["7"] * len(completions)
    assert addition_reward(completions, answers) == pytest.approx([1.0, 1.0, 0.45, 0.25, 0.0, 0.0])
    assert exact_addition_reward(completions, answers) == [1.0, 1.0, 0.0, 0.0, 0.0, 0.0]


def test_demo_model_size_and_warm_start_reach_their_builders(tmp_path, monkeypatch):
    """`run_demo(hidden_size=, num_layers=, warm_start_learning_rate=)` size the model (MLP twice the hidden width)
    and set the warm start's learning rate (the benchmarks' larger demo model)."""
    from trl_vpd import demo, tiny

    seen = {}
    build = tiny.build_tiny_model

    def recording_build(tokenizer, **kwargs):
        seen["model"] = kwargs
        return build(tokenizer, **kwargs)

    def recording_warm_start(model, tokenizer, args, max_steps, learning_rate):
        seen["warm_start"] = (max_steps, learning_rate)
        return model

    monkeypatch.setattr(tiny, "build_tiny_model", recording_build)
    monkeypatch.setattr(demo, "warm_start", recording_warm_start)
    demo.run_demo(tmp_path, max_steps=1, plot=False, verbose=False, teacher_eval_prompts=0, hidden_size=16,
                  num_layers=1, warm_start_steps=3, warm_start_learning_rate=1e-3)
    assert seen["model"] == {"hidden_size": 16, "num_layers": 1, "intermediate_size": 32}
    assert seen["warm_start"] == (3, 1e-3)


@pytest.mark.parametrize(
    "teacher_mode, lora, peft, resolved",
    [(None, None, False, "adapter"), ("shared", None, False, "shared"), ("shared", True, True, "shared"),
     ("adapter", None, True, "adapter")],
)
def test_demo_trains_a_lora_student_with_any_teacher_on_request(tmp_path, monkeypatch, teacher_mode, lora, peft,
                                                                resolved):
    """`run_demo(lora=True)` hands the trainer a LoRA config whatever the teacher mode (a shared teacher under PEFT, as
    a QLoRA user runs it); by default only the adapter teacher, which needs one, gets it. The demo's default teacher
    is the library's for its full-weights student: a teacher adapter on a frozen copy, trained by its own optimizer."""
    from trl_vpd import demo, trainer

    seen = {}
    original = trainer.VPDTrainer.__init__

    def recording_init(self, *args, **kwargs):
        seen["peft_config"] = kwargs.get("peft_config")
        original(self, *args, **kwargs)
        seen["mode"], seen["own_parameters"] = self.args.teacher_mode, bool(self.teacher.parameters())

    monkeypatch.setattr(trainer.VPDTrainer, "__init__", recording_init)
    demo.run_demo(tmp_path, max_steps=1, plot=False, verbose=False, teacher_eval_prompts=0, hidden_size=16,
                  num_layers=1, warm_start_steps=0, teacher_mode=teacher_mode, lora=lora)
    assert (seen["peft_config"] is not None) == peft
    assert seen["mode"] == resolved and seen["own_parameters"] == (resolved == "adapter")
