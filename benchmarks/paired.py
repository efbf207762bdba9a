"""Paired comparisons of learning-benchmark runs: final student success of each method minus a reference's on the same
seed (mean ± standard error over seeds, and on how many seeds the method is ahead), the seconds per run, and the steps
each method needs to reach the reference's mean final success.

    python -m benchmarks.paired benchmarks/results/learning_issue13_reveal.json --against grpo,passive_i13

Several JSON files of the same family and model (e.g. seeds 0-2 and 3-4 of one command) are concatenated per method;
runs are paired by seed, over the seeds both methods ran. `--alias A=B` pools method A's runs under B.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
from pathlib import Path


def load(paths: list[str], aliases: dict[str, str] | None = None) -> dict[str, list[dict]]:
    """method -> runs (one per seed, in the order the files list them), each with its `seed` added. `aliases` maps a
    method's recorded name to the name it is pooled under (one configuration recorded under two names)."""
    aliases = aliases or {}
    merged: dict[str, list[dict]] = {}
    for path in paths:
        data = json.loads(Path(path).read_text())
        for method, runs in data["results"].items():
            pooled = merged.setdefault(aliases.get(method, method), [])
            pooled.extend({**run, "seed": seed} for run, seed in zip(runs, data["size"]["seeds"]))
    return merged


def final(run: dict, key: str = "student") -> float:
    return run["curve"][-1][key]


def summary(diffs: list[float]) -> tuple[float, float, int, int]:
    """(mean, standard error, how many are > 0, how many) of per-seed differences."""
    se = statistics.stdev(diffs) / math.sqrt(len(diffs)) if len(diffs) > 1 else math.nan
    return statistics.mean(diffs), se, sum(d > 0 for d in diffs), len(diffs)


def formatted(stats: tuple[float, float, int, int]) -> str:
    """A `summary` as the tables print it: "+0.041 ± 0.006 (5/5)"."""
    mean, se, ahead, n = stats
    return f"{mean:+.3f} ± {se:.3f} ({ahead}/{n})"


def paired(runs: list[dict], reference: list[dict], key: str = "student") -> tuple[float, float, int, int]:
    """(mean difference, standard error, seeds ahead, seeds) of `runs` minus `reference`, seed by seed."""
    by_seed = {run["seed"]: run for run in reference}
    return summary([final(a, key) - final(by_seed[a["seed"]], key) for a in runs if a["seed"] in by_seed])


def steps_to(run: dict, target: float) -> int | None:
    """The first evaluated step at which the student's success reaches `target` (None if never)."""
    return next((point["step"] for point in run["curve"] if point["student"] >= target), None)


def specificity(point: dict, fixed: bool = False) -> float | None:
    """The teacher's repair with the real feedback minus with misleading feedback (None where not measured): what the
    feedback's *content* is worth to it. The follow rate (real minus none) also rises when the teacher only gets
    better at solving in the feedback's template: on `bare`, whose feedback says nothing, it rose 0 → 0.14."""
    real, misled = ("teacher_fix_initial", "mislead_initial") if fixed else ("teacher_fix", "teacher_fix_mislead")
    return point[real] - point[misled] if misled in point else None


def _start_end(runs: list[dict], value) -> str:
    """Mean of `value(point)` at the first and the last evaluation, over the runs that measured it at both."""
    measured = [r for r in runs if value(r["curve"][0]) is not None and value(r["curve"][-1]) is not None]
    if not measured:
        return ""
    return (f"{statistics.mean(value(r['curve'][0]) for r in measured):+.3f} → "
            f"{statistics.mean(value(r['curve'][-1]) for r in measured):+.3f}")


def table(results: dict[str, list[dict]], against: list[str]) -> str:
    """Final success, the teacher's follow rate and feedback specificity, and paired differences per method; where
    the runs measured them, both on the pretrained student's failures too (`follow_initial`, `mislead_initial`:
    start → end, the same set for every method)."""
    points = [p for runs in results.values() for r in runs for p in (r["curve"][0], r["curve"][-1])]
    current = any(specificity(p) is not None for p in points)
    fixed = any("follow_initial" in p for p in points)
    fixed_specificity = any(specificity(p, fixed=True) is not None for p in points)
    header = ["method", "final", "follow rate (final)"] + (["specificity"] if current else [])
    header += (["follow rate, fixed set"] if fixed else []) + (["specificity, fixed set"] if fixed_specificity else [])
    header += [f"vs {ref}" for ref in against] + ["s / run"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for method, runs in results.items():
        row = [method, f"{statistics.mean(final(r) for r in runs):.3f}",
               f"{statistics.mean(final(r, 'follow') for r in runs):+.3f}"]
        if current:
            row.append(_start_end(runs, specificity))
        if fixed:
            row.append(_start_end(runs, lambda point: point.get("follow_initial")))
        if fixed_specificity:
            row.append(_start_end(runs, lambda point: specificity(point, fixed=True)))
        for ref in against:
            if ref == method or ref not in results:
                row.append("")
                continue
            row.append(formatted(paired(runs, results[ref])))
        row.append(f"{statistics.mean(r['seconds'] for r in runs):.1f}")
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def steps_table(results: dict[str, list[dict]], reference: str) -> str:
    target = statistics.mean(final(r) for r in results[reference])
    ref_steps = results[reference][0]["curve"][-1]["step"]
    lines = [f"Steps to {reference}'s mean final success ({target:.3f}; {reference} ran {ref_steps} steps):", ""]
    for method, runs in results.items():
        reached = [s for s in (steps_to(r, target) for r in runs) if s is not None]
        where = f"median {statistics.median(reached):.0f}" if reached else "—"
        lines.append(f"- {method}: {len(reached)}/{len(runs)} seeds, {where}")
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("json", nargs="+")
    ap.add_argument("--against", default="grpo", help="comma-separated reference methods")
    ap.add_argument("--alias", action="append", default=[], metavar="RECORDED=POOLED",
                    help="pool the runs of method RECORDED under the name POOLED (the same configuration recorded under "
                    "two names, e.g. vpd_i13_copy_adapter_fows_mix_gcc=vpd_default); repeatable")
    args = ap.parse_args(argv)
    results = load(args.json, dict(alias.split("=", 1) for alias in args.alias))
    against = args.against.split(",")
    print(table(results, against))
    if against[0] in results:  # steps to the first reference's final success, where its runs were given
        print()
        print(steps_table(results, against[0]))


if __name__ == "__main__":
    main()
