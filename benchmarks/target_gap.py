"""Is the teacher a better target than the student where the student goes wrong?

    python -m benchmarks.target_gap --family reveal --methods grpo_lora,vpd_i13_adapter_init_tlr4_nosol

The M-step pulls the student toward the teacher's next-token distribution on the student's own rollouts; it can only
help where the teacher puts more probability than the student on the right token. This measures that directly, on
sampled failures of the student on held-out problems: the teacher's log-probability of the answer's token minus the
student's, at the student's first wrong token ("first error": where a target matters most) and at the tokens before
it (where the student was right and the target should keep it so). Each method is trained as in
`benchmarks.learning` (same model, data, lr) and measured before and after training; for GRPO "the teacher" is the
student's weights read in the teacher template, as in the learning benchmark.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
from pathlib import Path

import torch

from . import learning, outputs, task, tinylm
from .paired import summary


@torch.no_grad()
def _token_logps(model, prompt_ids: list[int], completion: list[int]) -> torch.Tensor:
    device = next(model.parameters()).device
    ids = torch.tensor([prompt_ids + completion], device=device)
    logits = model(ids).logits[0, len(prompt_ids) - 1 : -1].float()
    return torch.log_softmax(logits, -1).cpu()


@torch.no_grad()
def sample_failures(model, tok, problems, fam=task, samples: int = 4, max_new_tokens: int = 10, seed: int = 0):
    """The student's sampled (temperature 1) failed completions on `problems`: (problem, completion token ids)."""
    torch.manual_seed(seed)
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    out = []
    for p in problems:
        prompt = tinylm.chat_ids(tok, [{"role": "user", "content": p["question"]}])
        ids = torch.tensor([prompt] * samples, device=device)
        gen = model.generate(
            ids, max_new_tokens=max_new_tokens, do_sample=True, temperature=1.0, top_k=0, pad_token_id=tok.pad_token_id
        )
        for row in gen[:, len(prompt) :].tolist():
            if tok.eos_token_id in row:
                row = row[: row.index(tok.eos_token_id) + 1]
            row = [t for t in row if t != tok.pad_token_id]
            if not fam.is_correct(tok.decode(row, skip_special_tokens=True), p["answer"]):
                out.append((p, row))
    model.train(was_training)
    return out


def gap(student, teacher, tok, failures, fam=task) -> dict:
    """Mean log q(y*) − log π(y*) over failures (teacher: the teacher template with the verifier's feedback), at the
    first wrong token and at the tokens before it, with the share of tokens where the teacher is ahead; and `located`,
    the share of failures whose sampled token the teacher objects to most (lowest log q(y_t) − log π(y_t)) is the
    first wrong one: whether the teacher could tell the M-step where the error is without the answer."""
    first, before, located = [], [], []
    for p, completion in failures:
        target = tok(p["answer"], add_special_tokens=False)["input_ids"] + [tok.eos_token_id]
        feedback = fam.diagnose(tok.decode(completion, skip_special_tokens=True), p["answer"])
        student_prompt = tinylm.chat_ids(tok, [{"role": "user", "content": p["question"]}])
        teacher_prompt = tinylm.chat_ids(tok, tinylm.teacher_prompt(p["question"], feedback=feedback))
        lp_s = _token_logps(student, student_prompt, completion)
        lp_t = _token_logps(teacher, teacher_prompt, completion)
        for t in range(min(len(completion), len(target))):
            d = (lp_t[t, target[t]] - lp_s[t, target[t]]).item()
            if completion[t] != target[t]:
                first.append(d)
                sampled = torch.tensor(completion).unsqueeze(1)
                objection = (lp_t.gather(1, sampled) - lp_s.gather(1, sampled)).squeeze(1)
                located.append(float(objection.argmin().item() == t))
                break
            before.append(d)

    def stats(xs):
        if not xs:
            return {"mean": float("nan"), "ahead": float("nan"), "n": 0}
        return {"mean": statistics.mean(xs), "ahead": sum(x > 0 for x in xs) / len(xs), "n": len(xs)}

    return {
        "first_error": stats(first),
        "before_error": stats(before),
        "located": statistics.mean(located) if located else float("nan"),
        "failures": len(failures),
    }


def measure(trainer, tok, problems, fam, samples: int, seed: int) -> dict:
    model = trainer.model
    failures = sample_failures(model, tok, problems, fam, samples=samples, seed=seed)
    with learning.teacher_module(trainer, model) as teacher:
        return gap(model, teacher, tok, failures, fam)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", default="estep2", choices=list(learning.SIZES))
    ap.add_argument("--family", default="letters", choices=list(task.FAMILIES))
    ap.add_argument("--methods", required=True)
    ap.add_argument("--seeds", default="25")
    ap.add_argument("--steps", type=int, default=150)
    ap.add_argument("--samples", type=int, default=4, help="sampled completions per held-out problem")
    ap.add_argument("--out", default=None, help="output stem (default benchmarks/results/target_gap_<family>)")
    ap.add_argument("--overwrite", action="store_true", help=outputs.OVERWRITE_HELP)
    args = ap.parse_args(argv)
    out = outputs.claim(Path(args.out) if args.out else Path(__file__).parent / "results" / f"target_gap_{args.family}",
                        args.overwrite)  # fmt: skip
    size = {**learning.SIZES[args.size], "steps": args.steps}
    fam = task.family(args.family)
    eval_problems = fam.make_problems(size["n_eval"], seed=999)
    cfg = tinylm.PretrainConfig(**learning.family_pretraining(size, args.family))
    model_path, tok, _ = learning.pretrained(cfg, eval_problems, log=lambda *a: None)
    exclude = {p["question"] for p in eval_problems}
    train_ds = fam.to_dataset(fam.make_problems(size["n_train"], seed=7, exclude=exclude))
    args.out = args.out or f"benchmarks/results/target_gap_{args.family}"
    results = {}
    for method in args.methods.split(","):
        results[method] = []
        for seed in [int(s) for s in args.seeds.split(",")]:
            run_dir = out.parent / ".runs" / f"gap-{method}-{seed}"
            trainer = learning.method_trainer(method, seed, size, model_path, tok, train_ds, "cpu", run_dir, fam)
            start = measure(trainer, tok, eval_problems, fam, args.samples, seed)
            trainer.train()
            end = measure(trainer, tok, eval_problems, fam, args.samples, seed)
            results[method].append({"seed": seed, "start": start, "end": end})
            print(method, seed, json.dumps({"start": start, "end": end}), flush=True)
            out.with_suffix(".json").write_text(json.dumps({"family": args.family, "results": results}, indent=1))
    out.with_suffix(".md").write_text(report(results, args))


def _ms(xs):
    xs = [x for x in xs if not math.isnan(x)]
    if not xs:
        return "—"
    mean, se, _, n = summary(xs)
    return f"{mean:+.2f}" if n == 1 else f"{mean:+.2f} ± {se:.2f}"


def _share(xs):
    xs = [x for x in xs if not math.isnan(x)]
    return f"{statistics.mean(xs):.2f}" if xs else "—"


def report(results, args) -> str:
    lines = [
        f"# Teacher − student log-probability of the right token (`{args.family}`, `--size {args.size}`)",
        "",
        f"Command: `python -m benchmarks.target_gap --size {args.size} --family {args.family} --methods {args.methods} "
        f"--seeds {args.seeds} --steps {args.steps} --samples {args.samples} --out {args.out}`  ",
        f"On the student's sampled failures ({args.samples} samples per held-out problem): log q(y*) − log π(y*) at the student's first "
        "wrong token, and at the tokens before it (mean ± s.e. over seeds; \"ahead\": share of tokens where the teacher "
        "gives the right token more probability than the student; \"error located\": share of failures whose sampled "
        "token the teacher objects to most, log q(y_t) − log π(y_t) lowest, is the first wrong one). Start = before "
        "training, end = after.",
        "",
        "| method | first error, start → end | teacher ahead, start → end | before the error, start → end | "
        "error located, start → end | failures, end |",
        "|---|---|---|---|---|---|",
    ]
    for method, runs in results.items():

        def f(when, *keys, runs=runs):
            values = [r[when] for r in runs]
            for key in keys:
                values = [v[key] for v in values]
            return values

        lines.append(
            f"| {method} | {_ms(f('start', 'first_error', 'mean'))} → {_ms(f('end', 'first_error', 'mean'))} | "
            f"{_share(f('start', 'first_error', 'ahead'))} → {_share(f('end', 'first_error', 'ahead'))} | "
            f"{_ms(f('start', 'before_error', 'mean'))} → {_ms(f('end', 'before_error', 'mean'))} | "
            f"{_share(f('start', 'located'))} → {_share(f('end', 'located'))} | "
            f"{statistics.mean(r['end']['failures'] for r in runs):.0f} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
