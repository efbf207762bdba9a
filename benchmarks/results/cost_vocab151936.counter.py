"""Count (and time) every LM-head matmul of one training step, by which forward it belongs to.

A TorchDispatchMode sees every aten matmul, forward and backward (autograd's too). A matmul is the head's when one of
its dims is a vocabulary tile (>= VOCAB_MIN; the decoder's dims and token counts here are all far below). Kinds:
  proj  (n, H) @ (H, Vc)   a projection (forward, or recomputed in a backward)
  dH    (n, Vc) @ (Vc, H)  gradient w.r.t. hidden states
  dW    (Vc, n) @ (n, H)   gradient w.r.t. the head weight
Sizes are given in "token-projections": flops / (2·H·V), i.e. the number of tokens projected through the whole
vocabulary once. Labels come from trainer-method wrappers (forwards) and from the autograd Functions' ctx (their
backwards); other autograd-engine backwards are "autograd bwd". Every other op touching a vocabulary-wide tensor is
timed too ("vocab-wide": exp, max, log-sum-exp, gathers, top-k, the logits gradient).

    python benchmarks/results/cost_vocab151936.counter.py --preset cpu_vocab --configs grpo,vpd_shared_topk_E1_auto --out x.json

(from the repository root; results: cost_vocab151936.md. It also runs benchmarks.passes' PassCounter in the same steps.)
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")
sys.path.insert(0, os.getcwd())

import torch
from torch.utils._python_dispatch import TorchDispatchMode

aten = torch.ops.aten
VOCAB_MIN = 10000
MM = {aten.mm, aten.addmm, aten.addmm_, aten.bmm, aten.baddbmm}

LABELS: list[str] = []
STATE = {"record": False}
COUNTS = defaultdict(lambda: defaultdict(float))  # label -> kind -> token-projections / calls / seconds
BODY = {"flops": 0.0, "seconds": 0.0}
HEAD = {"H": None, "V": None}


class Label:
    def __init__(self, name):
        self.name = name

    def __enter__(self):
        LABELS.append(self.name)

    def __exit__(self, *exc):
        LABELS.pop()


def current_label():
    in_bwd = torch._C._current_autograd_node() is not None
    if LABELS:
        label = LABELS[-1]
        if in_bwd and "bwd" not in label:
            label += " [recomputed in bwd]"
        return label
    return "autograd bwd" if in_bwd else "other"


def shapes(func, args):
    p = func.overloadpacket
    if p in (aten.mm,):
        a, b = args[0], args[1]
    elif p in (aten.addmm, aten.addmm_):
        a, b = args[1], args[2]
    elif p == aten.bmm:
        a, b = args[0], args[1]
    elif p == aten.baddbmm:
        a, b = args[1], args[2]
    batch = a.shape[0] if a.dim() == 3 else 1
    M, K = a.shape[-2], a.shape[-1]
    N = b.shape[-1]
    return batch, M, K, N


class Counter(TorchDispatchMode):
    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if not STATE["record"]:
            return func(*args, **kwargs)
        if func.overloadpacket not in MM:
            t0 = time.perf_counter()
            out = func(*args, **kwargs)
            dt = time.perf_counter() - t0
            tensors = [x for x in (*args, *kwargs.values(), *(out if isinstance(out, (tuple, list)) else (out,)))
                       if isinstance(x, torch.Tensor)]
            if any(x.dim() and max(x.shape) >= VOCAB_MIN for x in tensors):
                c = COUNTS[current_label()]
                c["vocab-wide other ops s"] += dt  # softmax/exp/max/gather... over (tokens, vocab) tiles
                c["vocab-wide other ops"] += 1
            else:
                BODY["other_s"] = BODY.get("other_s", 0.0) + dt
            return out
        batch, M, K, N = shapes(func, args)
        t0 = time.perf_counter()
        out = func(*args, **kwargs)
        dt = time.perf_counter() - t0
        flops = 2.0 * batch * M * K * N
        if max(M, K, N) < VOCAB_MIN:
            BODY["flops"] += flops
            BODY["seconds"] += dt
            return out
        kind = "proj" if N >= VOCAB_MIN else "dH" if K >= VOCAB_MIN else "dW"
        c = COUNTS[current_label()]
        tokens = flops / (2.0 * HEAD["H"] * HEAD["V"])
        c[kind] += tokens
        c[kind + " s"] += dt
        c["flops"] += flops
        return out


def wrap_function(cls, name):
    fwd, bwd = cls.forward, cls.backward

    def forward(ctx, *a, **k):
        ctx._hc_label = LABELS[-1] if LABELS else "other"
        return fwd(ctx, *a, **k)

    def backward(ctx, *a):
        with Label(getattr(ctx, "_hc_label", "?") + f" → bwd ({name})"):
            return bwd(ctx, *a)

    cls.forward, cls.backward = staticmethod(forward), staticmethod(backward)


def install_function_labels():
    from trl.kernels import ChunkedLogProbFunction
    from trl.kernels.chunked_divergence import ChunkedDivergenceFunction

    wrap_function(ChunkedLogProbFunction, "fused log-prob")
    wrap_function(ChunkedDivergenceFunction, "chunked divergence")
    try:
        from trl_vpd.losses.distillation import _RowwiseLoss

        wrap_function(_RowwiseLoss, "rowwise")
    except ImportError:
        pass


def wrap_method(trainer, name, label_fn):
    if not hasattr(trainer, name):
        return
    original = getattr(trainer, name)

    def wrapped(*a, **k):
        with Label(label_fn(*a, **k)):
            return original(*a, **k)

    setattr(trainer, name, wrapped)


def grad_word(grad):
    return "grad" if grad else "no grad"


def install_trainer_labels(trainer):
    wrap_method(trainer, "_generate", lambda *a, **k: "generate")
    wrap_method(trainer, "sample_rollouts", lambda *a, **k: "generate")  # SDPO
    wrap_method(trainer, "_get_per_token_logps_and_entropies",
                lambda *a, **k: f"student fwd (GRPO, {grad_word(torch.is_grad_enabled())})")
    wrap_method(trainer, "_teacher_forward",
                lambda model, inputs, grad, *a, **k: f"teacher fwd ({grad_word(grad)})")
    wrap_method(trainer, "_completion_logps", lambda *a, **k: "student fwd (E-step reference, no grad)")
    wrap_method(trainer, "_distillation", lambda *a, **k: "M-step divergence")
    wrap_method(trainer, "_forward_logits",  # SDPO
                lambda *a, **k: f"{'student' if torch.is_grad_enabled() else 'teacher'} fwd (SDPO logits, "
                f"{grad_word(torch.is_grad_enabled())})")


def run(name, p, tok, dataset, model_dir, out_dir):
    from benchmarks import cost
    from transformers import TrainerCallback

    from benchmarks import passes

    trainer = cost.make_trainer(name, p, tok, dataset, model_dir, "cpu", out_dir)
    install_trainer_labels(trainer)
    counter = passes.PassCounter(trainer, lambda: None)  # benchmarks.passes' exact pass counts, phases, memory
    head = trainer.model.get_output_embeddings()
    HEAD["V"], HEAD["H"] = head.weight.shape
    COUNTS.clear()
    BODY.clear()
    BODY.update(flops=0.0, seconds=0.0, other_s=0.0)
    times = {}

    class Steps(TrainerCallback):
        def on_step_begin(self, args, st, control, **kw):
            STATE["record"] = counter.record = st.global_step >= p["warmup"]
            counter.memory_boundary()
            times["t0"] = time.perf_counter()

        def on_step_end(self, args, st, control, **kw):
            counter.memory_boundary()
            if STATE["record"]:
                elapsed = time.perf_counter() - times["t0"]
                times["step"] = times.get("step", 0.0) + elapsed
                counter.counts[passes.PHASES[-1]]["seconds"] += elapsed
            STATE["record"] = False

    trainer.add_callback(Steps())
    with Counter():
        trainer.train()
    steps = p["steps"]
    result = {label: {k: v / steps for k, v in c.items()} for label, c in COUNTS.items()}
    phases = {phase: {k: v if k == "peak MiB" else v / steps for k, v in counter.counts[phase].items()}
              for phase in passes.PHASES}
    return {"phases": phases, "labels": result, "body_flops": BODY["flops"] / steps, "body_mm_s": BODY["seconds"] / steps, "other_ops_s": BODY["other_s"] / steps,
            "step_s": times.get("step", 0.0) / steps, "H": HEAD["H"], "V": HEAD["V"]}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--preset", default="cpu_vocab")
    ap.add_argument("--configs", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    from benchmarks import cost, task
    from benchmarks.tinylm import build_tokenizer

    install_function_labels()
    p = dict(cost.PRESETS[args.preset])
    p["steps"] = 1
    tok = build_tokenizer()
    dataset = task.to_dataset(task.make_problems(64, seed=1))
    tmp = Path(tempfile.mkdtemp(prefix="vpd-headcount-"))
    cost.build_model(p, tok, "cpu", tmp / "model")
    results = {}
    out = Path(args.out)
    if out.exists():
        results = json.loads(out.read_text())["results"]
    for name in args.configs.split(","):
        results[name] = run(name, p, tok, dataset, tmp / "model", tmp)
        out.write_text(json.dumps({"preset": p, "results": results}, indent=1))
        r = results[name]
        total = sum(v.get("flops", 0) for v in r["labels"].values())
        print(f"[{name}] step {r['step_s']:.2f}s, head GFLOP {total / 1e9:.1f}, body GFLOP {r['body_flops'] / 1e9:.2f}",
              flush=True)
        for label, c in sorted(r["labels"].items()):
            print(f"   {label:60s} " + " ".join(f"{k}={v:,.0f}" if not k.endswith(" s") else f"{k}={v:.2f}"
                                            for k, v in c.items() if k != "flops"), flush=True)


if __name__ == "__main__":
    main()
