"""The `trl-vpd` command line, built like TRL's own (`trl grpo`): a `TrlParser` over four dataclasses, a flat YAML
recipe given with `--config`, and flags that override it.

    trl-vpd train --config recipes/science_sciknoweval.yaml [--flag value ...]
    trl-vpd train --config science_sciknoweval --trainer grpo          # a shipped recipe by name; GRPO baseline
    trl-vpd train --config code_livecodebench --accelerate_config multi_gpu   # through `accelerate launch`
    accelerate launch --config_file my.yaml -m trl_vpd.cli train --config ...  # or launch it yourself
    trl-vpd demo [--output_dir DIR] [--max_steps N] [--teacher_mode MODE]
    trl-vpd recipes                                                   # list the shipped recipes

`train` runs in the current process. Like `trl grpo`, any argument that none of the four dataclasses knows goes to
`accelerate launch` (`--accelerate_config NAME|PATH` resolves TRL's shipped configs `single_gpu`, `multi_gpu`,
`zero1`-`zero3`, `fsdp1`, `fsdp2`; `--num_processes 4` and the like pass through), and then the script is relaunched
as `accelerate launch ... -m trl_vpd.cli train <the other arguments>`.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

from trl import ScriptArguments

TRAINERS = ("vpd", "grpo", "sdpo-passive")
PASSIVE_TEACHERS = ("frozen", "ema")
_PACKAGE_DIR = Path(__file__).resolve().parent
# Recipes live in the repository's `recipes/`; an installed wheel may ship them as package data.
RECIPE_DIRS = (_PACKAGE_DIR.parent / "recipes", _PACKAGE_DIR / "recipes")


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
    """Train as `trl/scripts/grpo.py` does, with VPD's feedback functions and trainer choice; returns the trainer."""
    import transformers
    from accelerate.logging import get_logger
    from packaging.version import Version
    from trl import GRPOTrainer, get_peft_config, get_quantization_config

    from .data import apply_adapter
    from .registry import get_feedback_func, get_reward_func
    from .trainer import VPDTrainer

    logger = get_logger(__name__)

    reward_funcs = [script_args.reward_model_name_or_path] if script_args.reward_model_name_or_path else []
    reward_funcs += [get_reward_func(name) for name in script_args.reward_funcs or []]
    if not reward_funcs:
        raise ValueError("No reward: set `reward_funcs` (e.g. `choice`, `code`, `math`) or a reward model.")
    feedback_funcs = [get_feedback_func(name) for name in script_args.feedback_funcs or []]

    model_init_kwargs = dict(
        revision=model_args.model_revision,
        trust_remote_code=training_args.trust_remote_code,
        attn_implementation=model_args.attn_implementation,
        dtype=model_args.dtype,
    )
    if training_args.model_init_kwargs is not None:
        model_init_kwargs.update(training_args.model_init_kwargs)
    training_args.model_init_kwargs = model_init_kwargs

    dataset = load_datasets(script_args, dataset_args, logger)
    if script_args.dataset_adapter:
        dataset = apply_adapter(dataset, script_args.dataset_adapter)
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
    if script_args.trainer == "grpo":
        if feedback_funcs:
            logger.warning("trainer=grpo: the feedback functions are not used (GRPO learns from rewards only).")
        trainer = GRPOTrainer(**common)
    else:
        if script_args.trainer == "sdpo-passive":
            make_passive(training_args)
        trainer = VPDTrainer(**common, feedback_funcs=feedback_funcs)

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


def make_passive(training_args) -> None:
    """Passive self-distillation (SDPO-like): no E-step, a teacher that is not trained on outcomes."""
    training_args.e_step = False
    if training_args.teacher_mode not in PASSIVE_TEACHERS:
        training_args.teacher_mode = "ema"


def load_datasets(script_args, dataset_args, logger):
    """A `DatasetDict`: the mixture in `datasets` if given, else `dataset_name` (a Hub id, a local folder, or a local
    `.json`/`.jsonl`/`.csv`/`.parquet` file, loaded as the train split)."""
    from datasets import load_dataset
    from trl import get_dataset

    if dataset_args.datasets:
        if script_args.dataset_name:
            logger.warning("Both `datasets` and `dataset_name` are provided: using `datasets`.")
        return get_dataset(dataset_args)
    if not script_args.dataset_name:
        raise ValueError("Either `datasets` or `dataset_name` must be provided.")
    name = script_args.dataset_name
    builders = {".json": "json", ".jsonl": "json", ".csv": "csv", ".parquet": "parquet"}
    if os.path.isfile(name) and Path(name).suffix in builders:
        return load_dataset(
            builders[Path(name).suffix],
            data_files={script_args.dataset_train_split: name},
            streaming=script_args.dataset_streaming,
        )
    return load_dataset(name, name=script_args.dataset_config, streaming=script_args.dataset_streaming)


# ---------------------------------------------------------------------------------------------------- commands


def find_recipe(name_or_path: str) -> str:
    """A recipe path: `name_or_path` itself if it is a file, else a shipped recipe with that name."""
    if os.path.isfile(name_or_path):
        return name_or_path
    for directory in RECIPE_DIRS:
        for candidate in (directory / name_or_path, directory / f"{name_or_path}.yaml"):
            if candidate.is_file():
                return str(candidate)
    raise FileNotFoundError(
        f"Recipe {name_or_path!r} is neither a file nor a shipped recipe; shipped: {', '.join(list_recipes()) or '-'}."
    )


def list_recipes() -> list[str]:
    names = set()
    for directory in RECIPE_DIRS:
        if directory.is_dir():
            names.update(path.stem for path in directory.glob("*.yaml"))
    return sorted(names)


def train_command(argv: list[str]) -> int:
    """`trl-vpd train ...`: parse the recipe and flags; train here, or relaunch through `accelerate launch`."""
    from trl.cli.accelerate_config import resolve_accelerate_config_argument
    from trl.cli.commands.training import _subtract_subsequence

    argv = list(argv)
    if "--config" in argv and argv.index("--config") + 1 < len(argv):
        index = argv.index("--config") + 1
        argv[index] = find_recipe(argv[index])

    parser = make_parser(prog="trl-vpd train")
    *parsed, config_remaining, cli_remaining = parser.parse_args_and_config(
        argv, return_remaining_strings=True, separate_remaining_strings=True
    )
    if config_remaining:
        unknown = [item[2:] for item in config_remaining if item.startswith("--")]
        raise ValueError(
            f"The recipe has keys that are no field of VPDScriptArguments, VPDConfig, ModelConfig or "
            f"DatasetMixtureConfig: {unknown}."
        )
    if cli_remaining:
        launch_args = resolve_accelerate_config_argument(cli_remaining)
        launch(launch_args, _subtract_subsequence(argv, cli_remaining))
        return 0

    script_args, training_args, model_args, dataset_args = parsed
    if script_args.trainer == "grpo":
        training_args = grpo_config(argv)
    train(script_args, training_args, model_args, dataset_args)
    return 0


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


def demo_command(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="trl-vpd demo",
        description="Train VPD for a few dozen steps on a built-in addition task with a tiny local model (no "
        "download, about a minute on a CPU); write the metrics (JSON, CSV, PNG) to --output_dir.",
    )
    parser.add_argument("--output_dir", default="outputs/vpd-demo")
    parser.add_argument("--max_steps", type=int, default=30)
    parser.add_argument("--teacher_mode", default="shared", choices=["shared", "adapter", "frozen", "ema"])
    parser.add_argument("--no_plot", action="store_true", help="Skip the PNG plot.")
    args = parser.parse_args(argv)

    from .demo import run_demo

    final = run_demo(args.output_dir, max_steps=args.max_steps, teacher_mode=args.teacher_mode, plot=not args.no_plot)
    nan = float("nan")
    print(
        f"final reward {final.get('reward', nan):.3f} (mean of the first 5 steps "
        f"{final.get('reward_first5', nan):.3f}, of the last 5 {final.get('reward_last5', nan):.3f})"
    )
    return 0


def recipes_command(argv: list[str]) -> int:
    for name in list_recipes():
        path = find_recipe(name)
        first = next((line[1:].strip() for line in open(path) if line.startswith("#")), "")
        print(f"{name:<28} {first}")
    return 0


COMMANDS = {
    "train": (train_command, "Train from a recipe (`--config`) and flags; `--trainer grpo|sdpo-passive`: baselines"),
    "demo": (demo_command, "Run the built-in tiny demo (no download, ~1 min on a CPU)"),
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
    return command(argv[1:])


if __name__ == "__main__":
    raise SystemExit(main())
