"""Where a benchmark writes its tables: never over an earlier run's unless asked, since a results file is the record
of a prediction's outcome."""

from __future__ import annotations

from pathlib import Path

OVERWRITE_HELP = "replace the tables of an earlier run at --out (by default an existing one stops the benchmark)"


def claim(stem: Path, overwrite: bool = False, suffixes: tuple[str, ...] = (".json", ".md")) -> Path:
    """`stem`, once no earlier run's `stem.json` / `stem.md` is there (or `overwrite` allows replacing them); its
    folder is created. Checked before any training, so a clash costs nothing."""
    taken = [stem.with_suffix(s) for s in suffixes if stem.with_suffix(s).exists()]
    if taken and not overwrite:
        raise SystemExit(f"{taken[0]} holds an earlier run's results: choose another --out, or pass --overwrite")
    stem.parent.mkdir(parents=True, exist_ok=True)
    return stem
