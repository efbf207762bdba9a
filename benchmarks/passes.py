"""Where the training part of a step goes: passes through the model's decoder stack and wall time, per phase of the
step, for GRPO and VPD configurations of `benchmarks.cost` on the same batch.

    python -m benchmarks.passes --preset cpu_mem --configs grpo_qlora,vpd_adapter_qlora_sampled_E1

Pass counts are exact (a hook on the last decoder layer counts every forward, with or without gradient, and every
backward through the stack, with the tokens it carried; recomputation under gradient checkpointing is not counted, and
`benchmarks.cost` turns checkpointing off for QLoRA); times are indicative on a shared CPU. It explains a step-time
ratio by the work each trainer does, which the ratio of two noisy medians cannot. Memory: the high-water mark reached
in each phase (the process's resident set on the CPU, `torch.cuda.max_memory_allocated` on a GPU).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections import defaultdict
from contextlib import contextmanager
from pathlib import Path

import torch

from . import cost, task

# Phases of a step. "scoring" is `_generate_and_score_completions` minus its nested generation and reference forward
# (rewards, feedback, teacher contexts, advantages); "rest" is whatever the step runs outside the named methods: TRL's
# backward of the student loss and the optimizer steps.
PHASES = ("generate", "scoring", "reference", "e-step", "student loss", "rest")
METHODS = {"_generate_and_score_completions": "scoring", "_generate": "generate", "_reference_forward": "reference",
           "_e_backward": "e-step", "compute_loss": "student loss"}


def last_decoder_layer(model):
    layers = [m for m in model.modules() if type(m).__name__.endswith("DecoderLayer")]
    if not layers:
        raise ValueError("no *DecoderLayer module found")
    return layers[-1]


def models_of(trainer):
    """The distinct models a trainer runs: the policy and, where separate, a reference or teacher model (SDPO's EMA
    teacher, VPD's frozen or EMA teacher)."""
    candidates = [trainer.model, getattr(trainer, "ref_model", None), getattr(trainer, "teacher_model", None),
                  getattr(getattr(trainer, "teacher", None), "module", None)]
    seen, models = set(), []
    for model in candidates:
        if isinstance(model, torch.nn.Module) and id(model) not in seen:
            seen.add(id(model))
            models.append(model)
    return models


class PassCounter:
    """Per phase: forwards through the decoder stack with / without gradient, backwards, the tokens of each, the wall
    time spent in the phase and the memory high-water mark reached in it."""

    def __init__(self, trainer, sync):
        self.trainer, self.sync = trainer, sync
        self.phase = [PHASES[-1]]
        self.record = False
        self.counts = defaultdict(lambda: defaultdict(float))
        for model in models_of(trainer):
            last_decoder_layer(model).register_forward_hook(self._forward)
        for name, phase in METHODS.items():
            if hasattr(trainer, name):  # GRPO and SDPO have no reference or E-step methods
                self._wrap(name, phase)

    def _wrap(self, name, phase):
        original = getattr(self.trainer, name)

        def wrapped(*args, **kwargs):
            with self.in_phase(phase):
                return original(*args, **kwargs)

        setattr(self.trainer, name, wrapped)

    def memory_boundary(self):
        """Charges the memory high-water mark since the last phase boundary to the running phase, then resets it."""
        if not self.record:
            return
        counts = self.counts[self.phase[-1]]
        if torch.cuda.is_available() and self.trainer.accelerator.device.type == "cuda":
            counts["peak MiB"] = max(counts["peak MiB"], torch.cuda.max_memory_allocated() / 2**20)
            torch.cuda.reset_peak_memory_stats()
        else:
            counts["peak MiB"] = max(counts["peak MiB"], cost.proc_status("VmHWM") / 2**20)
            cost.reset_hwm()

    @contextmanager
    def in_phase(self, phase):
        outer = self.phase[-1]
        self.sync()
        self.memory_boundary()
        start = time.perf_counter()
        self.phase.append(phase)
        try:
            yield
        finally:
            self.sync()
            self.memory_boundary()
            self.phase.pop()
            if self.record:
                elapsed = time.perf_counter() - start
                self.counts[phase]["seconds"] += elapsed
                self.counts[outer]["seconds"] -= elapsed  # the outer phase's time excludes its nested phases

    def _forward(self, module, args, output):
        if not self.record:
            return
        hidden = output[0] if isinstance(output, tuple) else output
        tokens = hidden.shape[0] * hidden.shape[1]
        counts = self.counts[self.phase[-1]]
        if torch.is_grad_enabled() and hidden.requires_grad:
            kind = "forward (grad)"
            phase = self.phase[-1]
            hidden.register_hook(lambda grad: self._backward(phase, tokens))
        else:
            kind = "forward (no grad)"
        counts[kind] += 1
        counts[kind + " tokens"] += tokens

    def _backward(self, phase, tokens):
        # the teacher adapter's backward runs inside the E-step; every other graph is backpropagated by TRL's
        # training_step, outside the named methods
        counts = self.counts["e-step" if phase == "e-step" else PHASES[-1]]
        counts["backward"] += 1
        counts["backward tokens"] += tokens


def profile(name, p, tok, dataset, model_dir, device, out_dir):
    """Counts and times of the measured steps of configuration `name` (the warm-up steps are not recorded)."""
    from transformers import TrainerCallback

    trainer = cost.make_trainer(name, p, tok, dataset, model_dir, device, out_dir)
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    counter = PassCounter(trainer, sync)
    state = {}

    class Steps(TrainerCallback):
        def on_step_begin(self, args, st, control, **kw):
            counter.record = st.global_step >= p["warmup"]
            sync()
            counter.memory_boundary()
            state["t0"] = time.perf_counter()

        def on_step_end(self, args, st, control, **kw):
            sync()
            counter.memory_boundary()
            if counter.record:  # the outermost phase gets the step's time; nested phases subtract theirs
                counter.counts[PHASES[-1]]["seconds"] += time.perf_counter() - state["t0"]

    trainer.add_callback(Steps())
    trainer.train()
    steps = p["steps"]
    per_step = {}
    for phase in PHASES:
        per_step[phase] = {k: v if k == "peak MiB" else v / steps for k, v in counter.counts[phase].items()}
    return per_step


def table(results: dict) -> str:
    kinds = ("forward (grad)", "forward (no grad)", "backward")
    lines = [
        "| config | phase | fwd grad | fwd no-grad | backward | tokens through the stack | seconds | peak MiB |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, phases in results.items():
        for phase in PHASES:
            c = phases.get(phase, {})
            if not any(c.get(k) for k in kinds) and not c.get("seconds"):
                continue
            tokens = sum(c.get(k + " tokens", 0) for k in kinds)
            lines.append(f"| {name} | {phase} | " + " | ".join(f"{c.get(k, 0):g}" for k in kinds)
                         + f" | {tokens:,.0f} | {c.get('seconds', 0):.3f} | {c.get('peak MiB', 0):.0f} |")
    lines += ["", "Training part (every phase but generation), per step:", "",
              "| config | forwards | backwards | tokens through the stack (forward + backward) | seconds |",
              "|---|---|---|---|---|"]
    for name, phases in results.items():
        train = [c for phase, c in phases.items() if phase != "generate"]
        forwards = sum(c.get(k, 0) for c in train for k in kinds[:2])
        tokens = sum(c.get(k + " tokens", 0) for c in train for k in kinds)
        lines.append(f"| {name} | {forwards:g} | {sum(c.get('backward', 0) for c in train):g} | {tokens:,.0f} | "
                     f"{sum(c.get('seconds', 0) for c in train):.3f} |")
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    ap.add_argument("--preset", "--size", dest="preset", default="cpu", choices=list(cost.PRESETS))
    ap.add_argument("--configs", default="grpo_lora,vpd_adapter_sampled_E1",
                    help="comma-separated subset of: " + ",".join(cost.CONFIGS))
    ap.add_argument("--steps", type=int, default=None, help="measured steps (default: the preset's)")
    ap.add_argument("--out", default=None, help="Markdown report (a JSON of the counts is written beside it)")
    args = ap.parse_args(argv)
    p = dict(cost.PRESETS[args.preset])
    if args.steps:
        p["steps"] = args.steps
    from .tinylm import build_tokenizer

    tok = build_tokenizer()
    dataset = task.to_dataset(task.make_problems(64, seed=1))
    tmp = Path(tempfile.mkdtemp(prefix="vpd-passes-"))
    n_params = cost.build_model(p, tok, args.device, tmp / "model")
    results = {}
    for name in args.configs.split(","):
        results[name] = profile(name, p, tok, dataset, tmp / "model", args.device, tmp)
        print(f"[{name}] done", file=sys.stderr, flush=True)
    import trl

    header = (
        f"Command: `python -m benchmarks.passes {' '.join(sys.argv[1:] if argv is None else argv)}`  \n"
        f"Model: Qwen2-shaped, {n_params / 1e6:.1f}M parameters ({p['layers']} layers, hidden {p['hidden']}, vocab "
        f"{p['vocab'] or 'tokenizer'}); {p['prompts']} prompts × {p['gens']} generations × {p['completion']} "
        f"completion tokens; per step, mean of {p['steps']} steps after {p['warmup']} warm-up; {args.device}, torch "
        f"{torch.__version__}, trl {trl.__version__}.\n"
    )
    report = header + "\n" + table(results) + "\n"
    print(report)
    if args.out:
        out = Path(args.out)
        out.write_text(f"# Passes and phase times per step ({args.preset} preset)\n\n" + report)
        out.with_suffix(".json").write_text(json.dumps({"preset": p, "results": results}, indent=1))

if __name__ == "__main__":
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    main()
