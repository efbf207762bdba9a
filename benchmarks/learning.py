"""Learning benchmark: how much each method learns from the same rollouts on a feedback-rich task.

    python -m benchmarks.learning --size small      # CPU default, 3 seeds
    python -m benchmarks.learning --size large --device cuda
    python -m benchmarks.learning --size tiny       # smoke test (CI)
    python -m benchmarks.learning --size estep      # CPU, E-step every step: fixed vs adaptive β_E (issue 6)
    python -m benchmarks.learning --size small --family lookup   # the second task family (issue 13)

Task (`benchmarks/task.py`): reverse / sort / shift a string of letters; reward 0/1; the verifier's feedback names the
length error and the first wrong positions with the letter that belongs there. Model (`benchmarks/tinylm.py`): a tiny
Qwen2-shaped LM pretrained from scratch here (cached) until it solves ≥ 35% of held-out problems greedily (and, for
`small`, until the teacher fixes ≥ 25% of the student's failures with feedback), with most pretraining examples in
VPD's teacher template (feedback / a correct solution in the prompt), so that the model with feedback (the teacher) is
clearly better than without it, but far from perfect.

`--family lookup` (`benchmarks/task_lookup.py`) swaps in the second task family: read one key's value out of a small
table; wrong answers are other values (no digit in common with the answer), the feedback names the answer's first
digit, and its pretraining shows *no* feedback in the teacher template, so the teacher must learn to read it. Its
results go to `results/learning_<size>_lookup.*`. `--family reveal` (`benchmarks/task_reveal.py`): the letters problems
with a verifier that reveals the answer, pretrained without any teacher-template example (the teacher must learn to
read it). `--family rotate` (`benchmarks/task_rotate.py`): held out from choosing the defaults; new operations and the
feedback in a wording the pretrained teacher never read.

Methods, all with the same prompts per step, generations per prompt, steps and learning rate:
GRPO (TRL), passive self-distillation (VPDTrainer, frozen teacher, no E-step), VPD with a shared teacher, VPD with a
LoRA teacher adapter (student LoRA too), TRL's experimental SDPOTrainer (EMA teacher; per-rollout feedback through its
`privileged_context` column). Every `eval_every` steps: greedy success on held-out prompts, and the teacher's own
success with feedback (greedy, in the teacher template, on the held-out prompts the greedy student got wrong; for GRPO
and SDPO, "the teacher" is the student's weights read in the teacher template). Whether the teacher *uses* the
feedback: its fix rate on the same failed attempts with the feedback removed (teacher template, no feedback) and with
misleading feedback (the verifier's feedback as if a wrong answer were right: `tinylm.misleading_feedback`), and the
follow rate = fix(real feedback) − fix(no feedback).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import torch

from . import outputs, task, tinylm
from .trainers import METHODS, build_trainer, lora_config

SIZES = {
    "tiny": dict(
        pretrain=dict(hidden_size=32, num_layers=1, intermediate_size=64, num_problems=200, max_steps=4, eval_every=4),
        methods=["grpo", "vpd_shared"], seeds=[0], steps=2, eval_every=2,
        prompts=1, gens=4, completion=8, n_eval=8, n_train=16,
    ),
    "small": dict(
        pretrain=dict(feedback_fraction=0.7, target_teacher_fix_rate=0.25, eval_every=25, max_steps=800),
        methods=["grpo", "grpo_lora", "passive_frozen", "vpd_shared", "vpd_adapter", "vpd_adapter_adaptive", "sdpo"],
        seeds=[0, 1, 2],
        steps=30,
        eval_every=10, prompts=2, gens=8, completion=10, n_eval=128, n_train=512,
    ),
    # Issue 6: a regime where the E-step moves the teacher adapter (every step, 4× teacher lr: see trainers.py), fixed
    # vs adaptive β_E, against the LoRA controls. Same pretraining as `small` (the cached model is reused).
    "estep": dict(
        pretrain=dict(feedback_fraction=0.7, target_teacher_fix_rate=0.25, eval_every=25, max_steps=800),
        methods=["grpo_lora", "passive_frozen_lora", "vpd_adapter", "vpd_adapter_e1", "vpd_adapter_e1_adaptive"],
        seeds=[0, 1, 2, 3, 4],
        steps=60,
        eval_every=10, prompts=2, gens=8, completion=10, n_eval=128, n_train=512,
    ),
    # Issue 13, third round: the `estep` budget on a model pretrained to read every part of VPD's teacher context —
    # the solution slot alone and beside the feedback, as often as the feedback alone — as a real LLM reads "A correct
    # solution: ..." (`estep`'s model copies a shown solution on 0.23 of its failures; this one on 0.85).
    "estep2": dict(
        pretrain=dict(feedback_fraction=0.3, solution_fraction=0.2, feedback_and_solution_fraction=0.3,
                      target_teacher_fix_rate=0.25, target_teacher_copy_rate=0.8, eval_every=25, max_steps=800),
        methods=["grpo", "passive_i13", "vpd_i13_new"],
        seeds=[20, 21, 22, 23, 24],
        steps=60,
        eval_every=10, prompts=2, gens=8, completion=10, n_eval=128, n_train=512,
        pretrain_over_family=dict(solution_fraction=0.2),  # the `reveal` family's own pretraining shows no solution
    ),
    "large": dict(
        pretrain=dict(hidden_size=256, num_layers=4, intermediate_size=512, num_heads=8, num_kv_heads=4, learning_rate=1e-3,
                      num_problems=20000, max_steps=4000),
        methods=["grpo", "passive_frozen", "passive_ema", "vpd_shared", "vpd_adapter", "sdpo"], seeds=[0, 1, 2, 3, 4],
        steps=150, eval_every=10, prompts=8, gens=8, completion=16, n_eval=256, n_train=4096,
    ),
}
LR = {"full": 1e-4, "lora": 4e-4}  # LoRA gets 4× the full-model lr (the usual ratio); `--lr` scales both together
VPD_LOGGED = ("vpd/kl_e", "vpd/beta_e", "vpd/e_loss", "vpd/teacher_student_kl", "vpd/non_finite_loss",
              "vpd/teacher_reward_pos", "vpd/teacher_reward_neg", "vpd/feedback_gain", "vpd/swap_loss",
              "vpd/repair_attempts", "vpd/repaired_groups", "vpd/repair_success_rate", "vpd/repair_loss",
              "vpd/grad_norm_grpo", "vpd/grad_norm_distill", "vpd/distill_coefficient", "vpd/feedback_coverage",
              "vpd/sibling_solution_coverage")


def teacher_module(trainer, model):
    teacher = getattr(trainer, "teacher", None)
    return teacher.activate(model) if teacher is not None else _same(model)


class _same:
    def __init__(self, m):
        self.m = m

    def __enter__(self):
        return self.m

    def __exit__(self, *a):
        return False


def evaluate(trainer, tok, problems, fam=task, copy: bool = False, initial: list[str] | None = None) -> dict:
    """Greedy student success on `problems`; on those the student failed, the teacher's greedy success with the real
    feedback (`teacher_fix`), without feedback (`teacher_fix_nofb`), with misleading feedback (`teacher_fix_mislead`),
    and `follow` = teacher_fix − teacher_fix_nofb (how much the feedback itself helps the teacher). With `copy`, also
    its success with the correct answer shown as a sibling's solution, alone (`teacher_copy`) and beside the feedback
    (`teacher_copy_fb`): how well it copies a demonstration, which carries the M-step's gain on the text families.
    `initial`: the pretrained student's attempts (filled on the first call when empty), on whose failures the teacher
    is also measured (`teacher_fix_initial`, `follow_initial`, `mislead_initial`): a fixed set, the same for every
    method and step of a seed, where `follow` reads the current student's failures, which grow harder as it learns.
    The follow rate also rises where the teacher only gets better at solving in the feedback's template (on `bare`,
    whose feedback says nothing); real minus misleading (`benchmarks.paired.specificity`) is what reading is worth."""
    model = trainer.model
    acc, attempts = tinylm.student_accuracy(model, tok, problems, fam)
    kinds = tinylm.FEEDBACK_KINDS + (tinylm.COPY_KINDS if copy else ())
    fixed = {}
    with torch.no_grad(), teacher_module(trainer, model) as teacher:
        rates, n_failed = tinylm.teacher_fix_rates(teacher, tok, problems, attempts, fam, kinds=kinds)
        if initial is not None and not initial:
            initial.extend(attempts)
            fixed = rates
        elif initial is not None:
            fixed, _ = tinylm.teacher_fix_rates(teacher, tok, problems, initial, fam, kinds=tinylm.FEEDBACK_KINDS)
    copies = {"teacher_copy": rates["solution"], "teacher_copy_fb": rates["real+solution"]} if copy else {}
    if fixed:
        copies.update(teacher_fix_initial=fixed["real"], follow_initial=fixed["real"] - fixed["none"],
                      mislead_initial=fixed["misleading"])
    return {
        "student": acc, "teacher_fix": rates["real"], "n_failed": n_failed, "teacher_fix_nofb": rates["none"],
        "teacher_fix_mislead": rates["misleading"], "follow": rates["real"] - rates["none"], **copies,
    }


def family_pretraining(size: dict, family: str) -> dict:
    """The size's pretraining fields with the family's own over them (e.g. no feedback examples), then the size's
    `pretrain_over_family`."""
    pretrain = dict(size["pretrain"])
    if family != "letters" and task.family(family).PRETRAIN is not None:  # None: the letters model itself
        pretrain = {**pretrain, **task.family(family).PRETRAIN, "family": family}
    return {**pretrain, **size.get("pretrain_over_family", {})}


def pretrained(cfg: tinylm.PretrainConfig, eval_problems, log=print):
    """The pretrained model for `cfg` (from the cache, else trained and cached): (model path, tokenizer, info)."""
    model, tok, info = tinylm.pretrain(cfg, eval_problems, log=log)
    model_path = tinylm.CACHE_DIR / f"pretrained-{cfg.key()}"
    if not (model_path / "config.json").exists():
        model.save_pretrained(model_path)
    return model_path, tok, info


def method_trainer(method, seed, size, model_path, tok, train_ds, device, run_dir, fam=task):
    """`method`'s trainer on a fresh copy of the pretrained model, with the benchmark's budget and learning rate."""
    from transformers import AutoModelForCausalLM

    family, extra, lora = METHODS[method]
    model = AutoModelForCausalLM.from_pretrained(model_path)
    common = dict(
        output_dir=str(run_dir), per_device_train_batch_size=size["prompts"] * size["gens"],
        num_generations=size["gens"], max_completion_length=size["completion"], max_steps=size["steps"],
        learning_rate=LR["lora" if lora else "full"], temperature=1.0, report_to="none", save_strategy="no",
        logging_steps=1, seed=seed, use_cpu=device == "cpu", bf16=False, disable_tqdm=True, log_level="error",
    )
    peft_config = lora_config(r=8) if lora else None
    return build_trainer(family, model, tok, train_ds, common, extra, peft_config, task_module=fam)


def run_method(method, seed, size, model_path, tok, train_ds, eval_problems, device, out_dir, log, fam=task):
    from transformers import TrainerCallback

    family = METHODS[method][0]
    trainer = method_trainer(method, seed, size, model_path, tok, train_ds, device, out_dir / f"{method}-{seed}", fam)
    curve, initial = [], []

    class Eval(TrainerCallback):
        def on_train_begin(self, args, state, control, **kw):
            curve.append({"step": 0, **evaluate(trainer, tok, eval_problems, fam, copy=True, initial=initial)})

        def on_step_end(self, args, state, control, **kw):
            final = state.global_step == size["steps"]
            if state.global_step % size["eval_every"] == 0 or final:
                fixed = initial if final else None  # the fixed set at the end only: it costs two teacher passes
                curve.append({"step": state.global_step,
                              **evaluate(trainer, tok, eval_problems, fam, copy=final, initial=fixed)})

    trainer.add_callback(Eval())
    t = time.time()
    trainer.train()
    key = "self_distillation/reward_mean" if family == "sdpo" else "reward"
    rewards = [h[key] for h in trainer.state.log_history if key in h] or [float("nan")]
    vpd = {k: [(h["step"], h[k]) for h in trainer.state.log_history if k in h] for k in VPD_LOGGED}
    vpd = {k: v for k, v in vpd.items() if v}
    entropy = [h["entropy"] for h in trainer.state.log_history if "entropy" in h]  # the sampler's, per step
    last = curve[-1]
    log(f"  {method} seed {seed}: student {curve[0]['student']:.2f} → {last['student']:.2f}, teacher fix "
        f"{curve[0]['teacher_fix']:.2f} → {last['teacher_fix']:.2f} (follow rate {curve[0]['follow']:+.2f} → "
        f"{last['follow']:+.2f}), mean train reward {statistics.mean(rewards):.2f}, "
        f"{time.time() - t:.0f}s")
    if "vpd/kl_e" in vpd:
        log(f"    KL_E per E-step: {[round(v, 4) for _, v in vpd['vpd/kl_e']]}; β_E: "
            f"{[round(v, 4) for _, v in vpd.get('vpd/beta_e', [])]}")
    return {"curve": curve, "train_reward": rewards, "entropy": entropy, "vpd": vpd, "seconds": time.time() - t}


def steps_to(curve, threshold):
    for point in curve:
        if point["student"] >= threshold:
            return point["step"]
    return None


def _ms(xs):
    xs = [x for x in xs if x is not None and not (isinstance(x, float) and math.isnan(x))]
    if not xs:
        return "—"
    return f"{statistics.mean(xs):.3f} ± {statistics.stdev(xs) if len(xs) > 1 else 0.0:.3f}"


def report(results, size_name, size, info, threshold, args, seconds, out: Path, fam=task) -> str:
    import transformers
    import trl

    title = size_name if fam.NAME == "letters" else f"{size_name}, task family `{fam.NAME}`"
    no_fb = ""
    if "teacher_fix_rate_no_feedback" in info:
        no_fb = (f" (without feedback {info['teacher_fix_rate_no_feedback']:.3f}, with misleading feedback "
                 f"{info['teacher_fix_rate_misleading']:.3f})")
    if "teacher_copy_rate" in info:
        no_fb += (f"; with a correct solution shown {info['teacher_copy_rate']:.3f}, with the solution and the feedback "
                  f"{info['teacher_copy_rate_with_feedback']:.3f}")
    lines = [
        f"# VPD learning benchmark ({title})",
        "",
        f"Command: `python -m benchmarks.learning {' '.join(sys.argv[1:])}`  ",
        f"Machine: {platform.machine()}, {os.cpu_count()} CPU cores ({args.device}); Python {platform.python_version()}, "
        f"torch {torch.__version__}, transformers {transformers.__version__}, trl {trl.__version__}. Wall time "
        f"{seconds / 60:.1f} min.  ",
        f"Seeds: {size['seeds']} (RL seed: sampling and prompt order; the pretrained model is the same for all).  ",
        f"Budget per run: {size['steps']} steps × {size['prompts']} prompts × {size['gens']} generations = "
        f"{size['steps'] * size['prompts'] * size['gens']} rollouts; lr {LR['full']} (full) / {LR['lora']} (LoRA r=8); "
        f"completions ≤ {size['completion']} tokens; eval every {size['eval_every']} steps on {size['n_eval']} held-out "
        "problems (greedy).  ",
        f"Pretrained model: {info['num_parameters'] / 1e3:.0f}k parameters, {info['steps']} SFT steps; greedy held-out "
        f"success {info['student_accuracy']:.3f}, teacher fix rate with feedback {info['teacher_fix_rate']:.3f}{no_fb}.",
        "",
        f"Threshold for 'steps to threshold': {threshold:.3f} (initial success + 0.10). Teacher fix = greedy success of "
        "the teacher (teacher template + verifier feedback on the student's failed greedy attempt) on the held-out "
        "problems the student failed.",
        "",
        "| method | final success | Δ vs start | steps to threshold (reached/seeds) | mean train reward | teacher fix start → final |",
        "|---|---|---|---|---|---|",
    ]
    for method, runs in results.items():
        finals = [r["curve"][-1]["student"] for r in runs]
        deltas = [r["curve"][-1]["student"] - r["curve"][0]["student"] for r in runs]
        reach = [steps_to(r["curve"], threshold) for r in runs]
        got = [x for x in reach if x is not None]
        reach_s = (f"{statistics.mean(got):.1f}" if got else "—") + f" ({len(got)}/{len(runs)})"
        rew = [statistics.mean(r["train_reward"]) for r in runs]
        tf0 = _ms([r["curve"][0]["teacher_fix"] for r in runs])
        tf1 = _ms([r["curve"][-1]["teacher_fix"] for r in runs])
        lines.append(f"| {method} | {_ms(finals)} | {_ms(deltas)} | {reach_s} | {_ms(rew)} | {tf0} → {tf1} |")
    lines += feedback_use_summary(results)
    lines += e_step_summary(results)
    lines += context_summary(results)
    lines += ["", f"![curves]({out.stem}.png)", ""]
    return "\n".join(lines)


FEEDBACK_USE = (("teacher_fix", "fix, real feedback"), ("teacher_fix_nofb", "fix, no feedback"),
                ("teacher_fix_mislead", "fix, misleading feedback"), ("follow", "follow rate = real − none"))


def feedback_use_summary(results) -> list[str]:
    """Does the teacher use the feedback? Its fix rates with real / no / misleading feedback on the student's failed
    greedy attempts, and the follow rate, at the start and the end of each run (mean ± std over seeds)."""
    rows = []
    for method, runs in results.items():
        if not all(key in r["curve"][0] for r in runs for key, _ in FEEDBACK_USE):  # results recorded before
            continue
        cells = [f"{_ms([r['curve'][0][key] for r in runs])} → {_ms([r['curve'][-1][key] for r in runs])}"
                 for key, _ in FEEDBACK_USE]
        rows.append(f"| {method} | " + " | ".join(cells) + " |")
    if not rows:
        return []
    return [
        "",
        "Does the teacher use the feedback? Greedy success of the teacher on the held-out problems the student failed, "
        "given the verifier's feedback on that attempt (real), the teacher template without feedback (none), or "
        "misleading feedback (the verifier's feedback as if a wrong answer were right); start → final. A teacher that "
        "reads the feedback has a follow rate > 0 and does worse with misleading feedback than with none.",
        "",
        "| method | " + " | ".join(label for _, label in FEEDBACK_USE) + " |",
        "|---|" + "---|" * len(FEEDBACK_USE),
        *rows,
    ]


def e_step_summary(results) -> list[str]:
    """Per method with an E-step: KL_E, β_E and the teacher's discrimination (implicit reward on positive minus
    negative rollouts) at the first E-step and averaged over the last `LAST` E-steps (single batches are noisy), mean ±
    std over seeds: did the teacher move, did β_E adapt."""
    LAST = 5  # noqa: N806
    rows = []
    for method, runs in results.items():
        series = [r.get("vpd", {}) for r in runs]
        if not all(s.get("vpd/kl_e") for s in series):
            continue

        def first_last(key, s=series):
            vals = [[v for _, v in x.get(key, [])] for x in s]
            if not all(vals):
                return "—"
            return f"{_ms([v[0] for v in vals])} → {_ms([statistics.mean(v[-LAST:]) for v in vals])}"

        disc = []
        for s in series:
            pos, neg = dict(s.get("vpd/teacher_reward_pos", [])), dict(s.get("vpd/teacher_reward_neg", []))
            ok = lambda v: v is not None and not math.isnan(v)  # noqa: E731  (NaN is logged as None: no pos/neg)
            disc.append([(k, pos[k] - neg[k]) for k in sorted(pos) if ok(pos[k]) and ok(neg.get(k))])
        disc_s = first_last("d", [{"d": d} for d in disc])
        n = statistics.mean(len(s["vpd/kl_e"]) for s in series)
        rows.append(f"| {method} | {n:.0f} | {first_last('vpd/kl_e')} | {first_last('vpd/beta_e')} | {disc_s} |")
    if not rows:
        return []
    return [
        "",
        "E-steps (first E-step of each run → mean of its last 5 E-steps; then mean ± std over seeds): KL_E = "
        "per-token KL(teacher ‖ student) on the batch, measured before that E-step's update; teacher h₊ − h₋ = the "
        "teacher's mean implicit reward log q/π_ref on positive minus negative rollouts (its discrimination; E-steps "
        "where both kinds occur).",
        "",
        "| method | E-steps per run | KL_E | β_E | teacher h₊ − h₋ |",
        "|---|---|---|---|---|",
        *rows,
    ]


def context_summary(results) -> list[str]:
    """Per VPD method: the share of rollouts whose teacher context shows a critique and the share showing a sibling's
    solution (mean over steps, then mean ± std over seeds): where a trained reader of critiques can matter."""
    rows = []
    for method, runs in results.items():
        series = [r.get("vpd", {}) for r in runs]
        if not all(s.get("vpd/feedback_coverage") for s in series):
            continue
        cells = [_ms([statistics.mean(v for _, v in s[key]) for s in series])
                 for key in ("vpd/feedback_coverage", "vpd/sibling_solution_coverage")]
        rows.append(f"| {method} | " + " | ".join(cells) + " |")
    if not rows:
        return []
    return [
        "",
        ("Teacher contexts of the M-step (share of rollouts, mean over steps): with a critique (with "
         "`feedback_only_without_solution`, the failures of groups where no sibling succeeded), with a sibling's "
         "solution."),
        "",
        "| method | critique | solution |",
        "|---|---|---|",
        *rows,
    ]


def plot(results, path: Path, title: str):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    keys = ("student", "teacher_fix", "follow")
    fig, axes = plt.subplots(1, 3, figsize=(16, 4))
    for method, runs in results.items():
        steps = [p["step"] for p in runs[0]["curve"]]
        for ax, key in zip(axes, keys):
            ys = [[r["curve"][i].get(key, math.nan) for r in runs] for i in range(len(steps))]
            mean = [statistics.mean(v) for v in ys]
            std = [statistics.stdev(v) if len(v) > 1 else 0.0 for v in ys]
            ax.plot(steps, mean, label=method)
            ax.fill_between(steps, [m - s for m, s in zip(mean, std)], [m + s for m, s in zip(mean, std)], alpha=0.15)
    axes[0].set_title("student greedy success (held-out)")
    axes[1].set_title("teacher fix rate with feedback (held-out failures)")
    axes[2].set_title("follow rate: fix with − without feedback")
    for ax in axes:
        ax.set_xlabel("optimizer step")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", default="small", choices=list(SIZES))
    ap.add_argument("--family", default="letters", choices=list(task.FAMILIES),
                    help="task family: letters (task.py, the default), lookup (task_lookup.py), reveal or reveal_read "
                         "(task_reveal.py, task_reveal_read.py)")
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    ap.add_argument("--methods", default=None)
    ap.add_argument("--seeds", default=None, help="comma-separated, overrides the size's seeds")
    ap.add_argument("--steps", type=int, default=None)
    ap.add_argument("--eval-every", type=int, default=None, help="evaluation interval in steps (overrides the size's)")
    ap.add_argument("--lr", type=float, default=None, help="full-model lr (LoRA: 4×), overrides the default (pilots)")
    ap.add_argument("--out", default=None, help="output stem (default benchmarks/results/learning_<size>)")
    ap.add_argument("--overwrite", action="store_true", help=outputs.OVERWRITE_HELP)
    ap.add_argument("--pretrain-seed", type=int, default=None,
                    help="seed of the locally pretrained model (another model of the same skill: robustness checks)")
    ap.add_argument("--pretrain-set", action="append", default=[], metavar="FIELD=VALUE",
                    help="override one `tinylm.PretrainConfig` field of the size and family (repeatable), e.g. "
                    "solution_fraction=0.2")
    args = ap.parse_args(argv)
    size = dict(SIZES[args.size])
    fam = task.family(args.family)
    size["pretrain"] = family_pretraining(size, args.family)
    size.pop("pretrain_over_family", None)
    if args.pretrain_seed is not None:
        size["pretrain"] = {**size["pretrain"], "seed": args.pretrain_seed}
    for item in args.pretrain_set:
        name, _, value = item.partition("=")
        kind = type(getattr(tinylm.PretrainConfig(), name))  # AttributeError names a field that does not exist
        size["pretrain"] = {**size["pretrain"], name: kind(value)}
    if args.methods:
        size["methods"] = args.methods.split(",")
    if args.seeds:
        size["seeds"] = [int(s) for s in args.seeds.split(",")]
    if args.steps:
        size["steps"] = args.steps
    if args.eval_every:
        size["eval_every"] = args.eval_every
    if args.lr:
        LR.update(full=args.lr, lora=4 * args.lr)
    stem = f"learning_{args.size}" + ("" if args.family == "letters" else f"_{args.family}")
    out = outputs.claim(Path(args.out) if args.out else Path(__file__).parent / "results" / stem, args.overwrite)
    log = lambda *a: print(*a, flush=True)  # noqa: E731
    try:
        import trl.experimental.sdpo  # noqa: F401
    except ImportError:
        size["methods"] = [m for m in size["methods"] if m != "sdpo"]
    started = time.time()

    eval_problems = fam.make_problems(size["n_eval"], seed=999)
    cfg = tinylm.PretrainConfig(**size["pretrain"])
    log(f"pretraining (cache key {cfg.key()}) ...")
    model_path, tok, info = pretrained(cfg, eval_problems, log=log)
    log(f"pretrained: {info}")
    exclude = {p["question"] for p in eval_problems}
    train_ds = fam.to_dataset(fam.make_problems(size["n_train"], seed=7, exclude=exclude))

    results = {m: [] for m in size["methods"]}
    for seed in size["seeds"]:  # methods alternate within each seed
        for method in size["methods"]:
            results[method].append(
                run_method(method, seed, size, model_path, tok, train_ds, eval_problems, args.device,
                           out.parent / ".runs" / out.name, log, fam)
            )
            (out.with_suffix(".json")).write_text(
                json.dumps({"family": args.family, "info": info, "size": size, "results": results}, indent=1)
            )
    threshold = next(iter(results.values()))[0]["curve"][0]["student"] + 0.10  # same initial model for all runs
    text = report(results, args.size, size, info, threshold, args, time.time() - started, out, fam)
    out.with_suffix(".md").write_text(text)
    plot(results, out.with_suffix(".png"), f"{args.size}: {len(size['seeds'])} seeds, mean ± std")
    print(text)


if __name__ == "__main__":
    main()
