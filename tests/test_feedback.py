"""`call_feedback_funcs`: validation of what feedback functions return, and errors that name the culprit."""

from __future__ import annotations

import functools

import pytest

from trl_vpd.feedback import FeedbackFunctionError, call_feedback_funcs, validate_feedback

PROMPTS = ["p0", "p1", "p2", "p3"]
COMPLETIONS = ["ok", "ok", "bad", "bad"]
COMPLETION_IDS = [[1], [2], [3], [4]]


def call(funcs, kwargs=None):
    return call_feedback_funcs(funcs, PROMPTS, COMPLETIONS, COMPLETION_IDS, kwargs or {})


def test_outputs_are_returned_per_function_in_order_and_none_is_allowed():
    def critique(prompts, completions, **kwargs):
        return [None if c == "ok" else f"{p}: wrong" for p, c in zip(prompts, completions)]

    def constant(prompts, **kwargs):
        return ("same",) * len(prompts)  # any sequence is accepted

    assert call([critique, constant]) == [
        [None, None, "p2: wrong", "p3: wrong"],
        ["same"] * 4,
    ]


def test_functions_receive_reward_kwargs_and_completion_ids():
    seen = {}

    def spy(prompts, completions, completion_ids, answer, trainer_state, **kwargs):
        seen.update(completion_ids=completion_ids, answer=answer, trainer_state=trainer_state)
        return [None] * len(prompts)

    call([spy], {"answer": ["a", "b", "c", "d"], "trainer_state": "STATE"})
    assert seen == {"completion_ids": COMPLETION_IDS, "answer": ["a", "b", "c", "d"], "trainer_state": "STATE"}


def test_raising_function_is_named_with_the_first_failing_sample():
    def fragile_feedback(prompts, completions, **kwargs):
        for c in completions:
            if c == "bad":
                raise ValueError("cannot parse")
        return [None] * len(prompts)

    with pytest.raises(FeedbackFunctionError) as info:
        call([fragile_feedback])
    message = str(info.value)
    assert "'fragile_feedback'" in message
    assert "ValueError: cannot parse" in message
    assert "sample 2 of 4" in message
    assert isinstance(info.value.__cause__, ValueError)


def test_failing_sample_is_found_through_per_sample_columns():
    def by_answer(prompts, answer, scale, **kwargs):
        assert scale == 10  # scalars are passed through unchanged when isolating one sample
        if "boom" in answer:
            raise KeyError("boom")
        return [None] * len(prompts)

    with pytest.raises(FeedbackFunctionError, match=r"'by_answer' raised KeyError.*sample 3 of 4"):
        call([by_answer], {"answer": ["a", "b", "c", "boom"], "scale": 10})


def test_batch_only_failure_says_no_single_sample_fails():
    def batch_size_limited(prompts, **kwargs):
        if len(prompts) > 1:
            raise RuntimeError("batch too large")
        return [None]

    with pytest.raises(FeedbackFunctionError, match="no single sample fails alone"):
        call([batch_size_limited])


def test_partial_and_callable_objects_are_named():
    def base(prompts, flag, **kwargs):
        raise RuntimeError("x")

    class Critic:
        def __call__(self, prompts, **kwargs):
            raise RuntimeError("y")

    with pytest.raises(FeedbackFunctionError, match="'base'"):
        call([functools.partial(base, flag=True)])
    with pytest.raises(FeedbackFunctionError, match="'Critic'"):
        call([Critic()])


@pytest.mark.parametrize("length", [0, 3, 5])
def test_wrong_length_is_an_error(length):
    def short(prompts, **kwargs):
        return ["x"] * length

    with pytest.raises(FeedbackFunctionError, match=rf"'short' returned {length} items, but 4 were expected"):
        call([short])


@pytest.mark.parametrize("output", [None, "one string", b"bytes", 7])
def test_non_list_output_is_an_error(output):
    with pytest.raises(FeedbackFunctionError, match="must return a list"):
        validate_feedback("fb", output, 4)


@pytest.mark.parametrize(
    "item, type_name", [(1.0, "float"), (b"x", "bytes"), (["nested"], "list"), ({"a": 1}, "dict")]
)
def test_non_str_items_are_an_error(item, type_name):
    def typed(prompts, **kwargs):
        return ["fine", None, item, "fine"]

    with pytest.raises(FeedbackFunctionError, match=rf"'typed' returned a {type_name} for sample 2"):
        call([typed])


def test_second_function_is_validated_even_when_the_first_is_fine():
    def good(prompts, **kwargs):
        return [None] * len(prompts)

    def bad(prompts, **kwargs):
        return [1] * len(prompts)

    with pytest.raises(FeedbackFunctionError, match="'bad'"):
        call([good, bad])
