"""Summary of the M-step terms' gradient norms logged by `log_gradient_norms` runs (Z97): per method, the weighted
distillation's norm over GRPO's at the student's final hidden states, on the steps where GRPO's is non-zero.

    python -m benchmarks.gradient_norms benchmarks/results/gradnorms13_reveal.json ...
"""

from __future__ import annotations

import argparse
import json
import statistics


def ratios(run: dict, weight: float) -> tuple[list[float], int]:
    """(weight · ‖g_distill‖ / ‖g_GRPO‖ per step with ‖g_GRPO‖ > 0, number of steps with ‖g_GRPO‖ = 0)."""
    grpo = dict(run["vpd"].get("vpd/grad_norm_grpo", []))
    distill = dict(run["vpd"].get("vpd/grad_norm_distill", []))
    steps = sorted(set(grpo) & set(distill))
    return [weight * distill[s] / grpo[s] for s in steps if grpo[s] > 0], sum(grpo[s] == 0 for s in steps)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", nargs="+")
    parser.add_argument("--weight", type=float, default=0.5, help="the runs' distillation_weight")
    args = parser.parse_args(argv)
    print("| file | method | seeds | weighted distill / GRPO (mean over steps; per seed) | first 30 steps | last 30 "
          "steps | steps with GRPO = 0 |")
    print("|---|---|---|---|---|---|---|")
    for path in args.results:
        with open(path) as f:
            results = json.load(f)["results"]
        for method, runs in results.items():
            per_seed = [ratios(run, args.weight) for run in runs]
            if not any(r for r, _ in per_seed):
                continue
            means = [statistics.mean(r) for r, _ in per_seed if r]
            first = [statistics.mean(r[:30]) for r, _ in per_seed if r]
            last = [statistics.mean(r[-30:]) for r, _ in per_seed if r]
            zeros = [z for _, z in per_seed]
            print(f"| {path.rsplit('/', 1)[-1]} | {method} | {len(runs)} | {statistics.mean(means):.2f} "
                  f"({', '.join(f'{m:.2f}' for m in means)}) | {statistics.mean(first):.2f} | "
                  f"{statistics.mean(last):.2f} | {statistics.mean(zeros):.0f} |")


if __name__ == "__main__":
    main()
