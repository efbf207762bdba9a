"""Code verifier: run the completion's program against unit tests in the sandbox; reward and LeetCode-like feedback.

Two test formats, read from one dataset column (`tests` by default):

* stdin/stdout cases, as in LiveCodeBench, APPS and CodeContests: `{"inputs": [...], "outputs": [...]}` or a
  list of `{"input": ..., "output": ...}` (either may be a JSON string). The program reads the input on stdin;
  its stdout must equal the expected output up to trailing whitespace on each line (or, failing that, up to
  whitespace altogether).
* assert-based functional tests, as in MBPP and HumanEval: a test string appended to the program (HumanEval's
  `check(candidate)` harness is called on the `entry_point` column's function), or a list of assert strings
  (MBPP's `test_list`), each its own case.

Every case runs in its own sandboxed process. The feedback follows SDPO's reference code: only failing cases,
errors (runtime error, timeout, memory, syntax) before wrong answers, each field truncated, the whole bounded.
"""

from __future__ import annotations

import json
import re
import signal
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from trl_vpd.verifiers.base import Verdict, Verifier, truncate
from trl_vpd.verifiers.sandbox import Sandbox, SandboxResult

REVEAL_LEVELS = ("full", "first_failure", "verdict_only")
REWARD_MODES = ("fraction", "all_or_nothing")
FENCE = re.compile(r"```[ \t]*([\w+.#-]*)[^\n]*\n(.*?)```", re.DOTALL)
OPEN_FENCE = re.compile(r"```[ \t]*(python3?|py)?[ \t]*\n(.*)$", re.DOTALL | re.IGNORECASE)
THINK = re.compile(r"^.*?</think>", re.DOTALL)
PYTHON_TAGS = {"python", "py", "python3"}
CARETS = re.compile(r"^\s*[\^~]+\s*$")


@dataclass(frozen=True)
class TestCase:
    """One test: stdin and the expected stdout, or test code appended to the program (`expected` is then None)."""

    __test__ = False  # not a pytest test class

    stdin: str = ""
    expected: str | None = None
    test_code: str | None = None

    def program(self, solution: str) -> str:
        return solution if self.test_code is None else f"{solution}\n\n{self.test_code}\n"


@dataclass(frozen=True)
class CaseOutcome:
    index: int
    case: TestCase
    result: SandboxResult
    passed: bool

    @property
    def failure(self) -> str:
        if self.result.status == "ok":
            return "wrong_answer"
        if self.result.status == "error" and self.case.test_code is not None and "AssertionError" in self.result.stderr:
            return "failed_assertion"
        return self.result.status


def extract_program(text: str) -> str | None:
    """The program in a completion: the last ```python block, else the last fenced block, else the raw text.

    Reasoning before `</think>` is ignored, and a final block left open (a truncated completion) counts too.
    """
    text = THINK.sub("", text, count=1)
    blocks = FENCE.findall(text)
    python = [code for tag, code in blocks if tag.lower() in PYTHON_TAGS]
    if python:
        code = python[-1]
    elif blocks:
        code = blocks[-1][1]
    else:
        unclosed = OPEN_FENCE.search(text)
        code = unclosed.group(2) if unclosed else text
    return code if code.strip() else None


def parse_tests(spec: Any, entry_point: str | None = None) -> list[TestCase] | None:
    """The test cases in one row's test specification; None when the row has no tests (e.g. `"-"` or empty)."""
    if spec is None:
        return None
    if isinstance(spec, str):
        stripped = spec.strip()
        if not stripped or stripped == "-":
            return None
        if stripped[0] in "[{":
            try:
                spec = json.loads(stripped)
            except ValueError:
                pass
    if isinstance(spec, str):
        return [TestCase(test_code=with_check_call(spec, entry_point))]
    if isinstance(spec, dict):
        if "inputs" in spec and "outputs" in spec:
            if spec.get("fn_name"):
                raise ValueError("Call-based tests (`fn_name`) are not supported; use stdin/stdout or assert tests.")
            return [TestCase(as_text(i), as_text(o)) for i, o in zip(spec["inputs"], spec["outputs"])]
        if "input" in spec and "output" in spec:
            return [TestCase(as_text(spec["input"]), as_text(spec["output"]))]
        if "test" in spec:
            return [TestCase(test_code=with_check_call(spec["test"], spec.get("entry_point", entry_point)))]
    if isinstance(spec, (list, tuple)) and spec:
        if all(isinstance(case, dict) and "input" in case and "output" in case for case in spec):
            if any(case.get("testtype", "stdin") != "stdin" for case in spec):
                raise ValueError("Only stdin/stdout cases are supported in a list of {'input', 'output'} tests.")
            return [TestCase(as_text(case["input"]), as_text(case["output"])) for case in spec]
        if all(isinstance(case, str) for case in spec):
            return [TestCase(test_code=case) for case in spec]
    raise ValueError(f"Unrecognized test specification: {truncate(repr(spec), 200)}")


def with_check_call(test: str, entry_point: str | None) -> str:
    """HumanEval's tests define `check(candidate)`; call it on the entry point unless the tests already do."""
    if entry_point and re.search(r"^def check\(", test, re.M) and not re.search(r"^check\(", test, re.M):
        return f"{test}\n\ncheck({entry_point})\n"
    return test


def as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, (list, tuple)):
        return "\n".join(as_text(v) for v in value)
    return json.dumps(value) if isinstance(value, dict) else str(value)


def outputs_match(got: str, expected: str) -> bool:
    """Equal up to trailing whitespace on each line and surrounding blank lines, or else up to all whitespace."""

    def lines(text: str) -> list[str]:
        return [line.rstrip() for line in text.strip().splitlines()]

    return lines(got) == lines(expected) or got.split() == expected.split()


class CodeVerifier(Verifier):
    """Runs the program in each completion against the row's unit tests (see the module docstring).

    Args:
        tests_column: dataset column holding the tests.
        entry_point_column: dataset column naming the function HumanEval's `check` harness tests.
        reward_mode: `"fraction"` of tests passed, or `"all_or_nothing"`.
        reveal: `"full"` (up to `max_failures_shown` failing tests), `"first_failure"` (one) or `"verdict_only"`
            (only how many tests passed and how the others failed).
        reveal_input / reveal_expected: whether failing tests show their input / expected output (for assert
            tests, hiding either hides the failing assert's source line).
        max_field_chars / max_feedback_chars: truncation of each field and of the whole feedback.
        max_tests: run only the first `max_tests` cases of each row (None: all).
        sandbox: a `Sandbox` to run programs in; else one is made from `timeout`, `memory_mb` and `workers`.
    """

    name = "code"

    def __init__(
        self,
        tests_column: str = "tests",
        entry_point_column: str = "entry_point",
        reward_mode: str = "fraction",
        reveal: str = "first_failure",
        reveal_input: bool = True,
        reveal_expected: bool = True,
        max_failures_shown: int = 2,
        max_field_chars: int = 250,
        max_feedback_chars: int = 2000,
        max_tests: int | None = None,
        sandbox: Sandbox | None = None,
        timeout: float = 3.0,
        memory_mb: int = 1024,
        workers: int | None = None,
        cache_size: int = 4096,
        success_feedback: str | None = None,
        name: str | None = None,
    ):
        if reward_mode not in REWARD_MODES:
            raise ValueError(f"reward_mode must be one of {REWARD_MODES}, got {reward_mode!r}.")
        if reveal not in REVEAL_LEVELS:
            raise ValueError(f"reveal must be one of {REVEAL_LEVELS}, got {reveal!r}.")
        if name is not None:
            self.name = name
        elif reward_mode == "all_or_nothing":
            self.name = "code_all_or_nothing"
        self.columns = (tests_column, entry_point_column)
        self.tests_column, self.entry_point_column = tests_column, entry_point_column
        self.reward_mode, self.reveal = reward_mode, reveal
        self.reveal_input, self.reveal_expected = reveal_input, reveal_expected
        self.max_failures_shown = max_failures_shown
        self.max_field_chars, self.max_feedback_chars = max_field_chars, max_feedback_chars
        self.max_tests = max_tests
        self.sandbox = sandbox or Sandbox(timeout=timeout, memory_mb=memory_mb, workers=workers)
        self.executions = 0
        super().__init__(cache_size=cache_size, success_feedback=success_feedback)

    def verify(self, text: str, row: dict[str, Any]) -> Verdict:
        return self.verify_batch([text], [row])[0]

    def verify_batch(self, texts: Sequence[str], rows: Sequence[dict[str, Any]]) -> list[Verdict]:
        plans: list[tuple[str | None, list[TestCase] | None]] = []
        jobs: list[tuple[str, str]] = []
        for text, row in zip(texts, rows):
            if self.tests_column not in row:
                raise KeyError(f"{self.name}: no {self.tests_column!r} column (set `tests_column`).")
            cases = parse_tests(row[self.tests_column], row.get(self.entry_point_column))
            if cases is not None and self.max_tests is not None:
                cases = cases[: self.max_tests]
            program = extract_program(text) if cases else None
            plans.append((program, cases))
            if program is not None:
                jobs.extend((case.program(program), case.stdin) for case in cases)
        results = iter(self.sandbox.map(jobs))
        self.executions += len(jobs)
        verdicts = []
        for program, cases in plans:
            if not cases:
                verdicts.append(Verdict(None, None))
            elif program is None:
                verdicts.append(Verdict(0.0, "No code found in the response: put the program in a ```python code block."))
            else:
                outcomes = [self._outcome(i, case, next(results)) for i, case in enumerate(cases)]
                verdicts.append(self._verdict(outcomes))
        return verdicts

    def _outcome(self, index: int, case: TestCase, result: SandboxResult) -> CaseOutcome:
        passed = result.status == "ok" and (case.expected is None or outputs_match(result.stdout, case.expected))
        return CaseOutcome(index, case, result, passed)

    def _verdict(self, outcomes: list[CaseOutcome]) -> Verdict:
        passed = sum(o.passed for o in outcomes)
        total = len(outcomes)
        if self.reward_mode == "all_or_nothing":
            reward = float(passed == total)
        else:
            reward = passed / total
        if passed == total:
            return Verdict(reward, None)
        return Verdict(reward, truncate(self._feedback_text(outcomes, passed), self.max_feedback_chars))

    def _feedback_text(self, outcomes: list[CaseOutcome], passed: int) -> str:
        failures = [o for o in outcomes if not o.passed]
        if failures[0].result.status == "syntax_error":
            return "Syntax error:\n" + self._error_text(failures[0].result.stderr)
        kinds = sorted({o.failure for o in failures}, key=list(FAILURE_TITLES).index)
        lines = [f"Passed {passed} of {len(outcomes)} tests; failures: {', '.join(FAILURE_TITLES[k].lower() for k in kinds)}."]
        if self.reveal == "verdict_only":
            return lines[0]
        errors_first = sorted(
            failures,
            key=lambda o: (o.failure == "wrong_answer", len(o.case.stdin) + len(o.case.expected or "") if o.failure == "wrong_answer" else o.index),
        )
        shown = errors_first[: 1 if self.reveal == "first_failure" else self.max_failures_shown]
        return "\n\n".join(lines + [self._case_text(o) for o in shown])

    def _case_text(self, outcome: CaseOutcome) -> str:
        result, case, field = outcome.result, outcome.case, self.max_field_chars
        title = FAILURE_TITLES[outcome.failure]
        if outcome.failure == "timeout":
            title += f" ({self.sandbox.timeout:g} s)"
        elif outcome.failure == "memory":
            title += f" ({self.sandbox.memory_mb} MB)"
        elif outcome.failure == "killed" and result.exit_code is not None and result.exit_code < 0:
            title += f" by signal {signal.Signals(-result.exit_code).name}"
        parts = [f"Test {outcome.index + 1}: {title}."]
        if self.reveal_input and case.test_code is None:
            parts.append("Input:\n" + shown(case.stdin, field))
        if outcome.failure == "wrong_answer":
            if self.reveal_expected:
                parts.append("Expected output:\n" + shown(case.expected or "", field))
            parts.append("Your output:\n" + shown(result.stdout, field))
        elif outcome.failure in ("error", "failed_assertion"):
            if not result.stderr.strip():
                parts.append(f"Error:\nThe program exited with code {result.exit_code}.")
            elif case.test_code is not None and not (self.reveal_input and self.reveal_expected):
                parts.append("Error:\n" + truncate(last_line(result.stderr), field))
            else:
                parts.append("Error:\n" + self._error_text(result.stderr))
        return "\n".join(parts)

    def _error_text(self, stderr: str) -> str:
        lines = [line for line in stderr.rstrip().splitlines() if not CARETS.match(line)]
        return truncate("\n".join(lines), self.max_field_chars, keep="tail")


FAILURE_TITLES = {
    "syntax_error": "Syntax error",
    "error": "Runtime error",
    "failed_assertion": "Failed assertion",
    "timeout": "Time limit exceeded",
    "memory": "Memory limit exceeded",
    "output_limit": "Output limit exceeded",
    "killed": "Killed",
    "wrong_answer": "Wrong answer",
}


def shown(text: str, limit: int) -> str:
    text = text.strip("\n")
    return truncate(text, limit) if text.strip() else "(empty)"


def last_line(text: str) -> str:
    lines = text.strip().splitlines()
    return lines[-1] if lines else ""
