"""Run TRL's GRPO trainer tests twice, with TRL's classes and with VPDTrainer/VPDConfig, and compare.

    python -m tests.trl_suite --trl-tests PATH [-k EXPR] [-n 1] [--timeout 300] [--output benchmarks/results/trl_suite.md]

PATH is a TRL checkout, its ``tests/`` folder, or a test file (default: ``$TRL_TESTS_DIR``). TRL's tests are not in
its wheel or sdist, so get them with::

    git clone --depth 1 --branch v1.16.0 https://github.com/huggingface/trl /tmp/trl   # then --trl-tests /tmp/trl

The test file and its helpers (``testing_utils.py``, ``conftest.py``, ...) are copied into a temporary package (never
into this repository) and run offline by ``tests/trl_suite/plugin.py``. Exit status 1 when a test passes with TRL's
class but not with ours.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
HELPERS = ("__init__.py", "conftest.py", "testing_utils.py", "testing_constants.py")
GOOD = ("passed", "xfailed", "skipped")


def _resolve(path: str | None) -> Path:
    path = path or os.environ.get("TRL_TESTS_DIR")
    if not path:
        sys.exit(
            "No TRL tests given. TRL's tests are not in its wheel or sdist; get them with\n"
            "  git clone --depth 1 --branch v1.16.0 https://github.com/huggingface/trl /tmp/trl\n"
            "and run  python -m tests.trl_suite --trl-tests /tmp/trl  (or set TRL_TESTS_DIR)."
        )
    p = Path(path).expanduser().resolve()
    for candidate in (p, p / "test_grpo_trainer.py", p / "tests" / "test_grpo_trainer.py"):
        if candidate.is_file():
            return candidate
    sys.exit(f"No test_grpo_trainer.py found at {p} (give a TRL checkout, its tests/ folder or a test file).")


def _stage(test_file: Path, root: Path) -> Path:
    """Copy the test file and its sibling helpers into `root/trl_upstream_tests/` (a package, so relative imports of
    `.testing_utils` work, and not named `tests`, which is ours)."""
    package = root / "trl_upstream_tests"
    package.mkdir(parents=True)
    for name in HELPERS:
        if (test_file.parent / name).is_file():
            shutil.copy(test_file.parent / name, package / name)
    (package / "__init__.py").touch()
    target = package / (test_file.name if test_file.name.startswith("test_") else f"test_{test_file.name}")
    shutil.copy(test_file, target)
    (root / "pytest.ini").write_text(
        "[pytest]\nmarkers =\n    slow\n    low_priority\n    invariant\n"
        "filterwarnings =\n    ignore::DeprecationWarning\n    ignore::FutureWarning\n"
    )
    return target


def _version_of(test_file: Path) -> str:
    """`VERSION` and git commit of the checkout the tests come from, when known."""
    parts = []
    for parent in (test_file.parent, *test_file.parents):
        if (parent / "VERSION").is_file():
            parts.append(f"VERSION {(parent / 'VERSION').read_text().strip()}")
            break
    try:
        commit = subprocess.run(
            ["git", "-C", str(test_file.parent), "log", "-1", "--format=%h %cs"], capture_output=True, text=True
        ).stdout.strip()
        if commit:
            parts.append(f"commit {commit}")
    except OSError:
        pass
    if os.environ.get("TRL_TESTS_VERSION"):
        parts.append(os.environ["TRL_TESTS_VERSION"])
    return ", ".join(parts) or "unknown"


def start_mode(mode: str, target: Path, root: Path, args) -> tuple[subprocess.Popen, Path, datetime.datetime]:
    out = root / f"{mode}.json"
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        str(target),
        "-c",
        str(root / "pytest.ini"),
        "--rootdir",
        str(root),
        "-p",
        "tests.trl_suite.plugin",
        "--trl-suite-mode",
        mode,
        "--trl-suite-json",
        str(out),
        "-p",
        "no:cacheprovider",
        "--timeout",
        str(args.timeout),
        "-q",
        "-rN",
    ]
    if args.n and args.n > 0:
        cmd += ["-n", str(args.n)]
    if args.k:
        cmd += ["-k", args.k]
    cmd += args.pytest_args
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), str(root), os.environ.get("PYTHONPATH", "")])}
    print(f"[trl_suite] {mode}: {' '.join(cmd)}", flush=True)
    log = open(root / f"{mode}.log", "w") if args.log_dir is None else open(Path(args.log_dir) / f"{mode}.log", "w")
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    return proc, out, datetime.datetime.now()


def finish_mode(proc, out: Path, start) -> tuple[dict, float]:
    proc.wait()
    seconds = (datetime.datetime.now() - start).total_seconds()
    results = json.loads(out.read_text()) if out.exists() else {}
    return results, seconds


def _counts(results: dict) -> dict:
    counts: dict[str, int] = {}
    for entry in results.values():
        counts[entry["outcome"]] = counts.get(entry["outcome"], 0) + 1
    return counts


def regressions(trl: dict, vpd: dict) -> list[str]:
    """Tests that pass (or xfail as expected) with TRL's class but not with ours."""
    return [
        nodeid
        for nodeid, entry in trl.items()
        if entry["outcome"] in ("passed", "xfailed") and vpd.get(nodeid, {}).get("outcome") != entry["outcome"]
    ]


def _cell(entry: dict | None) -> str:
    if entry is None:
        return "not run"
    text = entry["outcome"]
    if entry["outcome"] not in ("passed",) and entry["message"]:
        text += ": " + entry["message"].replace("|", "\\|").replace("\n", " ")[:160]
    return text


def write_report(path: Path, trl: dict, vpd: dict, meta: dict) -> None:
    import trl as trl_pkg

    lines = [
        "# TRL's GRPO trainer tests with VPDTrainer swapped in",
        "",
        f"Generated by `{meta['command']}` on {meta['date']} ({platform.platform()}, {os.cpu_count()} CPUs).",
        f"Tests: `{meta['source']}` ({meta['version']}); installed trl {trl_pkg.__version__}. "
        f"Time: TRL's class {meta['seconds']['trl']:.0f} s, ours {meta['seconds']['vpd']:.0f} s.",
        "",
        "Hub models and datasets are offline stand-ins (`tests/trl_suite/standins.py`); GPU, vLLM and "
        'vision-language tests are skipped with the reason, in both runs. "Trainer" is the class the test '
        "actually built (evidence of the swap). A test that fails with TRL's class as well is not counted against "
        "ours: it tells of a difference between the tests' TRL version and the installed trl, or of a stand-in.",
        "",
        "| | passed | failed | error | skipped | xfailed | xpassed |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for label, results in (("TRL `GRPOTrainer`", trl), ("`VPDTrainer`", vpd)):
        c = _counts(results)
        lines.append(
            f"| {label} | "
            + " | ".join(str(c.get(k, 0)) for k in ("passed", "failed", "error", "skipped", "xfailed", "xpassed"))
            + " |"
        )
    regress = regressions(trl, vpd)
    lines += ["", f"## Pass with TRL's class, not with ours ({len(regress)})", ""]
    if regress:
        lines += ["| test | TRL | VPD |", "| --- | --- | --- |"]
        lines += [f"| `{n.split('::', 1)[1]}` | {_cell(trl[n])} | {_cell(vpd.get(n))} |" for n in regress]
    else:
        lines.append("None.")
    lines += ["", "## Every test", "", "| test | TRL | VPD | trainer (VPD run) |", "| --- | --- | --- | --- |"]
    for nodeid in sorted(set(trl) | set(vpd), key=lambda n: (list(trl) + list(vpd)).index(n)):
        trainers = ", ".join((vpd.get(nodeid) or {}).get("trainers", [])) or "-"
        lines.append(
            f"| `{nodeid.split('::', 1)[-1]}` | {_cell(trl.get(nodeid))} | {_cell(vpd.get(nodeid))} | {trainers} |"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.trl_suite", description=__doc__.split("\n\n")[0])
    parser.add_argument("--trl-tests", default=None, help="TRL checkout, its tests/ or a test file ($TRL_TESTS_DIR)")
    parser.add_argument("-k", default=None, help="pytest -k expression (select a subset)")
    parser.add_argument("-n", type=int, default=1, help="pytest-xdist workers (0: no xdist)")
    parser.add_argument("--timeout", type=int, default=300, help="per-test timeout, seconds")
    parser.add_argument("--modes", default="trl,vpd", help="which runs (default both)")
    parser.add_argument("--output", default=str(REPO / "benchmarks" / "results" / "trl_suite.md"))
    parser.add_argument("--json", default=None, help="also write both runs' raw results here")
    parser.add_argument("--parallel", action="store_true", help="run TRL's and our run at the same time")
    parser.add_argument("--log-dir", default=None, help="keep each run's pytest output here (<mode>.log)")
    parser.add_argument("pytest_args", nargs="*", help="extra pytest arguments (after --)")
    parser.add_argument("--from-json", default=None, help="only re-render the report from a --json file")
    args = parser.parse_args(argv)

    if args.from_json:
        raw = json.loads(Path(args.from_json).read_text())
        write_report(Path(args.output), raw["trl"], raw["vpd"], raw["meta"])
        return 1 if regressions(raw["trl"], raw["vpd"]) else 0
    test_file = _resolve(args.trl_tests)
    with tempfile.TemporaryDirectory(prefix="trl_suite_") as tmp:
        root = Path(tmp)
        target = _stage(test_file, root)
        results, seconds = {"trl": {}, "vpd": {}}, {"trl": 0.0, "vpd": 0.0}
        modes = [m for m in ("trl", "vpd") if m in args.modes.split(",")]
        if args.parallel:  # both runs at once (one pytest process each)
            running = {m: start_mode(m, target, root, args) for m in modes}
            for m in modes:
                results[m], seconds[m] = finish_mode(*running[m])
        else:
            for m in modes:
                results[m], seconds[m] = finish_mode(*start_mode(m, target, root, args))
    meta = {
        "command": "python -m tests.trl_suite " + shlex.join(argv if argv is not None else sys.argv[1:]),
        "date": datetime.date.today().isoformat(),
        "source": str(test_file),
        "version": _version_of(test_file),
        "seconds": seconds,
    }
    write_report(Path(args.output), results["trl"], results["vpd"], meta)
    if args.json:
        Path(args.json).write_text(json.dumps({"meta": meta, **results}, indent=1))
    for mode in ("trl", "vpd"):
        print(f"[trl_suite] {mode}: {_counts(results[mode])} ({seconds[mode]:.0f} s)")
    regress = regressions(results["trl"], results["vpd"])
    for nodeid in regress:
        print(f"[trl_suite] REGRESSION {nodeid}: {_cell(results['vpd'].get(nodeid))}")
    print(f"[trl_suite] report: {args.output}")
    return 1 if regress else 0


if __name__ == "__main__":
    sys.exit(main())
