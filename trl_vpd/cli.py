"""The `trl-vpd` command line, built like TRL's own (`trl grpo`): a `TrlParser` over four dataclasses, a flat YAML
recipe given with `--config`, and flags that override it.

    trl-vpd train --config recipes/science_sciknoweval.yaml [--flag value ...]
    trl-vpd train --config science_sciknoweval --trainer grpo          # a shipped recipe by name; GRPO baseline
    trl-vpd train --config science_sciknoweval --smoke                # CPU-sized run: tiny local model, fixtures
    trl-vpd train --config code_livecodebench --accelerate_config multi_gpu   # through `accelerate launch`
    accelerate launch --config_file my.yaml -m trl_vpd.cli train --config ...  # or launch it yourself
    trl-vpd demo [--output_dir DIR] [--max_steps N] [--teacher_mode MODE]
    trl-vpd recipes                                                   # list the shipped recipes

`train` runs in the current process. Like `trl grpo`, any argument that none of the four dataclasses knows goes to
`accelerate launch` (`--accelerate_config NAME|PATH` resolves TRL's shipped configs `single_gpu`, `multi_gpu`,
`zero1`-`zero3`, `fsdp1`, `fsdp2`; `--num_processes 4` and the like pass through), and then the script is relaunched
as `accelerate launch ... -m trl_vpd.cli train <the other arguments>`. An argument that is neither a field nor an
`accelerate launch` option is an error with the nearest field suggested; mistakes in the configuration are reported
in one line that names the argument (`TRL_VPD_TRACEBACK=1` shows the traceback). Nothing heavy is imported before a
command runs, so `trl-vpd --help` is instant.
"""

from __future__ import annotations

import argparse
import atexit
import difflib
import os
import sys
import tempfile
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

from trl import ScriptArguments

TRAINERS = ("vpd", "grpo", "sdpo-passive")
PASSIVE_TEACHERS = ("frozen", "ema")
_PACKAGE_DIR = Path(__file__).resolve().parent
# Recipes live in the repository's `recipes/`; an installed wheel may ship them as package data.
RECIPE_DIRS = (_PACKAGE_DIR.parent / "recipes", _PACKAGE_DIR / "recipes")
# `model_name_or_path: tiny` (smoke runs): a tiny random model built locally by `trl_vpd.tiny`, nothing downloaded.
TINY_MODEL = "tiny"
# What `--smoke` sets on top of every recipe (then the recipe's own `smoke:` section): a CPU-sized run of a few seconds
# a step that still goes through the recipe's data adapter, verifier, PEFT adapters and teacher mode.
SMOKE_SETTINGS = {
    "model_name_or_path": TINY_MODEL,
    "dtype": "float32",
    "load_in_4bit": False,  # bitsandbytes' 4-bit path is GPU-sized; the LoRA student and teacher adapters stay
    "use_cpu": True,
    "bf16": False,
    "gradient_checkpointing": False,
    "max_steps": 2,
    "warmup_steps": 0,
    "per_device_train_batch_size": 2,
    "gradient_accumulation_steps": 1,
    "num_generations": 2,
    "max_completion_length": 16,
    "max_teacher_prompt_length": 512,
    "max_feedback_length": 128,
    "distillation_topk": 10,
    "e_step_every": 1,
    "logging_steps": 1,
    "save_strategy": "no",
    "log_completions": False,
    "report_to": "none",
    "datasets": [],
}


class CLIError(Exception):
    """A mistake in the command line or the recipe: printed as one line that names the argument, no traceback."""


@dataclass
class VPDScriptArguments(ScriptArguments):
    """
    Script arguments of `trl-vpd train`: TRL's [`~trl.ScriptArguments`] (dataset name, config and splits) plus the
    reward and feedback sources, a dataset adapter, and which trainer runs the recipe.

    Args:
        reward_model_name_or_path (`str`, *optional*):
            A reward model (Hub id or local path), added to the reward functions, as in TRL's GRPO script.
        reward_funcs (`list[str]`, *optional*):
            Reward functions: names from `trl_vpd.registry` (`code`, `code_all_or_nothing`, `math`, `choice`,
            `exact`) or dotted import paths (`my_lib.rewards.my_reward`, the working directory is importable).
        feedback_funcs (`list[str]`, *optional*):
            Feedback functions, resolved the same way; a verifier named in both lists judges each completion once.
        dataset_adapter (`str`, *optional*):
            Adapter from `trl_vpd.data` (`sciknoweval`, `livecodebench`, `apps`, `humaneval`, `mbpp`, `math`,
            `gsm8k`) or a dotted path to a row function, mapping the dataset's columns to `prompt` (conversational),
            `answer`, `tests`, `entry_point` and `feedback`.
        trainer (`str`, *optional*, defaults to `"vpd"`):
            `vpd`: [`VPDTrainer`]. `grpo`: TRL's [`~trl.GRPOTrainer`] with only the recipe's `GRPOConfig` fields
            (the VPD fields and feedback functions are ignored). `sdpo-passive`: [`VPDTrainer`] with `e_step=False`
            and a passive teacher (`teacher_mode` `frozen` or `ema`; any other mode becomes `ema`, SDPO's default).
    """

    reward_model_name_or_path: str | None = field(
        default=None,
        metadata={"help": "Reward model id or local path, used besides the reward functions (as in `trl grpo`)."},
    )
    reward_funcs: list[str] | None = field(
        default=None,
        metadata={
            "help": "Reward functions: registered names (`code`, `code_all_or_nothing`, `math`, `choice`, `exact`) "
            "or dotted import paths such as `my_lib.rewards.my_reward`."
        },
    )
    feedback_funcs: list[str] | None = field(
        default=None,
        metadata={"help": "Feedback functions (one `str | None` per completion), resolved like `reward_funcs`."},
    )
    dataset_adapter: str | None = field(
        default=None,
        metadata={
            "help": "Dataset adapter from `trl_vpd.data` (`sciknoweval`, `livecodebench`, `apps`, `humaneval`, "
            "`mbpp`, `math`, `gsm8k`) or a dotted path to a function mapping one row to the VPD columns."
        },
    )
    trainer: str = field(
        default="vpd",
        metadata={
            "help": "Which trainer runs the recipe: `vpd`, `grpo` (TRL's GRPOTrainer, GRPOConfig fields only) or "
            "`sdpo-passive` (VPDTrainer without E-step, frozen/EMA teacher), so baselines share one recipe.",
            "choices": list(TRAINERS),
        },
    )

    def __post_init__(self):
        # A recipe's value becomes an argparse default, which argparse does not check against `choices`.
        if self.trainer not in TRAINERS:
            raise ValueError(f"trainer must be one of {TRAINERS}, got {self.trainer!r}.")


def make_parser(subparsers: argparse._SubParsersAction | None = None, prog: str | None = None, config_class=None):
    """`TrlParser((VPDScriptArguments, VPDConfig, ModelConfig, DatasetMixtureConfig))`, as `trl/scripts/grpo.py`
    builds its own; `config_class=GRPOConfig` gives the GRPO baseline's parser."""
    from trl import DatasetMixtureConfig, ModelConfig, TrlParser

    from .config import VPDConfig

    dataclass_types = (VPDScriptArguments, config_class or VPDConfig, ModelConfig, DatasetMixtureConfig)
    if subparsers is not None:
        return subparsers.add_parser("train", help="Train with VPD (or a baseline)", dataclass_types=dataclass_types)
    return TrlParser(dataclass_types, prog=prog)


def train(script_args, training_args, model_args, dataset_args):
    """Train as `trl/scripts/grpo.py` does, with VPD's feedback functions and trainer choice; returns the trainer.

    Mistakes found before training starts (an unknown reward or feedback function, a missing dataset, a trainer
    argument that does not fit) raise `CLIError` naming the argument; errors during training propagate."""
    import transformers
    from packaging.version import Version
    from trl import GRPOTrainer, get_peft_config, get_quantization_config

    from .data import apply_adapter
    from .registry import get_feedback_func, get_reward_func
    from .trainer import VPDTrainer

    reward_funcs = [script_args.reward_model_name_or_path] if script_args.reward_model_name_or_path else []
    reward_funcs += [_resolve_func(get_reward_func, "reward_funcs", name) for name in script_args.reward_funcs or []]
    if not reward_funcs:
        raise CLIError("no reward: set --reward_funcs (e.g. choice, code, math) or --reward_model_name_or_path.")
    feedback_funcs = [_resolve_func(get_feedback_func, "feedback_funcs", n) for n in script_args.feedback_funcs or []]

    model_init_kwargs = dict(
        revision=model_args.model_revision,
        trust_remote_code=training_args.trust_remote_code,
        attn_implementation=model_args.attn_implementation,
        dtype=model_args.dtype,
    )
    if training_args.model_init_kwargs is not None:
        model_init_kwargs.update(training_args.model_init_kwargs)
    training_args.model_init_kwargs = model_init_kwargs

    dataset = load_datasets(script_args, dataset_args)
    if script_args.dataset_adapter:
        try:
            dataset = apply_adapter(dataset, script_args.dataset_adapter)
        except (KeyError, ImportError, AttributeError, ValueError) as error:
            raise CLIError(f"--dataset_adapter {script_args.dataset_adapter}: {_one_line(error)}") from error
    if script_args.dataset_train_split not in dataset:
        raise CLIError(
            f"--dataset_train_split {script_args.dataset_train_split}: the dataset has the splits {list(dataset)}."
        )
    train_dataset = dataset[script_args.dataset_train_split]
    eval_dataset = dataset[script_args.dataset_test_split] if training_args.eval_strategy != "no" else None

    common = dict(
        model=model_args.model_name_or_path,
        reward_funcs=reward_funcs,
        args=training_args,
        train_dataset=train_dataset,
        eval_dataset=eval_dataset,
        quantization_config=get_quantization_config(model_args),
        peft_config=get_peft_config(model_args),
    )
    try:
        if script_args.trainer == "grpo":
            if feedback_funcs:
                _note("--trainer grpo: the feedback functions are not used (GRPO learns from rewards only).")
            trainer = GRPOTrainer(**common)
        else:
            if script_args.trainer == "sdpo-passive":
                make_passive(training_args, announce=True)
            trainer = VPDTrainer(**common, feedback_funcs=feedback_funcs)
    except ValueError as error:  # the trainers check their arguments against the model and data before training
        raise CLIError(_one_line(error)) from error

    trainer.train(resume_from_checkpoint=training_args.resume_from_checkpoint)
    trainer.accelerator.print("✅ Training completed.")

    trainer.save_model(training_args.output_dir)
    # `_save_checkpoint` writes a model card for each checkpoint; the final model gets one too (it cites the paper).
    trainer.create_model_card(model_name=Path(training_args.output_dir).name, dataset_name=script_args.dataset_name)
    trainer.accelerator.print(f"💾 Model saved to {training_args.output_dir}.")

    if training_args.push_to_hub:
        trainer.push_to_hub(dataset_name=script_args.dataset_name)
        trainer.accelerator.print(f"🤗 Model pushed to the Hub in https://huggingface.co/{trainer.hub_model_id}.")

    if Version(transformers.__version__) >= Version("5.18.0"):
        trainer.end()
    return trainer


def make_passive(training_args, announce: bool = False) -> None:
    """Passive self-distillation (SDPO-like): no E-step, a teacher that is not trained on outcomes. A trained teacher
    mode (`shared`, `adapter`) becomes `ema`, SDPO's default; `announce=True` says so on stderr."""
    training_args.e_step = False
    if training_args.teacher_mode not in PASSIVE_TEACHERS:
        if announce:
            mode = training_args.teacher_mode or "default"
            _note(
                f"--trainer sdpo-passive: teacher_mode {mode} -> ema (a passive teacher; pass --teacher_mode frozen "
                "for the initial weights instead), e_step -> false."
            )
        training_args.teacher_mode = "ema"


def load_datasets(script_args, dataset_args, logger=None):
    """A `DatasetDict`: the mixture in `datasets` if given, else `dataset_name` (a Hub id, a local folder, or a local
    `.json`/`.jsonl`/`.csv`/`.parquet` file, loaded as the train split)."""
    from datasets import load_dataset
    from trl import get_dataset

    if dataset_args.datasets:
        if script_args.dataset_name:
            _note("both `datasets` and `dataset_name` are given: using `datasets`.")
        return get_dataset(dataset_args)
    if not script_args.dataset_name:
        raise CLIError("no data: set --dataset_name (a Hub id, a folder or a .json/.jsonl/.csv/.parquet file).")
    name = script_args.dataset_name
    builders = {".json": "json", ".jsonl": "json", ".csv": "csv", ".parquet": "parquet"}
    try:
        if os.path.isfile(name) and Path(name).suffix in builders:
            return load_dataset(
                builders[Path(name).suffix],
                data_files={script_args.dataset_train_split: name},
                streaming=script_args.dataset_streaming,
            )
        return load_dataset(name, name=script_args.dataset_config, streaming=script_args.dataset_streaming)
    except (FileNotFoundError, ConnectionError, ValueError) as error:
        raise CLIError(f"--dataset_name {name}: {_one_line(error)}") from error


def _resolve_func(resolve, argument: str, name: str):
    """A reward or feedback function by registered name or dotted path; a failure names the argument."""
    try:
        return resolve(name)
    except (KeyError, ImportError, AttributeError, ValueError, TypeError) as error:
        message = error.args[0] if isinstance(error, KeyError) and error.args else error
        hint = "" if isinstance(error, KeyError) else " (a registered name, or a dotted path importable from here)"
        raise CLIError(f"--{argument} {name}: {_one_line(message)}{hint}") from error


# ---------------------------------------------------------------------------------------------------- commands


def find_recipe(name_or_path: str) -> str:
    """A recipe path: `name_or_path` itself if it is a file, else a shipped recipe with that name."""
    if os.path.isfile(name_or_path):
        return name_or_path
    for directory in RECIPE_DIRS:
        for candidate in (directory / name_or_path, directory / f"{name_or_path}.yaml"):
            if candidate.is_file():
                return str(candidate)
    raise CLIError(
        f"--config {name_or_path}: neither a file nor a shipped recipe; shipped: {', '.join(list_recipes()) or '-'}."
    )


def list_recipes() -> list[str]:
    names = set()
    for directory in RECIPE_DIRS:
        if directory.is_dir():
            names.update(path.stem for path in directory.glob("*.yaml"))
    return sorted(names)


def recipe_description(path: str) -> str:
    """The first paragraph of a recipe's header comment, joined into one string (whole sentences)."""
    lines = []
    with open(path) as handle:
        for line in handle:
            text = line[1:].strip() if line.startswith("#") else ""
            if not text:
                break
            lines.append(text)
    return " ".join(lines)


def load_recipe(path: str, smoke: bool = False) -> dict:
    """A recipe as a flat mapping for `TrlParser`: without its `smoke:` section, or, with `smoke=True`, with
    `SMOKE_SETTINGS` and then that section applied on top. In a smoke run, a relative `dataset_name` is read from the
    recipe's folder and `model_name_or_path: tiny` becomes a tiny model built and saved locally."""
    import yaml

    with open(path) as handle:
        config = yaml.safe_load(handle)
    if not isinstance(config, dict):
        raise CLIError(f"--config {path}: a recipe must be a YAML mapping.")
    section = config.pop("smoke", None) or {}
    if not smoke:
        return config
    config.update(SMOKE_SETTINGS)
    config.update(section)
    data = config.get("dataset_name")
    if data and not os.path.isabs(data) and (Path(path).parent / data).exists():
        config["dataset_name"] = str((Path(path).parent / data).resolve())
    if config.get("model_name_or_path") == TINY_MODEL:
        config["model_name_or_path"] = tiny_model_path()
    return config


def tiny_model_path() -> str:
    """The tiny model of smoke runs, built once into the user's cache (it stays, so that a smoke run's saved adapters
    keep a base model to load onto); built in a temporary folder and renamed, so parallel runs do not collide."""
    from .tiny import save_tiny_model

    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "trl-vpd" / "tiny-model-v1"
    if not (cache / "config.json").is_file():
        cache.parent.mkdir(parents=True, exist_ok=True)
        built = save_tiny_model(tempfile.mkdtemp(prefix="tiny-model-", dir=cache.parent))
        try:
            os.replace(built, cache)
        except OSError:  # another run got there first
            import shutil

            shutil.rmtree(built, ignore_errors=True)
    return str(cache)


def prepare_argv(argv: list[str]) -> tuple[list[str], bool]:
    """Resolve `--config NAME` to a recipe, apply `--smoke`, and point `--config` at the prepared recipe (a temporary
    file, kept until exit so an `accelerate launch` child can read it). Returns the new argv and whether it smokes."""
    argv = list(argv)
    smoke = "--smoke" in argv
    if smoke:
        argv.remove("--smoke")
    if "--config" not in argv:
        if smoke:
            raise CLIError("--smoke needs a recipe: trl-vpd train --config NAME --smoke.")
        return argv, smoke
    index = argv.index("--config") + 1
    if index >= len(argv):
        raise CLIError("--config needs a recipe name or path.")
    import yaml

    path = find_recipe(argv[index])
    try:
        config = load_recipe(path, smoke=smoke)
    except yaml.YAMLError as error:
        raise CLIError(f"--config {path}: not valid YAML ({_one_line(error)}).") from error
    prepared = Path(_temporary_dir("trl-vpd-recipe-")) / Path(path).name
    prepared.write_text(yaml.safe_dump(config, sort_keys=False))
    argv[index] = str(prepared)
    if smoke:
        _note(
            f"--smoke: {Path(path).stem} on a tiny local model ({config['model_name_or_path']}), "
            f"{config['max_steps']} steps of {config['per_device_train_batch_size']} completions, CPU, data "
            f"{config.get('dataset_name')}."
        )
    return argv, smoke


def train_command(argv: list[str]) -> int:
    """`trl-vpd train ...`: parse the recipe and flags; train here, or relaunch through `accelerate launch`."""
    from trl.cli.accelerate_config import resolve_accelerate_config_argument
    from trl.cli.commands.training import _subtract_subsequence

    argv, smoke = prepare_argv(argv)
    parser = make_parser(prog="trl-vpd train")
    parser.error = _raise_cli_error  # argparse's own errors (a bad value) as one line, not the 300-line usage
    known = [option for action in parser._actions for option in action.option_strings]
    check_flags(argv, known)  # before the dataclasses' own checks, so a typo is reported as a typo
    try:
        *parsed, config_remaining, cli_remaining = parser.parse_args_and_config(
            argv, return_remaining_strings=True, separate_remaining_strings=True
        )
    except ValueError as error:  # a field's own check (`VPDConfig.__post_init__`, `TrainingArguments`)
        raise CLIError(_explain_config_error(error)) from error
    if config_remaining:
        unknown = [item[2:] for item in config_remaining if item.startswith("--")]
        raise CLIError(
            "the recipe has keys that are no field of VPDScriptArguments, VPDConfig, ModelConfig or "
            f"DatasetMixtureConfig: {', '.join(_with_suggestion(key, known, prefix='') for key in unknown)}."
        )
    if cli_remaining:
        launch_args = resolve_accelerate_config_argument(cli_remaining)
        launch(launch_args, _subtract_subsequence(argv, cli_remaining))
        return 0

    script_args, training_args, model_args, dataset_args = parsed
    if not smoke:
        warn_if_gpu_sized(training_args, model_args)
    if script_args.trainer == "grpo":
        training_args = grpo_config(argv)
    train(script_args, training_args, model_args, dataset_args)
    return 0


def accelerate_launch_options() -> set[str]:
    """The option strings `accelerate launch` accepts, plus TRL's `--accelerate_config`."""
    from accelerate.commands.launch import launch_command_parser

    options = {option for action in launch_command_parser()._actions for option in action.option_strings}
    return (options - {"-h", "--help"}) | {"--accelerate_config"}


def check_flags(argv: list[str], fields: list[str]) -> None:
    """Every flag must be a field of the four dataclasses or an `accelerate launch` option (those go to accelerate):
    a misspelt field would otherwise reach accelerate and fail there, far from its cause."""
    options = None
    known = set(fields) | {"--config"}
    for item in argv:
        flag = item.split("=", 1)[0]
        if not item.startswith("-") or _is_number(item) or flag in known:
            continue
        options = options if options is not None else accelerate_launch_options()
        if flag not in options:
            raise CLIError(f"unknown argument {_with_suggestion(flag, list(fields) + sorted(options))}")


def warn_if_gpu_sized(training_args, model_args) -> None:
    """Say up front when a recipe sized for a GPU (4-bit base, long completions) starts on a machine without one."""
    import torch

    if torch.cuda.is_available() or getattr(torch, "xpu", None) is not None and torch.xpu.is_available():
        return
    sizes = []
    if model_args.load_in_4bit:
        sizes.append("a 4-bit base model")
    if training_args.max_completion_length and training_args.max_completion_length > 256:
        sizes.append(f"{training_args.max_completion_length}-token completions")
    if sizes:
        _note(
            f"this recipe is sized for a GPU ({', '.join(sizes)}, model {model_args.model_name_or_path}) and this "
            "machine has none: expect minutes per step. Add --smoke for a CPU-sized run of the same recipe."
        )


def grpo_config(argv: list[str]):
    """The same recipe and flags parsed as a plain `GRPOConfig` (the VPD-only fields are left out)."""
    from trl import GRPOConfig

    _, training_args, _, _, _ = make_parser(config_class=GRPOConfig).parse_args_and_config(
        argv, return_remaining_strings=True
    )
    return training_args


def launch(launch_args: list[str], training_script_args: list[str]) -> None:
    """`accelerate launch <launch_args> -m trl_vpd.cli train <training_script_args>` (what TRL's
    `launch_training_script` does for its own scripts)."""
    from accelerate.commands.launch import launch_command, launch_command_parser

    module_args = ["-m", "trl_vpd.cli", "train"]
    launch_command(launch_command_parser().parse_args(launch_args + module_args + training_script_args))


DEMO_TIME = "about 35 s on 2 quiet CPU cores"


def demo_command(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="trl-vpd demo",
        description=f"Warm-start a tiny local model on a built-in addition task, train VPD on it for 100 steps (no "
        f"download, {DEMO_TIME}), report the teacher's repair rate before and after, and write the metrics (JSON, CSV, "
        "PNG) to --output_dir.",
    )
    parser.add_argument("--output_dir", default="outputs/vpd-demo")
    parser.add_argument("--max_steps", type=int, default=100)
    parser.add_argument("--teacher_mode", default=None, choices=["shared", "adapter", "frozen", "ema"],
                        help="Default: the library's for this full-weights student (a teacher adapter on a frozen "
                        "copy of the initial model); `adapter`: a LoRA student with a LoRA teacher beside it.")
    parser.add_argument("--warm_start_steps", type=int, default=250,
                        help="Supervised steps before VPD (0: start from random weights).")
    parser.add_argument("--no_plot", action="store_true", help="Skip the PNG plot.")
    args = parser.parse_args(argv)

    from .demo import headline, run_demo

    final = run_demo(args.output_dir, max_steps=args.max_steps, teacher_mode=args.teacher_mode, plot=not args.no_plot,
                     warm_start_steps=args.warm_start_steps)
    print(headline(final))
    return 0


def recipes_command(argv: list[str]) -> int:
    width = 28
    for name in list_recipes():
        description = recipe_description(find_recipe(name))
        lines = textwrap.wrap(description, width=118 - width) or [""]
        print(f"{name:<{width}}{lines[0]}")
        for line in lines[1:]:
            print(" " * width + line)
    print("\nRun one: trl-vpd train --config NAME (add --smoke for a CPU-sized run on a tiny local model).")
    return 0


COMMANDS = {
    "train": (train_command, "Train from a recipe (`--config`) and flags; `--trainer grpo|sdpo-passive`: baselines"),
    "demo": (demo_command, f"Run the built-in tiny demo (no download, {DEMO_TIME})"),
    "recipes": (recipes_command, "List the shipped recipes"),
}


def main(argv: list[str] | None = None) -> int:
    """The `trl-vpd` console script."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(prog="trl-vpd", description="Variational Policy Distillation for TRL.")
    subparsers = parser.add_subparsers(dest="command", metavar="{" + ",".join(COMMANDS) + "}")
    for name, (_, help_text) in COMMANDS.items():
        subparsers.add_parser(name, help=help_text, add_help=False)
    if not argv or argv[0] in ("-h", "--help"):
        parser.print_help()
        return 0
    if argv[0] not in COMMANDS:
        parser.error(f"unknown command {argv[0]!r} (choose from {', '.join(COMMANDS)})")
    command, _ = COMMANDS[argv[0]]
    try:
        return command(argv[1:])
    except CLIError as error:
        if os.environ.get("TRL_VPD_TRACEBACK") == "1":
            raise
        print(f"trl-vpd {argv[0]}: error: {error}", file=sys.stderr)
        return 2


# ---------------------------------------------------------------------------------------------------- helpers


def _note(message: str) -> None:
    """A one-line notice on stderr, from the main process only."""
    if os.environ.get("RANK", "0") == "0":
        print(f"trl-vpd: {message}", file=sys.stderr, flush=True)


def _one_line(error) -> str:
    return " ".join(str(error).split())


def _raise_cli_error(message: str):
    raise CLIError(message)


def _explain_config_error(error: ValueError) -> str:
    """A field's check as one line; TrainingArguments' bf16 check gets the two ways out."""
    message = _one_line(error)
    if "bf16" in message and "use_cpu" in message:
        return (
            "--bf16 true needs a GPU and this machine has none: add --smoke for a CPU-sized run of the recipe, or "
            "--use_cpu true --bf16 false to run it as it is (slow: minutes per step)."
        )
    return message


def _with_suggestion(name: str, candidates: list[str], prefix: str = "--") -> str:
    """`name; did you mean X?` for the closest candidate, or `name` alone."""
    pool = {candidate.lstrip("-"): candidate for candidate in candidates}
    match = difflib.get_close_matches(name.lstrip("-"), list(pool), n=1, cutoff=0.75)
    return f"{name}; did you mean {prefix}{match[0]}?" if match else name


def _is_number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


def _temporary_dir(prefix: str) -> str:
    import shutil

    path = tempfile.mkdtemp(prefix=prefix)
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path


if __name__ == "__main__":
    raise SystemExit(main())
