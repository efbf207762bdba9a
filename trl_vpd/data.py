"""Dataset adapters: map public datasets' columns onto the ones VPD's verifiers and teacher read.

Every adapter turns one row into

* `prompt`: a conversational prompt (a list of `{"role", "content"}` messages, system message first if any);
* `answer` (science, math): the reference the `choice` / `math` verifiers compare with;
* `tests` (+ `entry_point`) (code): a JSON string the `code` verifier runs (stdin/stdout cases or assert tests);
* `feedback` where the dataset has a reference solution: privileged context for the teacher, used only when the
  recipe sets `feedback_column: feedback` (the cold-start recipe does).

or into None to drop the row (e.g. call-based code tests, which the code verifier does not run). Use them from a
recipe (`dataset_adapter: sciknoweval`) or in Python: `apply_adapter(load_dataset(...), "gsm8k")`. A dotted path
(`my_lib.data.my_row_fn`) names your own row function.

Adapters and the column layouts they read:

* `sciknoweval`: SDPO's prepared SciKnowEval (`prompt`, `answer` letter, `system`), or the Hub's raw rows
  (`question`, `choices.text` / `choices.label`, `answerKey`; rows without choices are dropped);
* `livecodebench`: LiveCodeBench (`question_content`, `public_test_cases` JSON);
* `apps`: APPS / TACO (`question`, `input_output` JSON, `solutions` JSON, `starter_code`);
* `humaneval`: HumanEval (`prompt` stub, `test`, `entry_point`, `canonical_solution`);
* `mbpp`: MBPP full or sanitized (`text` or `prompt`, `test_list`, `test_setup_code` / `test_imports`, `code`);
* `math` (alias `gsm8k`): MATH (`problem`, `solution` with `\\boxed{}`, optional `answer`), GSM8K (`question`,
  `answer` ending in `#### 42`), DAPO-Math (`prompt` messages, `reward_model.ground_truth`).
"""

from __future__ import annotations

import importlib
import json
import os
import re
import sys
from collections.abc import Callable
from typing import Any

Row = dict[str, Any]
RowAdapter = Callable[[Row], Row | None]

ADAPTERS: dict[str, RowAdapter] = {}

SCIENCE_SYSTEM_PROMPT = (
    "Given a question and four options, please select the right answer. Respond in the following format:\n"
    "<reasoning>\n...\n</reasoning>\n<answer>\n...\n</answer>\n\n"
    "For the answer, only output the letter corresponding to the correct option (A, B, C, or D), and nothing else."
)
CODE_SYSTEM_PROMPT = "You are an expert Python programmer."
STDIN_INSTRUCTION = (
    "Write a Python 3 program that reads the input from standard input and writes the answer to standard output. "
    "Return the whole program in a single ```python code block."
)
FUNCTION_INSTRUCTION = "Return the complete function in a single ```python code block."
MATH_INSTRUCTION = "Please reason step by step, and put your final answer within \\boxed{}."


def register_adapter(name: str) -> Callable[[RowAdapter], RowAdapter]:
    """Decorator: make a row function available as `dataset_adapter: <name>`."""

    def add(func: RowAdapter) -> RowAdapter:
        ADAPTERS[name] = func
        return func

    return add


def get_adapter(name_or_path: str) -> RowAdapter:
    """A registered adapter, or a row function given as a dotted import path (the working directory importable)."""
    if name_or_path in ADAPTERS:
        return ADAPTERS[name_or_path]
    if "." not in name_or_path:
        raise KeyError(f"Unknown dataset adapter {name_or_path!r}; known: {sorted(ADAPTERS)}, or a dotted path.")
    module_path, attr = name_or_path.rsplit(".", 1)
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    return getattr(importlib.import_module(module_path), attr)


def apply_adapter(dataset, adapter: str | RowAdapter, num_proc: int | None = None):
    """Map a `Dataset`, `DatasetDict` or their iterable versions through `adapter`, dropping the rows it rejects
    and the source columns."""
    func = get_adapter(adapter) if isinstance(adapter, str) else adapter
    if isinstance(dataset, dict):  # DatasetDict, IterableDatasetDict
        return type(dataset)({split: apply_adapter(part, func, num_proc) for split, part in dataset.items()})

    kwargs = {} if num_proc is None else {"num_proc": num_proc}
    # Two passes (cheap row functions): `map` needs every output row to have the same columns.
    kept = dataset.filter(lambda row: func(dict(row)) is not None, **kwargs)
    return kept.map(lambda row: func(dict(row)), remove_columns=dataset.column_names, **kwargs)


def conversation(user: str, system: str | None = None) -> list[dict[str, str]]:
    messages = [{"role": "system", "content": system.strip()}] if system and system.strip() else []
    return messages + [{"role": "user", "content": user.strip()}]


def _json(value: Any) -> Any:
    if isinstance(value, str) and value.strip()[:1] in ("[", "{"):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


# ------------------------------------------------------------------------------------------------------ science


@register_adapter("sciknoweval")
def sciknoweval(row: Row) -> Row | None:
    """SciKnowEval multiple choice: prompt (+ system message), `answer` letter, `feedback` naming the right option."""
    if "answerKey" in row or "choices" in row:  # the Hub's raw layout
        choices = row.get("choices") or {}
        labels, texts = choices.get("label") or [], choices.get("text") or []
        answer = str(row.get("answerKey") or "").strip().upper()
        if not labels or len(labels) != len(texts) or answer not in labels:
            return None  # not a multiple-choice row (SciKnowEval also has generation tasks)
        options = "\n".join(f"{label}: {text}" for label, text in zip(labels, texts))
        user = f"{row['question'].strip()}\n\n{options}\nPlease reason step by step."
        system = SCIENCE_SYSTEM_PROMPT
    else:  # SDPO's prepared rows: the prompt already lists the options
        answer = str(row.get("answer") or "").strip().upper()
        if not answer:
            return None
        user, system = row["prompt"], row.get("system") or SCIENCE_SYSTEM_PROMPT
    return {"prompt": conversation(user, system), "answer": answer, "feedback": f"The correct option is {answer}."}


# --------------------------------------------------------------------------------------------------------- code


def _code_prompt(question: str, starter_code: str | None = None) -> list[dict[str, str]]:
    user = question.strip()
    if starter_code and starter_code.strip():
        user += f"\n\nStart from this code:\n```python\n{starter_code.rstrip()}\n```"
    return conversation(f"{user}\n\n{STDIN_INSTRUCTION}", CODE_SYSTEM_PROMPT)


def _reference(code: str | None) -> str | None:
    return f"A reference solution:\n```python\n{code.rstrip()}\n```" if code and code.strip() else None


@register_adapter("livecodebench")
def livecodebench(row: Row) -> Row | None:
    """LiveCodeBench: the public stdin/stdout tests (functional, LeetCode-style problems are dropped; the private
    tests are a pickled blob that is not read)."""
    cases = _json(row.get("public_test_cases"))
    if not isinstance(cases, list) or not cases:
        return None
    if any(case.get("testtype", "stdin") != "stdin" for case in cases):
        return None
    tests = [{"input": case["input"], "output": case["output"]} for case in cases]
    return {"prompt": _code_prompt(row["question_content"]), "tests": json.dumps(tests)}


@register_adapter("apps")
def apps(row: Row) -> Row | None:
    """APPS / TACO: stdin/stdout tests from `input_output` (call-based `fn_name` problems are dropped), the first
    reference solution as `feedback`."""
    spec = _json(row.get("input_output"))
    if not isinstance(spec, dict) or not spec.get("inputs") or spec.get("fn_name"):
        return None
    solutions = _json(row.get("solutions"))
    solution = solutions[0] if isinstance(solutions, list) and solutions else None
    tests = {"inputs": spec["inputs"], "outputs": spec["outputs"]}
    return {
        "prompt": _code_prompt(row["question"], row.get("starter_code")),
        "tests": json.dumps(tests),
        "feedback": _reference(solution) or "",
    }


@register_adapter("humaneval")
def humaneval(row: Row) -> Row | None:
    """HumanEval: complete the function stub; the `check(candidate)` harness and the entry point are the tests."""
    stub = row["prompt"].rstrip()
    user = f"Complete the following Python function.\n\n```python\n{stub}\n```\n\n{FUNCTION_INSTRUCTION}"
    solution = row.get("canonical_solution")
    return {
        "prompt": conversation(user, CODE_SYSTEM_PROMPT),
        "tests": row["test"],
        "entry_point": row["entry_point"],
        "feedback": _reference(row["prompt"] + solution if solution else None) or "",
    }


@register_adapter("mbpp")
def mbpp(row: Row) -> Row | None:
    """MBPP (full or sanitized): each assert of `test_list` is one test, after the setup code and imports."""
    asserts = list(row.get("test_list") or [])
    if not asserts:
        return None
    setup = "\n".join([*(row.get("test_imports") or []), row.get("test_setup_code") or ""]).strip()
    tests = [f"{setup}\n{case}" if setup else case for case in asserts]
    text = row.get("text") or row.get("prompt")
    user = f"{text.strip()}\nYour code should pass these tests:\n" + "\n".join(asserts)
    return {
        "prompt": conversation(f"{user}\n\n{FUNCTION_INSTRUCTION}", CODE_SYSTEM_PROMPT),
        "tests": json.dumps(tests),
        "feedback": _reference(row.get("code")) or "",
    }


# --------------------------------------------------------------------------------------------------------- math

_GSM8K_CALC = re.compile(r"<<[^>]*>>")


@register_adapter("math")
@register_adapter("gsm8k")
def math(row: Row) -> Row | None:
    """MATH, GSM8K and DAPO-Math: a `\\boxed{}` instruction, the short `answer`, the worked solution as `feedback`."""
    from .verifiers.math import last_boxed

    if "problem" in row:  # MATH: the answer is the solution's last \boxed{} unless given
        solution = row.get("solution") or ""
        answer = row.get("answer") or last_boxed(solution)
        question = row["problem"]
    elif "question" in row and "####" in str(row.get("answer", "")):  # GSM8K
        solution, _, answer = str(row["answer"]).rpartition("####")
        solution = _GSM8K_CALC.sub("", solution).strip()
        answer = answer.strip().replace(",", "")
        question = row["question"]
    elif isinstance(row.get("reward_model"), dict):  # DAPO-Math / verl layout: the prompt is already a chat
        answer = row["reward_model"].get("ground_truth")
        if not answer:
            return None
        prompt = row["prompt"]
        if isinstance(prompt, str):
            prompt = conversation(prompt)
        return {"prompt": list(prompt), "answer": str(answer), "feedback": ""}
    else:
        raise KeyError(
            f"math adapter: expected MATH (`problem`, `solution`), GSM8K (`question`, `answer` with ####) or "
            f"DAPO-Math (`prompt`, `reward_model`) columns, got {sorted(row)}."
        )
    if answer is None or not str(answer).strip():
        return None
    feedback = f"A worked solution:\n{solution.strip()}" if solution and solution.strip() else ""
    prompt = conversation(f"{question.strip()}\n\n{MATH_INSTRUCTION}")
    return {"prompt": prompt, "answer": str(answer).strip(), "feedback": feedback}
