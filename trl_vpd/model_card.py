"""The model card of a VPD run: TRL's card, made true for local models and data and for VPD's saved layout.

TRL's `generate_model_card` links the base model and the dataset to the Hub whatever they are, so a local path gave
"fine-tuned version of [None]", a local `.jsonl` linked as a Hub dataset, and a quick start with `model="None"`.
This card links only Hub ids, says where the student and the teacher are saved (the student is the root model or
adapter, a teacher adapter sits in `vpd_teacher/`), shows how to load both, and lists the run's VPD settings.
"""

from __future__ import annotations

import os
import re
from importlib.metadata import PackageNotFoundError, version

_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*(/[\w.-]+)?$")

VPD_CITATION = """@article{li2026vpd,
  title   = {Learning from Language Feedback via Variational Policy Distillation},
  author  = {Li and Nijkamp and Yavuz and Joty},
  journal = {arXiv preprint arXiv:2605.15113},
  year    = {2026}
}"""

TRL_CITATION = """@software{vonwerra2020trl,
  title   = {{TRL: Transformers Reinforcement Learning}},
  author  = {von Werra, Leandro and Belkada, Younes and Tunstall, Lewis and Beeching, Edward and Thrush, Tristan and Lambert, Nathan and Huang, Shengyi and Rasul, Kashif and Gallouédec, Quentin},
  license = {Apache-2.0},
  url     = {https://github.com/huggingface/trl},
  year    = {2020}
}"""


def is_hub_id(name: str | None) -> bool:
    """Whether `name` reads as a Hub repository id rather than a local path (or nothing)."""
    return bool(name) and not os.path.exists(name) and not name.startswith((".", "/", "~")) and bool(_HUB_ID.match(name))


def saved_layout(teacher_mode: str, peft: bool) -> list[str]:
    """What `save_model` writes, one bullet per item: where the student and the teacher are."""
    student = (
        "the root folder is the **student**: its LoRA adapter (`adapter_model.safetensors`, `adapter_config.json`) on "
        "the base model"
        if peft
        else "the root folder is the **student**: the full model (`model.safetensors`, `config.json`)"
    )
    teacher = {
        "adapter": "`vpd_teacher/` is the **teacher**: a second LoRA adapter on the same base, trained by the E-step"
        if peft
        else "`vpd_teacher/` is the **teacher**: a LoRA adapter on the *initial* model (not on the student saved "
        "here), trained by the E-step",
        "ema": "`vpd_ema/` is the **teacher**: an EMA adapter of the student"
        if peft
        else "the **teacher** is an EMA copy of the student, saved beside it (`vpd_ema_teacher.safetensors`)",
        "shared": "the **teacher** is the student itself reading feedback in its prompt (`teacher_mode='shared'`): "
        "nothing more is saved",
        "frozen": "the **teacher** is the initial model (the base without adapters, or the starting weights): nothing "
        "more is saved",
    }.get(teacher_mode, f"teacher mode `{teacher_mode}`")
    return [student, teacher, "the tokenizer is saved in the root folder too"]


def loading_snippet(path: str, teacher_mode: str, peft: bool, base: str | None = None) -> str:
    """Python that loads the student (and, for a teacher adapter, the teacher) from `path`; `base` names the initial
    model, on which a full-weights student's teacher adapter sits."""
    if peft:
        lines = [
            "from peft import AutoPeftModelForCausalLM",
            "from transformers import AutoTokenizer",
            "",
            f'model = AutoPeftModelForCausalLM.from_pretrained("{path}")  # the student (root adapter) on its base',
            f'tokenizer = AutoTokenizer.from_pretrained("{path}")',
        ]
        if teacher_mode in ("adapter", "ema"):
            name = "vpd_teacher" if teacher_mode == "adapter" else "vpd_ema"
            lines += [
                "",
                f"# The teacher: a second adapter on the same base; switch with model.set_adapter(\"{name}\") / (\"default\")",
                f'model.load_adapter("{path}", adapter_name="{name}", subfolder="{name}")',
            ]
    else:
        lines = [
            "from transformers import AutoModelForCausalLM, AutoTokenizer",
            "",
            f'model = AutoModelForCausalLM.from_pretrained("{path}")  # the student',
            f'tokenizer = AutoTokenizer.from_pretrained("{path}")',
        ]
        if teacher_mode == "adapter":
            lines += [
                "",
                "# The teacher: a LoRA adapter on the initial model (not on the student above)",
                "from peft import PeftModel",
                "",
                f'initial = AutoModelForCausalLM.from_pretrained("{base or "<the initial model>"}")',
                (
                    f'teacher = PeftModel.from_pretrained(initial, "{path}", subfolder="vpd_teacher", '
                    'adapter_name="vpd_teacher")'
                ),
            ]
    lines += [
        "",
        'messages = [{"role": "user", "content": "What is 7 + 5?"}]',
        (
            "inputs = tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_tensors=\"pt\", "
            "return_dict=True)"
        ),
        "output = model.generate(**inputs, max_new_tokens=128)",
        'print(tokenizer.decode(output[0, inputs["input_ids"].shape[1]:], skip_special_tokens=True))',
    ]
    return "\n".join(lines)


_REFERENCES = {
    "student": "the current student",
    "initial_teacher": "the passive teacher (initial weights, same context)",
    "frozen": "the initial student",
    "teacher_snapshot": "the teacher before each E-step",
}


def _e_step_contexts(args) -> str:
    """Which teacher contexts the E-step scored, where they are not the M-step's."""
    if not args.e_step_drops_solutions:
        return ""
    if args.e_step_mixed_contexts:
        return ", every other rollout on its critique alone (no demonstrations)"
    return ", on critiques alone (no demonstrations)"


def _distillation_weight(trainer) -> str:
    """The distillation's constant weight, or the gradient balance's ratio and the coefficient it reached."""
    args = trainer.args
    if not args.distillation_gradient_ratio:
        return f"weight {args.distillation_weight:g}"
    balance = getattr(trainer, "distillation_balance", None)
    reached = f", last coefficient {balance.coefficient():.3g}" if balance is not None and balance.distill else ""
    capped = f", at most {args.distillation_weight:g}" if args.distillation_gradient_capped else ""
    return f"gradient ratio {args.distillation_gradient_ratio:g} to GRPO's{capped}{reached}"


def training_settings(trainer) -> list[tuple[str, str]]:
    """The settings that define this VPD run, as (name, value) rows."""
    args = trainer.args
    feedback = [getattr(f, "__name__", type(f).__name__) for f in getattr(trainer, "feedback_funcs", [])]
    sources = [f"functions: {', '.join(feedback)}" if feedback else None]
    sources.append(f"column `{args.feedback_column}`" if args.feedback_column else None)
    sources.append(
        f"successful siblings (reward ≥ {args.success_reward_threshold:g})" if args.use_sibling_solutions else None
    )
    e_step = (
        f"every {args.e_step_every} steps, `{args.e_step_loss}` loss, β_E {args.e_step_beta:g}, "
        f"{'successes and failures' if args.e_step_negatives else 'successes only'}"
        f"{_e_step_contexts(args)}, "
        f"relative to {_REFERENCES[args.e_step_reference]}"
        if args.e_step
        else "off (passive teacher)"
    )
    rows = [
        ("steps trained", str(trainer.state.global_step)),
        ("reward functions", ", ".join(getattr(trainer, "reward_func_names", [])) or "-"),
        ("feedback sources", "; ".join(s for s in sources if s) or "none"),
        ("teacher mode", f"`{args.teacher_mode}`"),
        ("E-step (teacher update)", e_step),
        (
            "M-step (distillation)",
            f"`{args.distillation_mode}`, {_distillation_weight(trainer)}, α {args.distillation_alpha:g}",
        ),
        ("learning rate", f"{args.learning_rate:g}"),
        ("completions per prompt", str(args.num_generations)),
        ("max completion length", str(args.max_completion_length)),
    ]
    return rows


def write_model_card(trainer, model_name: str | None = None, dataset_name: str | None = None, tags=None) -> None:
    """Write `README.md` into `trainer.args.output_dir` (main process only), in place of TRL's card."""
    from huggingface_hub import ModelCard, ModelCardData
    from transformers import is_wandb_available
    from trl.trainer.utils import get_comet_experiment_url, get_config_model_id, get_trackio_space_url

    from .utils import is_peft_model

    if not trainer.is_world_process_zero():
        return
    args = trainer.args
    base = get_config_model_id(trainer.model.config)
    dataset_name = dataset_name if isinstance(dataset_name, str) else None
    model_name = model_name or os.path.basename(os.path.normpath(args.output_dir))
    peft = is_peft_model(trainer.model)
    location = trainer.hub_model_id if args.push_to_hub and trainer.hub_model_id else args.output_dir

    tags = {tags} if isinstance(tags, str) else set(tags or [])
    tags.update(getattr(trainer, "_tag_names", []))
    trackio_url = get_trackio_space_url()
    if trackio_url:
        tags = {tag for tag in tags if not tag.startswith("trackio:")} | {f"trackio:{trackio_url}"}
    wandb_url = None
    if is_wandb_available():
        import wandb

        wandb_url = wandb.run.url if wandb.run is not None else None
    comet_url = get_comet_experiment_url()

    if is_hub_id(base):
        origin = f"a fine-tuned version of [{base}](https://huggingface.co/{base})"
    elif base:
        origin = f"a fine-tuned version of the local model `{base}`"
    else:
        origin = "a fine-tuned model (its base was built in memory, not loaded from a path)"
    if is_hub_id(dataset_name):
        origin += f", trained on the [{dataset_name}](https://huggingface.co/datasets/{dataset_name}) dataset"
    elif dataset_name:
        origin += f", trained on local data (`{dataset_name}`)"

    badges = [
        f"[Weights & Biases run]({wandb_url})" if wandb_url else None,
        f"[Trackio]({trackio_url})" if trackio_url else None,
        f"[Comet experiment]({comet_url})" if comet_url else None,
    ]
    versions = []
    for package in ("trl-vpd", "trl", "transformers", "peft", "torch", "datasets", "tokenizers"):
        try:
            versions.append(f"- {package}: {version(package)}")
        except PackageNotFoundError:
            pass

    sections = [
        f"# Model Card for {model_name}",
        (
            f"This model is {origin}. It was trained with **VPD** (Variational Policy Distillation, [Learning from "
            "Language Feedback via Variational Policy Distillation](https://huggingface.co/papers/2605.15113)) using "
            "trl-vpd on top of [TRL](https://github.com/huggingface/trl): GRPO plus a teacher that reads language "
            "feedback, trained by an E-step and distilled into the student by an M-step."
        ),
        "## Quick start\n\n```python\n" + loading_snippet(location, args.teacher_mode, peft, base) + "\n```",
        "## Saved layout\n\n" + "\n".join(f"- {item}" for item in saved_layout(args.teacher_mode, peft)),
        "## Training procedure\n\n"
        + (" ".join(b for b in badges if b) + "\n\n" if any(badges) else "")
        + "| setting | value |\n| --- | --- |\n"
        + "\n".join(f"| {name} | {value} |" for name, value in training_settings(trainer)),
        "### Framework versions\n\n" + "\n".join(versions),
        f"## Citations\n\nCite VPD as:\n\n```bibtex\n{VPD_CITATION}\n```\n\nCite TRL as:\n\n```bibtex\n{TRL_CITATION}\n```",
    ]
    card_data = ModelCardData(
        base_model=base if is_hub_id(base) else None,
        datasets=[dataset_name] if is_hub_id(dataset_name) else None,
        library_name="peft" if peft else "transformers",
        model_name=model_name,
        tags=["generated_from_trainer", *sorted(tags)],
    )
    card = ModelCard(f"---\n{card_data.to_yaml()}\n---\n\n" + "\n\n".join(sections) + "\n")
    card.save(os.path.join(args.output_dir, "README.md"))
