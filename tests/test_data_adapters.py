"""Dataset adapters on small hand-written fixtures with the public datasets' column layouts (and four real
SciKnowEval rows): the output columns are what the verifiers read, and rejected rows are dropped."""

import json
from pathlib import Path

import pytest
from datasets import DatasetDict, load_dataset

from trl_vpd.data import ADAPTERS, apply_adapter, get_adapter

FIXTURES = Path(__file__).parent / "fixtures"


def load(name):
    return load_dataset("json", data_files=str(FIXTURES / f"{name}.jsonl"), split="train")


def roles(prompt):
    return [message["role"] for message in prompt]


def test_registered_adapters():
    assert {"sciknoweval", "livecodebench", "apps", "humaneval", "mbpp", "math", "gsm8k"} <= set(ADAPTERS)
    with pytest.raises(KeyError, match="Unknown dataset adapter"):
        get_adapter("nope")


def test_sciknoweval_sdpo_rows():
    out = apply_adapter(load("sciknoweval_adapter_sample"), "sciknoweval")
    assert len(out) == 4 and set(out.column_names) == {"prompt", "answer", "feedback"}
    row = out[0]
    assert roles(row["prompt"]) == ["system", "user"]
    assert "<answer>" in row["prompt"][0]["content"] and "A:" in row["prompt"][1]["content"]
    assert all(answer in "ABCD" and len(answer) == 1 for answer in out["answer"])


def test_sciknoweval_hub_rows_keep_multiple_choice_only():
    out = apply_adapter(load("sciknoweval_adapter_hub"), "sciknoweval")
    assert out["answer"] == ["B", "C"]  # the open-ended row is dropped
    user = out[0]["prompt"][1]["content"]
    assert "A: Oxygen\nB: Nitrogen" in user and user.endswith("Please reason step by step.")


def test_sciknoweval_rows_are_scored_by_the_choice_verifier():
    from trl_vpd.registry import get_reward_func

    out = apply_adapter(load("sciknoweval_adapter_sample"), "sciknoweval").to_dict()
    reward = get_reward_func("choice")
    text = "<reasoning>...</reasoning>\n<answer>\n{}\n</answer>"
    right = [[{"role": "assistant", "content": text.format(a)}] for a in out["answer"]]
    assert reward(prompts=out["prompt"], completions=right, answer=out["answer"]) == [1.0] * 4


def test_livecodebench_keeps_stdin_problems():
    out = apply_adapter(load("livecodebench_adapter_sample"), "livecodebench")
    assert len(out) == 1  # the functional (LeetCode) problem is dropped
    assert json.loads(out[0]["tests"]) == [{"input": "1 2\n", "output": "3\n"}, {"input": "10 -4\n", "output": "6\n"}]
    assert "standard input" in out[0]["prompt"][-1]["content"]


def test_apps_drops_call_based_and_keeps_the_reference():
    out = apply_adapter(load("apps_adapter_sample"), "apps")
    assert len(out) == 1
    assert json.loads(out[0]["tests"]) == {"inputs": ["3\n", "10\n"], "outputs": ["6\n", "55\n"]}
    assert "print(n * (n + 1) // 2)" in out[0]["feedback"]


def test_humaneval_and_mbpp_tests_pass_with_the_reference_solution():
    """The canonical solutions pass the adapted tests under the `code` verifier (so the tests are wired right)."""
    from trl_vpd.registry import get_reward_func

    reward = get_reward_func("code")
    for name in ("humaneval", "mbpp"):
        columns = apply_adapter(load(f"{name}_adapter_sample"), name).to_dict()
        prompts = columns.pop("prompt")
        solutions = [[{"role": "assistant", "content": fb.split("\n", 1)[1]}] for fb in columns["feedback"]]
        assert reward(prompts=prompts, completions=solutions, **columns) == [1.0] * len(prompts), name


def test_mbpp_full_and_sanitized_layouts():
    out = apply_adapter(load("mbpp_adapter_sample"), "mbpp")
    assert len(out) == 2
    assert json.loads(out[1]["tests"])[0] == "import math\nassert root(4) == 2.0"
    assert "assert maximum(1, 2) == 2" in out[0]["prompt"][-1]["content"]


@pytest.mark.parametrize(
    "fixture, answers",
    [
        ("math_adapter_sample", ["\\frac{3}{4}", "1024"]),
        ("gsm8k_adapter_sample", ["10", "2500"]),
        ("dapo_adapter_sample", ["42"]),
    ],
)
def test_math_layouts(fixture, answers):
    out = apply_adapter(load(fixture), "math")
    assert out["answer"] == answers
    assert all(roles(p)[-1] == "user" and "boxed" in p[-1]["content"] for p in out["prompt"])
    if fixture == "gsm8k_adapter_sample":
        assert "<<" not in out[0]["feedback"] and out[0]["feedback"].startswith("A worked solution:")


def test_math_answers_are_accepted_by_the_math_verifier():
    from trl_vpd.registry import get_reward_func

    out = apply_adapter(load("math_adapter_sample"), "math").to_dict()
    completions = [[{"role": "assistant", "content": f"So the answer is \\boxed{{{a}}}."}] for a in out["answer"]]
    assert get_reward_func("math")(prompts=out["prompt"], completions=completions, answer=out["answer"]) == [1.0, 1.0]


def test_dataset_dict_and_custom_adapter(tmp_path, monkeypatch):
    (tmp_path / "my_adapters.py").write_text(
        "def upper(row):\n    return {'prompt': [{'role': 'user', 'content': row['question'].upper()}]}\n"
    )
    monkeypatch.chdir(tmp_path)
    data = DatasetDict(train=load("gsm8k_adapter_sample"), test=load("gsm8k_adapter_sample").select([0]))
    out = apply_adapter(data, "my_adapters.upper")
    assert isinstance(out, DatasetDict) and len(out["train"]) == 2 and len(out["test"]) == 1
    assert out["train"].column_names == ["prompt"] and out["test"][0]["prompt"][0]["content"].startswith("TOM HAS")


def test_math_adapter_names_the_expected_columns():
    with pytest.raises(KeyError, match="expected MATH"):
        get_adapter("math")({"text": "?"})
