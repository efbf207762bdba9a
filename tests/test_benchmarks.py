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
    assert "Does the teacher use the feedback?" in text and "follow rate" in text
    for run in json.loads(stem.with_suffix(".json").read_text())["results"]["vpd_adapter"]:
        for point in run["curve"]:  # the teacher-uses-feedback telemetry at every evaluation
            assert {"teacher_fix", "teacher_fix_nofb", "teacher_fix_mislead", "follow"} <= point.keys()
        # ... and at the start and the end on the pretrained student's failures: at the start that is the same set
        start, middle, end = run["curve"][0], run["curve"][1:-1], run["curve"][-1]
        assert (start["follow_initial"], start["teacher_fix_initial"], start["mislead_initial"]) == (
            start["follow"], start["teacher_fix"], start["teacher_fix_mislead"])
        assert {"follow_initial", "teacher_fix_initial", "mislead_initial"} <= end.keys()
        assert not any("follow_initial" in point for point in middle)
        # the M-step's context shares, recorded on every logged step
        for key in ("vpd/feedback_coverage", "vpd/sibling_solution_coverage"):
            shares = [v for _, v in run["vpd"][key]]
            assert len(shares) == len(run["train_reward"]) and all(0 <= v <= 1 for v in shares)
    assert "Teacher contexts of the M-step" in text and "| vpd_adapter | " in text.split("Teacher contexts")[1]
    assert "| grpo |" not in text.split("Teacher contexts")[1]  # GRPO has no teacher contexts


def test_learning_benchmark_tiny_lookup_family(tmp_path, monkeypatch):
    from benchmarks import learning, tinylm

    monkeypatch.setattr(tinylm, "CACHE_DIR", tmp_path / "cache")
    stem = tmp_path / "learning_tiny_lookup"
    learning.main(["--size", "tiny", "--family", "lookup", "--out", str(stem), "--pretrain-set", "solution_fraction=0.25"])
    data = json.loads(stem.with_suffix(".json").read_text())
    assert data["family"] == "lookup" and data["info"]["config"]["solution_fraction"] == 0.25  # over the family's 0.0
    assert 0.0 <= data["info"]["teacher_copy_rate"] <= 1.0
    assert data["info"]["config"]["family"] == "lookup" and data["info"]["config"]["feedback_fraction"] == 0.0
    for runs in data["results"].values():
        for point in runs[0]["curve"]:
            if point["n_failed"]:
                assert point["follow"] == pytest.approx(point["teacher_fix"] - point["teacher_fix_nofb"])
                assert 0.0 <= point["teacher_fix_mislead"] <= 1.0
    text = stem.with_suffix(".md").read_text()
    assert "task family `lookup`" in text and "| vpd_shared |" in text and "fix, misleading feedback" in text
    # the family's model is cached apart from the letters model of the same size
    keys = {p.name for p in (tmp_path / "cache").iterdir()}
    assert keys == {f"pretrained-{learning.tinylm.PretrainConfig(**data['size']['pretrain']).key()}"}


def test_letters_cache_keys_unchanged_by_task_families():
    """Recorded results stay reproducible: the letters family's pretrained models keep their cache keys (and so
    their configurations); another family gets its own."""
    from benchmarks import learning, tinylm

    assert tinylm.PretrainConfig(**learning.SIZES["small"]["pretrain"]).key() == "fa15ce9bc59e"
    assert tinylm.PretrainConfig(**learning.SIZES["tiny"]["pretrain"]).key() == "4d3b234b6d88"
    assert tinylm.PretrainConfig(family="letters").key() == tinylm.PretrainConfig().key()
    assert tinylm.PretrainConfig(family="lookup").key() != tinylm.PretrainConfig().key()
    both = tinylm.PretrainConfig(feedback_and_solution_fraction=0.3)
    assert both.key() != tinylm.PretrainConfig().key()
    assert tinylm.PretrainConfig(target_teacher_copy_rate=0.0).key() == tinylm.PretrainConfig().key()


def test_pretraining_mixture_shows_the_solution_with_and_without_feedback():
    """`feedback_and_solution_fraction` adds teacher prompts with the verifier's feedback *and* a correct solution (the
    context VPD's teacher reads on a failure with a successful sibling), in about that share of the examples."""
    from benchmarks import task, tinylm

    cfg = tinylm.PretrainConfig(feedback_fraction=0.3, solution_fraction=0.2, feedback_and_solution_fraction=0.3)
    problems = task.make_problems(2000, seed=3)
    counts = {"feedback": 0, "solution": 0, "both": 0, "plain": 0}
    for (prompt, target), p in zip(tinylm.sft_examples(cfg, problems), problems):
        assert target == p["answer"]
        text = prompt[-1]["content"]
        fb, sol = "Feedback on your earlier attempt" in text, f"A correct solution:\n\n{p['answer']}" in text
        counts["both" if fb and sol else "feedback" if fb else "solution" if sol else "plain"] += 1
    assert counts["plain"] / 2000 == pytest.approx(0.2, abs=0.03)
    for kind, share in (("feedback", 0.3), ("solution", 0.2), ("both", 0.3)):
        assert counts[kind] / 2000 == pytest.approx(share, abs=0.03), counts


def test_lookup_verifier_reward_and_feedback():
    from benchmarks import task, tinylm
    from benchmarks import task_lookup as lookup

    assert task.family("lookup") is lookup and task.family("letters") is task
    q = "table: m47 q81 z52 k29. value of q"
    assert lookup.table_values(q) == ["47", "81", "52", "29"]
    assert lookup.correctness_reward(["81", " 8 1", "52", "8", ""], ["81"] * 5) == [1.0, 1.0, 0.0, 0.0, 0.0]
    fb = lookup.verifier_feedback(["81", "52", "", "818"], ["81"] * 4)
    assert fb[0] is None  # no feedback on a correct answer
    assert fb[1] == "You answered 52. The right value is 81."
    assert fb[2] == "You answered nothing. The right value is 81."
    assert fb[3] == "You answered 818. The right value is 81."
    # a problem's wrong table values share no digit position with its answer: failures are far from it
    for p in lookup.make_problems(200, seed=3):
        values = lookup.table_values(p["question"])
        assert p["answer"] in values and p["question"].endswith(f"value of {p['question'].split()[-1]}")
        assert len({v[0] for v in values}) == len({v[1] for v in values}) == len(values)
        decoy = lookup.decoy(p, __import__("random").Random(0))
        assert decoy in values and decoy != p["answer"]
    # misleading feedback points at another value of the table (neither the answer nor the attempt) ...
    problem = {"question": q, "answer": "81"}
    misleading = tinylm.misleading_feedback(lookup, problem, "52")
    assert misleading in ("You answered 52. The right value is 47.", "You answered 52. The right value is 29.")
    # ... or, in a two-entry table whose other value is the attempt, at a wrong number
    two = {"question": "table: d55 t97. value of t", "answer": "97"}
    assert "is 97." not in tinylm.misleading_feedback(lookup, two, "55")
    assert tinylm.misleading_feedback(task, {"question": "reverse: a b c", "answer": "c b a"}, "c b b")
    assert lookup.PRETRAIN["feedback_fraction"] == 0.0  # reading feedback is never pretrained


def test_verifier_feedback_says_what_and_where():
    from benchmarks import task

    assert task.diagnose("c b a", "c b a") is None
    assert task.diagnose("c x a", "c b a") == "Position 2 should be 'b', not 'x'."
    assert "3 letters, not 2" in task.diagnose("c b", "c b a")
    assert task.solve("shift", ["a", "h"]) == ["b", "a"]


def test_partial_credit_reward_ranks_failures_by_positions_right():
    """The oracle ranking of `grpo_partial`: 1 when correct, else 0.1 × positions right over the longer length."""
    from benchmarks.trainers import partial_credit_reward

    rewards = partial_credit_reward(["b c a", "b a c", "b c", "b c a d", "x y z"], ["b c a"] * 5)
    assert rewards == pytest.approx([1.0, 0.1 / 3, 0.2 / 3, 0.075, 0.0])


def test_bare_family_says_only_that_an_answer_is_wrong_on_the_letters_model():
    """`bare`'s verifier restates the reward and its misleading feedback is the same sentence (specificity 0 by
    construction); it pretrains nothing of its own: the letters model and cache."""
    from benchmarks import learning, task, tinylm

    bare = task.family("bare")
    assert bare.verifier_feedback(["c b a", "c x a"], ["c b a"] * 2) == [None, "The answer is wrong."]
    assert tinylm.misleading_feedback(bare, {"question": "reverse: a b c", "answer": "c b a"}, "c x a") == bare.FEEDBACK
    size = learning.SIZES["estep2"]
    assert learning.family_pretraining(size, "bare") == learning.family_pretraining(size, "letters")
    assert learning.family_pretraining(size, "rotate")["family"] == "rotate"


def test_rotate_family_operations_and_reworded_feedback():
    from benchmarks import task
    from benchmarks import task_rotate as rotate

    assert task.family("rotate") is rotate
    assert rotate.solve("rotate", list("abcd")) == list("bcda")
    assert rotate.solve("swap", list("abcde")) == list("badce")  # an odd last letter stays
    assert rotate.solve("back", list("ahb")) == list("hga")  # 'a' wraps to 'h'
    assert rotate.diagnose("b c d a", "b c d a") is None
    assert rotate.diagnose("b x d y", "b c d a") == "Fix 2 to c, 4 to a."
    assert rotate.diagnose("x x x x", "b c d a") == "Fix 1 to b, 2 to c."  # at most MAX_ERRORS_SHOWN positions
    assert rotate.diagnose("b c", "b c d a") == "Need 4 letters."
    # the teacher is pretrained on the letters verifier's wording, never on this family's own
    assert rotate.pretrain_diagnose("b x d a", "b c d a") == "Position 2 should be 'c', not 'x'."
    assert rotate.verifier_feedback([[{"content": "b c d a"}], "a"], ["b c d a", "b"]) == [None, "Fix 1 to b."]
    for p in rotate.make_problems(50, seed=1):
        op, letters = p["question"].split(": ")
        assert op in rotate.OPERATIONS and p["answer"] == " ".join(rotate.solve(op, letters.split()))


def test_default_methods_get_the_library_defaults_not_the_recorded_pins():
    """`vpd_default*` must be what a new user gets: none of the pins that keep older methods reproducible."""
    from benchmarks.trainers import METHODS

    assert METHODS["vpd_default"] == ("vpd", {}, False) and METHODS["vpd_default_lora"] == ("vpd", {}, True)
    assert METHODS["passive_i13"][1]["e_step_every"] == 5  # an older method, pinned to the paper's schedule
    assert "e_step_solutions" in METHODS["passive_i13_fows_gcc"][1]


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
    # shared teacher, chunked (the default): the student reference without gradient, then the teacher's chunks forward
    # and backward inside the E-step (the sigmoid E-loss streams: no whole-batch teacher forward); the student's loss is
    # the student's forward alone
    chunked = counts["vpd_shared_topk_E1_auto"]
    assert chunked["e-step"]["forward (no grad)"] == 1
    # every chunk runs its forward; only those holding a trained rollout run a backward
    assert chunked["e-step"]["forward (grad)"] >= 2 and chunked["e-step"]["forward (grad)"] >= chunked["e-step"]["backward"] >= 1
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


def test_paired_differences_pair_runs_by_seed_across_files(tmp_path):
    """Files with different seed sets merge per method; each difference is taken on a seed both methods ran."""
    from benchmarks import paired

    def run(success):
        return {"curve": [{"step": 10, "student": success, "follow": 0.0}], "seconds": 1.0}

    (tmp_path / "a.json").write_text(json.dumps({"size": {"seeds": [1, 2]}, "results": {
        "grpo": [run(0.5), run(0.6)], "vpd": [run(0.7), run(0.5)], "extra": [run(0.9), run(0.1)]}}))
    (tmp_path / "b.json").write_text(json.dumps({"size": {"seeds": [3]}, "results": {
        "grpo": [run(0.4)], "vpd": [run(0.6)]}}))
    results = paired.load([str(tmp_path / "a.json"), str(tmp_path / "b.json")])
    mean, se, ahead, n = paired.paired(results["vpd"], results["grpo"])
    assert (n, ahead) == (3, 2) and mean == pytest.approx((0.2 - 0.1 + 0.2) / 3)
    assert paired.paired(results["extra"], results["grpo"])[2:] == (1, 2)  # seeds 1 and 2 only
    assert "(1/2)" in paired.table(results, ["grpo"])
    assert "fixed set" not in paired.table(results, ["grpo"])  # no run measured it
    # the teacher's follow rate on the pretrained student's failures, start → end, where the runs measured it
    fixed = {"curve": [{"step": 0, "student": 0.5, "follow": 0.1, "follow_initial": 0.1},
                       {"step": 10, "student": 0.6, "follow": 0.0, "follow_initial": 0.3}], "seconds": 1.0}
    (tmp_path / "d.json").write_text(json.dumps({"size": {"seeds": [1]}, "results": {"vpd": [fixed]}}))
    row = next(line for line in paired.table(paired.load([str(tmp_path / "d.json")]), ["grpo"]).splitlines()
               if line.startswith("| vpd |"))
    assert "| +0.000 | +0.100 → +0.300 |" in row
    # feedback specificity (real − misleading), on the current failures and on the fixed set, start → end
    both = {"curve": [{"step": 0, "student": 0.5, "follow": 0.1, "teacher_fix": 0.3, "teacher_fix_mislead": 0.2,
                       "follow_initial": 0.1, "teacher_fix_initial": 0.3, "mislead_initial": 0.2},
                      {"step": 10, "student": 0.6, "follow": 0.2, "teacher_fix": 0.4, "teacher_fix_mislead": 0.4,
                       "follow_initial": 0.3, "teacher_fix_initial": 0.5, "mislead_initial": 0.1}], "seconds": 1.0}
    (tmp_path / "e.json").write_text(json.dumps({"size": {"seeds": [1]}, "results": {"vpd": [both]}}))
    text = paired.table(paired.load([str(tmp_path / "e.json")]), ["grpo"])
    assert "| specificity | follow rate, fixed set | specificity, fixed set |" in text
    assert "| +0.200 | +0.100 → +0.000 | +0.100 → +0.300 | +0.100 → +0.400 |" in text
    # one configuration recorded under two names pools into one method's seeds
    (tmp_path / "c.json").write_text(json.dumps({"size": {"seeds": [3]}, "results": {"vpd_default": [run(0.8)]}}))
    pooled = paired.load([str(tmp_path / "a.json"), str(tmp_path / "c.json")], {"vpd_default": "vpd"})
    assert "vpd_default" not in pooled and [r["seed"] for r in pooled["vpd"]] == [1, 2, 3]
    assert paired.paired(pooled["vpd"], results["grpo"])[:1] == pytest.approx(((0.2 - 0.1 + 0.4) / 3,))


def test_target_gap_measures_the_right_token_at_the_first_error(monkeypatch):
    """Teacher puts 0.5 on the answer's tokens, the student is uniform: the gap is log 0.5 − log(1/V) at every token
    up to and including the first wrong one, and nothing after it."""
    import math

    import torch

    from benchmarks import target_gap, task, tinylm

    tok = tinylm.build_tokenizer()
    vocab = len(tok)
    problem = {"question": "reverse: a b c", "answer": "c b a"}
    target = tok(problem["answer"], add_special_tokens=False)["input_ids"] + [tok.eos_token_id]
    wrong = next(t for t in range(vocab) if t not in target)
    completion = target[:2] + [wrong, target[3 % len(target)]]  # right, right, wrong at position 2, then anything
    student, teacher = object(), object()

    def token_logps(model, prompt_ids, comp):
        uniform = torch.full((len(comp), vocab), -math.log(vocab))
        if model is student:
            return uniform
        rows = torch.full((len(comp), vocab), math.log(0.5 / (vocab - 1)))
        for t in range(min(len(comp), len(target))):
            rows[t, target[t]] = math.log(0.5)
        return rows

    monkeypatch.setattr(target_gap, "_token_logps", token_logps)
    out = target_gap.gap(student, teacher, tok, [(problem, completion)], task)
    expected = math.log(0.5) + math.log(vocab)
    assert out["first_error"]["n"] == 1 and out["before_error"]["n"] == 2
    assert out["first_error"]["mean"] == pytest.approx(expected, abs=1e-5)
    assert out["before_error"]["mean"] == pytest.approx(expected, abs=1e-5)
    assert out["first_error"]["ahead"] == 1.0
    assert out["located"] == 1.0  # the wrong token is the only one the teacher gives less than the student
    same = target_gap.gap(student, student, tok, [(problem, completion)], task)  # the student as its own teacher
    assert same["first_error"]["mean"] == 0.0 and same["first_error"]["ahead"] == 0.0
    assert same["located"] == 0.0  # no objection anywhere: the first token (right) counts as the lowest


def test_target_gap_benchmark_tiny(tmp_path, monkeypatch):
    from benchmarks import target_gap, tinylm

    monkeypatch.setattr(tinylm, "CACHE_DIR", tmp_path / "cache")
    stem = tmp_path / "gap"
    target_gap.main(["--size", "tiny", "--methods", "grpo,vpd_adapter", "--steps", "1", "--samples", "1", "--out", str(stem)])
    assert "| vpd_adapter |" in stem.with_suffix(".md").read_text()
    runs = json.loads(stem.with_suffix(".json").read_text())["results"]["vpd_adapter"]
    assert {"start", "end"} <= runs[0].keys() and runs[0]["start"]["failures"] > 0


def test_a_benchmark_never_overwrites_an_earlier_runs_tables(tmp_path):
    """A results file records a prediction's outcome: a second run with the same `--out` stops before training and
    leaves it as it was, unless `--overwrite` says otherwise."""
    from benchmarks import demo_seeds, learning, outputs, target_gap

    stem = tmp_path / "recorded"
    stem.with_suffix(".md").write_text("the outcome")
    for main in (learning.main, demo_seeds.main, target_gap.main):
        with pytest.raises(SystemExit, match="recorded.md holds an earlier run's results"):
            main(["--out", str(stem), "--methods", "grpo"])
    assert stem.with_suffix(".md").read_text() == "the outcome"
    assert outputs.claim(stem, overwrite=True) == stem
    assert outputs.claim(tmp_path / "new" / "stem") == tmp_path / "new" / "stem" and (tmp_path / "new").is_dir()
