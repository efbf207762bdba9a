"""The benchmarks only have to *run* in CI: each entry point in its tiny configuration."""

import json


def test_cost_benchmark_tiny(tmp_path):
    from benchmarks import cost

    out = tmp_path / "cost.md"
    cost.main(["--size", "tiny", "--configs", "grpo,sdpo,vpd_shared_topk_E1,vpd_adapter_topk_E1", "--out", str(out)])
    text = out.read_text()
    assert "| vpd_shared_topk_E1 |" in text and "| vpd_adapter_topk_E1 |" in text and "| sdpo |" in text
    data = json.loads(out.with_suffix(".json").read_text())
    assert not data["failed"], data["failed"]
    assert all(len(r["step"]) > 0 for r in data["results"].values())


def test_learning_benchmark_tiny(tmp_path, monkeypatch):
    from benchmarks import learning, tinylm

    monkeypatch.setattr(tinylm, "CACHE_DIR", tmp_path / "cache")
    stem = tmp_path / "learning_tiny"
    learning.main(["--size", "tiny", "--methods", "grpo,vpd_adapter", "--out", str(stem)])
    text = stem.with_suffix(".md").read_text()
    for method in ("grpo", "vpd_adapter"):
        assert f"| {method} |" in text
    assert stem.with_suffix(".png").exists()


def test_verifier_feedback_says_what_and_where():
    from benchmarks import task

    assert task.diagnose("c b a", "c b a") is None
    assert task.diagnose("c x a", "c b a") == "Position 2 should be 'b', not 'x'."
    assert "3 letters, not 2" in task.diagnose("c b", "c b a")
    assert task.solve("shift", ["a", "h"]) == ["b", "a"]
