"""The benchmarks only have to *run* in CI: each entry point in its tiny configuration."""

import json

import pytest


def test_cost_benchmark_tiny(tmp_path):
    from benchmarks import cost

    out = tmp_path / "cost.md"
    configs = "grpo,sdpo,vpd_shared_topk_E1,vpd_adapter_topk_E1"
    cost.main(["--size", "tiny", "--configs", configs, "--no-isolate", "--out", str(out)])
    text = out.read_text()
    assert "| vpd_shared_topk_E1 |" in text and "| vpd_adapter_topk_E1 |" in text and "| sdpo |" in text
    data = json.loads(out.with_suffix(".json").read_text())
    assert not data["failed"], data["failed"]
    assert all(len(r["step"]) > 0 for r in data["results"].values())


def test_cost_benchmark_isolated_qlora_on_cpu(tmp_path):
    from benchmarks import cost

    out = tmp_path / "cost.md"
    cost.main(["--size", "tiny", "--configs", "grpo_qlora,vpd_adapter_qlora_sampled_E1", "--out", str(out)])
    data = json.loads(out.with_suffix(".json").read_text())
    assert not data["failed"], data["failed"]
    for result in data["results"].values():  # measured in a child process: a real high-water mark above the base
        assert result["step"] and result["peak"][0] > result["base"][0] > 0


def test_m_step_memory_benchmark_tiny(tmp_path):
    from benchmarks import m_step_memory

    out = tmp_path / "m.md"
    m_step_memory.main(["--tokens", "64", "--vocab", "512", "--hidden", "16", "--topk", "8", "--chunk", "16", "--out", str(out)])
    rows = json.loads(out.with_suffix(".json").read_text())["rows"]
    assert [r["variant"] for r in rows] == list(m_step_memory.VARIANTS)
    losses = {r["variant"]: r["loss"] for r in rows}  # both paths compute the same divergence
    assert abs(losses["chunked_topk"] - losses["materialized_topk"]) < 1e-5
    assert abs(losses["chunked_full"] - losses["materialized_full"]) < 1e-5


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


def test_cost_benchmark_runs_the_e_step_backward(tmp_path):
    """The cost benchmark's untrained model solves nothing; its rewards must still differ within a group, or the
    E-step has no signal, skips its backward and the benchmark under-reports VPD's cost (as it once did)."""
    from benchmarks import cost, passes, task
    from benchmarks.tinylm import build_tokenizer

    p = dict(cost.PRESETS["tiny"])
    tok = build_tokenizer()
    dataset = task.to_dataset(task.make_problems(8, seed=1))
    cost.build_model(p, tok, "cpu", tmp_path / "model")
    counts = {name: passes.profile(name, p, tok, dataset, tmp_path / "model", "cpu", tmp_path)
              for name in ("grpo", "vpd_shared_topk_E1", "vpd_shared_topk_E1_auto", "vpd_adapter_sampled_E1", "sdpo")}
    # GRPO: one forward and one backward of the student
    assert counts["grpo"]["student loss"]["forward (grad)"] == 1 and counts["grpo"]["rest"]["backward"] == 1
    # shared teacher: the teacher's forward joins the student's loss and both graphs are backpropagated
    assert counts["vpd_shared_topk_E1"]["student loss"]["forward (grad)"] == 2
    assert counts["vpd_shared_topk_E1"]["rest"]["backward"] == 2
    # shared teacher, chunked (the default): student reference and teacher forwards without gradient, then the
    # teacher's chunks forward and backward inside the E-step; the student's loss is the student's forward alone
    chunked = counts["vpd_shared_topk_E1_auto"]
    assert chunked["e-step"]["forward (no grad)"] == 2
    assert chunked["e-step"]["forward (grad)"] == chunked["e-step"]["backward"] >= 2
    assert chunked["student loss"]["forward (grad)"] == 1 and chunked["rest"]["backward"] == 1
    # teacher adapter: reference forward, teacher forward + backward inside the E-step (reused by the M-step: no
    # third forward), then the student
    adapter = counts["vpd_adapter_sampled_E1"]
    assert adapter["reference"]["forward (no grad)"] == 1
    assert adapter["e-step"]["forward (grad)"] == 1 and adapter["e-step"]["backward"] == 1
    assert adapter["student loss"]["forward (grad)"] == 1 and "forward (no grad)" not in adapter["student loss"]
    # the teacher reads feedback and a sibling's solution besides the completion: a longer sequence
    assert adapter["e-step"]["forward (grad) tokens"] > adapter["student loss"]["forward (grad) tokens"]
    # SDPO's separate EMA teacher is counted too
    assert counts["sdpo"]["student loss"]["forward (no grad)"] == 1
    rewards = cost.coin_reward(["a b c", "a b d", "x", "y", "zz", "q r"])
    assert 0 < sum(rewards) < len(rewards)


def test_passes_benchmark_tiny(tmp_path):
    from benchmarks import passes

    out = tmp_path / "passes.md"
    passes.main(["--preset", "tiny", "--configs", "grpo,vpd_adapter_topk_E1_c4", "--out", str(out)])
    text = out.read_text()
    assert "| vpd_adapter_topk_E1_c4 | e-step |" in text and "| grpo | student loss |" in text
    counts = json.loads(out.with_suffix(".json").read_text())["results"]
    # chunked E-step on 4 rollouts in chunks of 4: one pass, so the no-gradient forward is skipped
    assert counts["vpd_adapter_topk_E1_c4"]["e-step"]["forward (grad)"] == 1
    assert counts["grpo"]["student loss"]["peak MiB"] > 0


def test_cost_summary_derives_the_default_schedule_row_for_each_chunking():
    """E-step one step in 5: 0.8·(E off) + 0.2·(E every step), paired by stem, the chunking suffix kept."""
    from benchmarks import cost

    def run(step, gen, peak):
        return {"step": [step], "gen": [gen], "peak": [peak], "base": [100.0]}

    results = {"grpo_lora": run(1.0, 0.5, 200.0), "vpd_adapter_topk_E1": run(6.0, 0.5, 500.0),
               "vpd_adapter_topk_E1_auto": run(7.0, 0.5, 300.0), "vpd_adapter_topk_Eoff": run(2.0, 0.5, 250.0)}
    rows = {line.split(" | ")[0].lstrip("| "): line.split(" | ") for line in
            cost.summary_table(results, list(results)).splitlines()[2:]}
    assert float(rows["vpd_adapter_topk_E5(derived)"][1]) == pytest.approx(0.8 * 2.0 + 0.2 * 6.0)
    auto = rows["vpd_adapter_topk_E5_auto(derived)"]
    assert float(auto[1]) == pytest.approx(0.8 * 2.0 + 0.2 * 7.0)
    assert float(auto[3]) == pytest.approx(0.8 * 1.5 + 0.2 * 6.5)  # training part = step − generation
    assert auto[4] == "0"  # peak: the E-step run's (300 bytes → 0 MiB), not the mix
    assert float(auto[8]) == pytest.approx(300.0 / 200.0)  # mem ×base: peak against GRPO+LoRA's
    assert float(auto[9]) == pytest.approx((300.0 - 100.0) / (200.0 - 100.0))  # growth ×base
