"""Sandbox throughput: programs per second with N workers (default 1, 2, 4), printed as a table.

Each program is a small stdin/stdout solution of the kind code RL runs thousands of times per step, so the figure
is dominated by the per-run cost (interpreter start, namespaces, temp directory) rather than the program itself.

    python benchmarks/sandbox_throughput.py --programs 64 --workers 1 2 4
"""

from __future__ import annotations

import argparse
import os
import time

from trl_vpd.verifiers.sandbox import Sandbox

PROGRAM = "a, b = map(int, input().split())\nprint(sum(i * i for i in range(a, b)))\n"


def measure(workers: int, programs: int, namespaces: bool | None) -> tuple[float, float, str]:
    with Sandbox(timeout=10, workers=workers, namespaces=namespaces) as sandbox:
        sandbox.run(PROGRAM, "1 10\n")
        jobs = [(PROGRAM, f"{i} {i + 1000}\n") for i in range(programs)]
        start = time.perf_counter()
        results = sandbox.map(jobs)
        elapsed = time.perf_counter() - start
        assert all(r.status == "ok" for r in results), [r for r in results if r.status != "ok"][:1]
        mean_latency = sum(r.duration for r in results) / len(results)
        return programs / elapsed, mean_latency, sandbox.isolation.describe()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--programs", type=int, default=64)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--no-namespaces", action="store_true", help="measure the namespace-less fallback mode")
    args = parser.parse_args()
    namespaces = False if args.no_namespaces else None
    print(f"{args.programs} programs per measurement, {os.cpu_count()} CPUs")
    rows = [(n, *measure(n, args.programs, namespaces)) for n in args.workers]
    print(f"isolation: {rows[0][3]}")
    print(f"{'workers':>8} | {'programs/s':>10} | {'mean latency (ms)':>17}")
    print(f"{'-' * 8}-+-{'-' * 10}-+-{'-' * 17}")
    for workers, rate, latency, _ in rows:
        print(f"{workers:>8} | {rate:>10.1f} | {latency * 1000:>17.1f}")


if __name__ == "__main__":
    main()
