"""Memory and time of the top-k / full M-step alone: materialized logits (trl-vpd ≤ 0.1's path) against the chunked
path (hidden states projected a chunk at a time; TRL's chunked-divergence kernel for `full`), forward + backward
from the same hidden states, each variant in a fresh process.

    python -m benchmarks.m_step_memory                      # CPU, a few minutes
    python -m benchmarks.m_step_memory --tokens 256 --vocab 4096 --hidden 64 --out m_smoke.md   # smoke test
    python -m benchmarks.m_step_memory --device cuda --tokens 4096 --out m_step_memory_gpu.md

Memory: the kernel's resident-set high-water mark (VmHWM, reset before the step) above the resident set at that
moment, so inputs and weights are excluded and only what the M-step allocates counts. One fp32 copy of the logits is
tokens × vocab × 4 bytes; the materialized path holds several (student and teacher logits, log-softmax, gradient).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import torch

from .cost import proc_status, reset_hwm

VARIANTS = ("materialized_topk", "chunked_topk", "materialized_full", "chunked_full")


def run_variant(
    variant: str, tokens: int, vocab: int, hidden: int, topk: int, chunk: int, measure: bool = True, device: str = "cpu"
):
    from trl_vpd.losses import OutputHead, full_vocab_divergence, head_divergence, topk_divergence

    if measure:  # the same step on a toy size first: lazy imports and autograd set-up are not the M-step's memory
        run_variant(variant, 8, 2 * topk, 8, topk, chunk, measure=False, device=device)
    torch.manual_seed(0)
    student = OutputHead(torch.randn(vocab, hidden, device=device) / hidden**0.5)
    teacher = OutputHead(student.weight + 0.01 * torch.randn(vocab, hidden, device=device))
    h_s = torch.randn(tokens, hidden, device=device, requires_grad=True)
    h_t = torch.randn(tokens, hidden, device=device)
    mode = variant.split("_")[1]
    cuda = device == "cuda"
    if cuda:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
    else:
        base = proc_status("VmRSS")
    if measure and not cuda and not reset_hwm():
        raise RuntimeError("cannot reset the resident-set high-water mark (/proc/self/clear_refs): no CPU measurement")
    start = time.perf_counter()
    if variant.startswith("materialized"):
        s_logits, t_logits = student.logits(h_s, 1.0), teacher.logits(h_t, 1.0).detach()
        if mode == "topk":
            per_token = topk_divergence(s_logits, t_logits, topk, alpha=1.0)
        else:
            per_token = full_vocab_divergence(s_logits, t_logits, alpha=1.0)
    else:
        per_token = head_divergence(mode, h_s, h_t, student, teacher, alpha=1.0, topk=topk, chunk_tokens=chunk)
    per_token.mean().backward()
    if cuda:
        torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    peak = torch.cuda.max_memory_allocated() if cuda else proc_status("VmHWM")
    return {"extra_bytes": peak - base, "seconds": seconds, "loss": per_token.mean().item()}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tokens", type=int, default=2048, help="completion tokens with feedback in one micro-batch")
    ap.add_argument("--vocab", default="32768,151936", help="comma-separated vocabulary sizes")
    ap.add_argument("--hidden", type=int, default=1024)
    ap.add_argument("--topk", type=int, default=100)
    ap.add_argument("--chunk", type=int, default=256, help="distillation_chunk_tokens")
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "m_step_memory.md"))
    ap.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        variant, vocab = args.child.split(":")
        result = run_variant(variant, args.tokens, int(vocab), args.hidden, args.topk, args.chunk, device=args.device)
        print("RESULT " + json.dumps(result), flush=True)
        return

    rows = []
    for vocab in [int(v) for v in args.vocab.split(",")]:
        for variant in VARIANTS:
            cmd = [sys.executable, "-m", "benchmarks.m_step_memory", "--child", f"{variant}:{vocab}",
                   "--tokens", str(args.tokens), "--hidden", str(args.hidden), "--topk", str(args.topk),
                   "--chunk", str(args.chunk), "--device", args.device]
            done = subprocess.run(cmd, capture_output=True, text=True, cwd=Path(__file__).parent.parent)
            lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
            if not lines:
                raise RuntimeError(f"{variant} (vocab {vocab}) failed: {done.stderr.strip()[-500:]}")
            result = json.loads(lines[-1][len("RESULT "):])
            rows.append({"variant": variant, "vocab": vocab, **result})
            print(rows[-1], flush=True)

    logits_mib = lambda vocab: args.tokens * vocab * 4 / 2**20  # noqa: E731
    lines = [
        "# M-step memory: materialized vs chunked logits",
        "",
        f"Command: `python -m benchmarks.m_step_memory {' '.join(sys.argv[1:])}`  ",
        f"Machine: {torch.cuda.get_device_name(0) if args.device == 'cuda' else f'{platform.machine()}, {os.cpu_count()} CPU cores'}; "
        f"torch {torch.__version__}.  ",
        f"{args.tokens} completion tokens, hidden {args.hidden}, top-k {args.topk}, chunk {args.chunk} tokens, reverse "
        "KL, frozen LM head (the LoRA/QLoRA case), forward + backward of the distillation term alone from the same "
        "hidden states, fp32, each variant in a "
        "fresh process. Extra memory = "
        + ("`torch.cuda.max_memory_allocated` during the step − allocated before it" if args.device == "cuda" else
           "VmHWM during the step − VmRSS before it")
        + " (inputs and weights excluded). Times are single runs: indicative only.",
        "",
        "| vocab | variant | extra MiB | × one fp32 logits copy | seconds | loss |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['vocab']} | {r['variant']} | {r['extra_bytes'] / 2**20:.0f} | "
            f"{r['extra_bytes'] / 2**20 / logits_mib(r['vocab']):.2f} | {r['seconds']:.2f} | {r['loss']:.5f} |"
        )
    lines += ["", "Equal losses per vocabulary (materialized vs chunked) show both paths compute the same quantity."]
    text = "\n".join(lines) + "\n"
    Path(args.out).write_text(text)
    Path(args.out).with_suffix(".json").write_text(json.dumps({"args": vars(args), "rows": rows}, indent=1))
    print(text)


if __name__ == "__main__":
    main()
