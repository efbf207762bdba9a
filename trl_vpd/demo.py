"""The built-in demo: VPD on a tiny, locally built model and a synthetic addition task, ~35 s on a 2-core CPU.

The task ("What is 3 + 4?") has a verifier that returns both a reward and language feedback ("You answered 9, but the
sum is 7."), which is exactly the situation VPD is for: the feedback-conditioned teacher can read the right answer
that the student never sees, the E-step trains it to turn that feedback into successful rollouts, and the M-step
distills it into the student. Nothing is downloaded: the model and tokenizer come from `trl_vpd.tiny`, and a few
seconds of supervised fine-tuning (`warm_start`) give it what a user's pretrained model has: it solves some sums and
partly reads feedback.

    trl-vpd demo --output_dir outputs/vpd-demo        # or: python -m trl_vpd.demo

writes `log_history.json`, `metrics.csv`, `metrics.png` (reward, distillation loss, β_E, KL_E; raw points and a
5-step running mean) and `teacher_eval.json` (the teacher's measurements) to the output directory, prints a short
table and the teacher's repair rate on the evaluation sums before and after training, and leads its summary with the
student's greedy success and the teacher's repair rate (before -> after), then the last-5-step mean reward and its
change from the first five steps.
"""

from __future__ import annotations

import csv
import json
import os
import random
import re
from pathlib import Path
from typing import Any

from transformers import PrinterCallback, TrainerCallback

from .utils import completion_text

# The curves the demo plots and prints: (log key, title, y-axis label).
DEMO_METRICS = (
    ("reward", "reward", "mean reward per step (0-1)"),
    ("vpd/distill_loss", "distillation loss (M-step)", "teacher-student divergence"),
    ("vpd/beta_e", "β_E (trust region)", "β_E"),
    ("vpd/kl_e", "KL_E (teacher ‖ reference)", "KL per token (nats)"),
)
# Steps averaged by the smoothed curves and the headline: one step's reward is a mean over 8 completions, noisy.
SMOOTHING = 5

_NUMBER = re.compile(r"-?\d+")


def make_addition_dataset(num_examples: int = 64, max_operand: int = 9, seed: int = 0):
    """Conversational prompts "What is a + b?" with the sum in an `answer` column (strings, as in GSM8K)."""
    from datasets import Dataset

    rng = random.Random(seed)
    rows = {"prompt": [], "answer": []}
    for _ in range(num_examples):
        a, b = rng.randint(0, max_operand), rng.randint(0, max_operand)
        rows["prompt"].append([{"role": "user", "content": f"What is {a} + {b}? Answer with a number."}])
        rows["answer"].append(str(a + b))
    return Dataset.from_dict(rows)


def _first_number(text: str) -> int | None:
    match = _NUMBER.search(text)
    return int(match.group()) if match else None


def addition_reward(completions, answer, **kwargs) -> list[float]:
    """1.0 for the right sum; otherwise partial credit for a number close to it (so that rewards vary within a group
    even for an untrained model), 0.0 for no number at all."""
    rewards = []
    for completion, target in zip(completions, answer, strict=True):
        guess, target = _first_number(completion_text(completion)), int(target)
        if guess is None:
            rewards.append(0.0)
        elif guess == target:
            rewards.append(1.0)
        else:
            rewards.append(0.5 * max(0.0, 1.0 - abs(guess - target) / 10.0))
    return rewards


def exact_addition_reward(completions, answer, **kwargs) -> list[float]:
    """The usual 0/1 verifier: 1.0 for the right sum, 0.0 otherwise (no partial credit, so a group whose rollouts all
    fail gives GRPO no signal)."""
    return [float(_first_number(completion_text(c)) == int(target)) for c, target in zip(completions, answer, strict=True)]


def addition_feedback(completions, answer, **kwargs) -> list[str | None]:
    """What a grader would say: nothing for a right answer, the mistake and the right sum otherwise."""
    feedback = []
    for completion, target in zip(completions, answer, strict=True):
        guess = _first_number(completion_text(completion))
        if guess is None:
            feedback.append(f"Your reply contains no number. The sum is {target}.")
        elif str(guess) == str(target):
            feedback.append(None)
        else:
            feedback.append(f"You answered {guess}, but the sum is {target}.")
    return feedback


def warm_start_dataset(args, num_examples: int = 2000, seed: int = 1):
    """Supervised examples for `warm_start`, prompt-completion style: half plain questions, half the teacher's template
    (rendered by the trainer's own context builder from `args`) with the grader's feedback on a wrong guess, a correct
    solution, or both — what the teacher reads during VPD."""
    from datasets import Dataset

    from .teacher_context import TeacherContextBuilder

    builder = TeacherContextBuilder(None, args)
    rng = random.Random(seed)
    rows = {"prompt": [], "completion": []}
    for _ in range(num_examples):
        a, b = rng.randint(0, 9), rng.randint(0, 9)
        prompt = [{"role": "user", "content": f"What is {a} + {b}? Answer with a number."}]
        answer = str(a + b)
        kind = rng.choice(["plain", "plain", "plain", "feedback", "solution", "both"])
        if kind != "plain":
            guess = str((a + b + rng.randint(1, 9)) % 19)
            feedback = addition_feedback([guess], [answer])[0] if kind != "solution" else None
            prompt = builder.render(prompt, {"feedback": feedback, "solution": answer if kind != "feedback" else None})
        rows["prompt"].append(prompt)
        rows["completion"].append([{"role": "assistant", "content": answer}])
    return Dataset.from_dict(rows)


def warm_start(model, tokenizer, args, max_steps: int = 250, learning_rate: float = 7e-3, seed: int = 0):
    """A few seconds of supervised fine-tuning (TRL's `SFTTrainer`) so that the demo starts from a model that solves
    some sums and partly reads feedback — as VPD's users start from a pretrained model, not random weights. Its own
    `seed`, not the run's: runs with different seeds then start from the same model."""
    from datasets.utils import logging as datasets_logging
    from trl import SFTConfig, SFTTrainer

    config = SFTConfig(
        output_dir=str(Path(args.output_dir) / "warm-start"),
        max_steps=max_steps,
        learning_rate=learning_rate,
        per_device_train_batch_size=32,
        lr_scheduler_type="constant",
        logging_steps=max_steps,
        save_strategy="no",
        report_to="none",
        use_cpu=True,
        bf16=False,
        seed=seed,
        disable_tqdm=True,
        dataloader_num_workers=0,
    )
    bars = datasets_logging.is_progress_bar_enabled()
    datasets_logging.disable_progress_bar()  # SFTTrainer's dataset preparation is not the demo's to report
    try:
        dataset = warm_start_dataset(args, seed=seed + 1)
        trainer = SFTTrainer(model=model, args=config, train_dataset=dataset, processing_class=tokenizer)
    finally:
        if bars:
            datasets_logging.enable_progress_bar()
    trainer.remove_callback(PrinterCallback)
    trainer.train()
    return trainer.model


def demo_config(output_dir: str, max_steps: int = 100, teacher_mode: str | None = None, **overrides):
    """The demo's `VPDConfig`: small batches, short completions, the library's E-step defaults, logging every step."""
    from .config import VPDConfig

    passive = teacher_mode in ("frozen", "ema")
    kwargs: dict[str, Any] = dict(
        output_dir=output_dir,
        max_steps=max_steps,
        learning_rate=3e-4,  # for the warm-started model; `run_demo` uses 1e-2 from random weights
        lr_scheduler_type="constant",
        per_device_train_batch_size=8,
        num_generations=4,
        max_completion_length=8,
        temperature=1.0,
        logging_steps=1,
        save_strategy="no",
        report_to="none",
        use_cpu=True,
        bf16=False,
        seed=0,
        teacher_mode=teacher_mode,
        e_step=not passive,
        distillation_mode="topk",
        distillation_topk=20,
        max_teacher_prompt_length=256,
        dataloader_num_workers=0,
        disable_tqdm=True,
    )
    kwargs.update(overrides)
    return VPDConfig(**kwargs)


def run_demo(
    output_dir: str | os.PathLike = "outputs/vpd-demo",
    max_steps: int = 100,
    teacher_mode: str | None = None,
    plot: bool = True,
    verbose: bool = True,
    warm_start_steps: int = 250,
    warm_start_learning_rate: float = 7e-3,
    teacher_eval_prompts: int = 64,
    teacher_eval_every: int | None = None,
    warm_start_cache: str | os.PathLike | None = None,
    train_examples: int = 64,
    reward_func=addition_reward,
    hidden_size: int = 48,
    num_layers: int = 2,
    lora: bool | None = None,
    **config_overrides,
) -> dict[str, float]:
    """Train VPD for `max_steps` on the addition task with a tiny local model; returns the final metrics.

    `teacher_mode` is any of VPDConfig's: None (default) as the library resolves it for this full-weights student (a
    teacher adapter on a frozen copy of the initial model), `adapter` a LoRA student with a LoRA teacher beside it,
    `frozen` and `ema` passive self-distillation without an E-step. `warm_start_steps` of supervised fine-tuning at
    `warm_start_learning_rate` come first (0: start from random weights); the teacher's repair rate on
    `teacher_eval_prompts` sums (a fixed set) is measured before and after training (0: not measured), and every
    `teacher_eval_every` steps if given (the measurements are written to `teacher_eval.json`). `warm_start_cache`, a
    file: the warm-started weights are loaded from it if it exists, else saved to it (for runs that differ only in RL settings and seed). `train_examples` random
    sums make the training set (64 cover 44 of the 100 sums, and 45 % of the evaluation's: the held-out success of a
    student that learns only its training sums levels off near 0.6; 400 cover ~98 %). `reward_func`: the training
    reward (`addition_reward`, with partial credit, or `exact_addition_reward`, 0/1); success is measured as reward 1
    either way. `hidden_size` and `num_layers` size the model (its MLP twice as wide as its hidden states). `lora`:
    train the student as a LoRA adapter (None: only with `teacher_mode="adapter"`, which needs one; True with another
    mode runs that teacher under PEFT, e.g. `shared` for a QLoRA user who asks for it). `config_overrides` go to
    `VPDConfig`.
    """
    import torch

    from .teacher_eval import TeacherEvalCallback
    from .tiny import build_tiny_model, build_tiny_tokenizer
    from .trainer import VPDTrainer

    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    tokenizer = build_tiny_tokenizer()
    model = build_tiny_model(tokenizer, hidden_size=hidden_size, num_layers=num_layers, intermediate_size=2 * hidden_size)
    peft_config = None
    if lora or (lora is None and teacher_mode == "adapter"):
        from peft import LoraConfig

        peft_config = LoraConfig(r=8, lora_alpha=16, target_modules="all-linear", task_type="CAUSAL_LM")
    if not warm_start_steps:
        config_overrides.setdefault("learning_rate", 1e-2)
    args = demo_config(str(output_dir), max_steps=max_steps, teacher_mode=teacher_mode, **config_overrides)
    if warm_start_steps and warm_start_cache and Path(warm_start_cache).exists():
        model.load_state_dict(torch.load(warm_start_cache))
    elif warm_start_steps:
        if verbose:
            print(f"warm start: {warm_start_steps} supervised steps on sums and feedback ...", flush=True)
        model = warm_start(model, tokenizer, args, max_steps=warm_start_steps, learning_rate=warm_start_learning_rate)
        if warm_start_cache:
            torch.save(model.state_dict(), warm_start_cache)
    trainer = VPDTrainer(
        model=model,
        reward_funcs=reward_func,
        args=args,
        train_dataset=make_addition_dataset(train_examples),
        processing_class=tokenizer,
        peft_config=peft_config,
        feedback_funcs=[addition_feedback],
    )
    trainer.remove_callback(PrinterCallback)
    teacher_eval = None
    if teacher_eval_prompts:
        held_out = make_addition_dataset(teacher_eval_prompts, seed=1)
        every = teacher_eval_every or max_steps
        teacher_eval = TeacherEvalCallback(trainer, held_out, addition_reward, every, teacher_eval_prompts)
        trainer.add_callback(teacher_eval)
    if verbose:
        trainer.add_callback(_ProgressPrinter())
    trainer.train()
    history = [dict(entry) for entry in trainer.state.log_history]
    write_history(history, output_dir)
    if plot:
        plot_metrics(history, output_dir / "metrics.png")
    final = final_metrics(history)
    if teacher_eval is not None:
        final.update(teacher_eval_summary(teacher_eval.history))
        (output_dir / "teacher_eval.json").write_text(json.dumps(teacher_eval.history, indent=1))
    if verbose:
        print(format_table(history))
        if teacher_eval is not None:
            print(teacher_line(final))
        written = ["metrics.csv"] + (["metrics.png"] if plot else []) + (["teacher_eval.json"] if teacher_eval else [])
        print(f"Wrote {output_dir / 'log_history.json'}, " + ", ".join(written))
    return final


class _ProgressPrinter(TrainerCallback):
    """One short line every few steps instead of Transformers' full log dict."""

    def on_log(self, args, state, control, logs=None, **kwargs):
        every = max(1, state.max_steps // 6)
        if logs and "reward" in logs and (state.global_step % every == 0 or state.global_step == 1):
            print(f"step {state.global_step:>3}/{state.max_steps}  reward {logs['reward']:.3f}", flush=True)


def step_logs(history: list[dict]) -> list[dict]:
    """The per-step training logs (the last entry of `log_history` is the run summary)."""
    return [entry for entry in history if "step" in entry and "train_runtime" not in entry]


def running_mean(values: list[float], window: int = SMOOTHING) -> list[float]:
    """The mean of each value and the up to `window - 1` values before it."""
    means = []
    for i in range(len(values)):
        recent = values[max(0, i - window + 1) : i + 1]
        means.append(sum(recent) / len(recent))
    return means


def teacher_eval_summary(history: list[dict]) -> dict[str, float]:
    """The teacher's measurements before training (`*_start`) and after it (`*_end`)."""
    out = {}
    for suffix, entry in (("start", history[0]), ("end", history[-1])):
        for key in ("student_success", "teacher_repair", "feedback_specificity", "teacher_repair_initial",
                    "feedback_specificity_initial"):
            if f"vpd/teacher_eval/{key}" in entry:
                out[f"{key}_{suffix}"] = entry[f"vpd/teacher_eval/{key}"]
    return out


def teacher_line(final: dict[str, float]) -> str:
    """How the teacher changed: its greedy repair rate with the grader's feedback on the evaluation sums the student
    got wrong, and how much of it comes from this attempt's feedback (repair minus repair with another sum's
    feedback: the feedback specificity); the same on the sums it got wrong before training, where measured."""
    fixed = (
        f"; on the sums it got wrong before training {final['teacher_repair_initial_start']:.2f} -> "
        f"{final['teacher_repair_initial_end']:.2f} (specificity {final['feedback_specificity_initial_start']:+.2f} -> "
        f"{final['feedback_specificity_initial_end']:+.2f})"
        if "teacher_repair_initial_end" in final
        else ""
    )
    return (
        f"teacher repair on the sums the student gets wrong: {final['teacher_repair_start']:.2f} -> "
        f"{final['teacher_repair_end']:.2f} (feedback specificity {final['feedback_specificity_start']:+.2f} -> "
        f"{final['feedback_specificity_end']:+.2f}){fixed}; student greedy success {final['student_success_start']:.2f}"
        f" -> {final['student_success_end']:.2f}"
    )


def headline(final: dict[str, float]) -> str:
    """The demo's summary: the student's greedy success and the teacher's repair rate before → after, where measured
    (what training changed; the sampled reward of a warm-started model starts high and moves little), then the
    last-5-step mean reward and its change from the first five steps (one step's reward is too noisy to lead with)."""
    nan = float("nan")
    first, last = final.get("reward_first5", nan), final.get("reward_last5", nan)
    reward = (
        f"reward, mean of the last {SMOOTHING} steps: {last:.3f} ({last - first:+.3f} from {first:.3f} over the first "
        f"{SMOOTHING}); last step alone {final.get('reward', nan):.3f}"
    )
    if "teacher_repair_end" not in final:
        return reward
    fixed = (
        f" ({final['teacher_repair_initial_end']:.2f} on the sums wrong before training)"
        if "teacher_repair_initial_end" in final
        else ""
    )
    return (
        f"student greedy success {final['student_success_start']:.2f} -> {final['student_success_end']:.2f}, teacher "
        f"repair {final['teacher_repair_start']:.2f} -> {final['teacher_repair_end']:.2f}{fixed}; {reward}"
    )


def final_metrics(history: list[dict]) -> dict[str, float]:
    """The last logged value of each metric, plus the mean reward over the first and the last five logged steps."""
    final: dict[str, float] = {}
    for entry in history:
        for key, value in entry.items():
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                final[key] = float(value)
    rewards = [entry["reward"] for entry in step_logs(history) if "reward" in entry]
    if rewards:
        final["reward_first5"] = sum(rewards[:5]) / len(rewards[:5])
        final["reward_last5"] = sum(rewards[-5:]) / len(rewards[-5:])
    return final


def write_history(history: list[dict], output_dir: str | os.PathLike) -> None:
    """`log_history.json` (as logged) and `metrics.csv` (one row per logged step, one column per metric)."""
    output_dir = Path(output_dir)
    (output_dir / "log_history.json").write_text(json.dumps(history, indent=1))
    rows = step_logs(history)
    columns = sorted({key for row in rows for key in row}, key=lambda k: (k != "step", k))
    with open(output_dir / "metrics.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)


def plot_metrics(history: list[dict], path: str | os.PathLike, metrics=DEMO_METRICS, title: str | None = None):
    """One panel per metric against the step (matplotlib, Agg backend). Returns the path, or None without
    matplotlib (`pip install trl-vpd[plots]`)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed (pip install 'trl-vpd[plots]'): skipping the plot.")
        return None
    rows = step_logs(history)
    fig, axes = plt.subplots(1, len(metrics), figsize=(4.2 * len(metrics), 3.4))
    for ax, (key, panel, ylabel) in zip(axes, metrics, strict=True):
        points = [(row["step"], row[key]) for row in rows if row.get(key) is not None]
        if points:
            steps, values = zip(*points, strict=True)
            ax.plot(steps, values, marker=".", linestyle="", alpha=0.4, label="per step")
            ax.plot(steps, running_mean(list(values)), label=f"{SMOOTHING}-step mean")
        else:
            ax.text(0.5, 0.5, "not logged", ha="center", va="center", transform=ax.transAxes)
        ax.set_title(panel)
        ax.set_xlabel("step")
        ax.set_ylabel(ylabel)
    if any(ax.get_legend_handles_labels()[0] for ax in axes):
        axes[0].legend(fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def format_table(history: list[dict], metrics=DEMO_METRICS, every: int | None = None) -> str:
    """A fixed-width table of the plotted metrics at about ten evenly spaced steps (and always the last)."""
    rows = step_logs(history)
    if not rows:
        return "(nothing logged)"
    every = every or max(1, len(rows) // 10)
    picked = rows[::every] + ([rows[-1]] if (len(rows) - 1) % every else [])
    keys = [key for key, *_ in metrics]
    lines = [f"{'step':>5} " + " ".join(f"{key:>17}" for key in keys)]
    for row in picked:
        cells = [f"{row[key]:17.4g}" if row.get(key) is not None else f"{'-':>17}" for key in keys]
        lines.append(f"{row['step']:>5} " + " ".join(cells))
    return "\n".join(lines)


if __name__ == "__main__":
    from .cli import main

    raise SystemExit(main(["demo", *__import__("sys").argv[1:]]))
