"""The teacher context: exact token layouts, truncation to the budgets, sibling choice and feedback combination."""

from __future__ import annotations

import math
import re

import pytest

from trl_vpd import VPDConfig
from trl_vpd.config import DEFAULT_FEEDBACK_TEMPLATE, DEFAULT_SOLUTION_TEMPLATE, DEFAULT_TEACHER_TEMPLATE
from trl_vpd.teacher_context import (
    TRUNCATION_MARKER,
    TeacherContextBuilder,
    choose_sibling,
    combine_feedback,
    normalize_feedback,
    swapped_feedback,
)

SUFFIX = "\n\nUsing this, solve the original problem correctly."


def make_builder(tokenizer, tmp_path, **overrides):
    args = VPDConfig(output_dir=str(tmp_path), report_to="none", **overrides)
    return TeacherContextBuilder(tokenizer, args)


def chat_ids(tokenizer, messages):
    return tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=True, return_dict=True)[
        "input_ids"
    ]


def text_ids(tokenizer, text):
    return tokenizer(text, add_special_tokens=False)["input_ids"]


def assistant(text):
    return [{"role": "assistant", "content": text}]


# ---------------------------------------------------------------------------------------------------- layouts

CHAT_PROMPT = [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "first question"},
    {"role": "assistant", "content": "first answer"},
    {"role": "user", "content": "What is 2 + 3?"},
]


def test_chat_layout_keeps_system_and_history_and_replaces_last_user_turn(tiny_tokenizer, tmp_path):
    builder = make_builder(tiny_tokenizer, tmp_path)
    # Group of 2: sample 0 succeeded (reward 1), sample 1 failed and has feedback.
    contexts = builder.build(
        prompts=[CHAT_PROMPT, CHAT_PROMPT],
        completions_global=[assistant("5"), assistant("six")],
        rewards_global=[1.0, 0.0],
        feedback=[None, "wrong: 6"],
        offset=0,
        group_size=2,
    )
    teacher_user = (
        "What is 2 + 3?"
        "\n\nFeedback on your earlier attempt:\n\nwrong: 6"
        "\n\nA correct solution:\n\n5"
        "\n\nUsing this, solve the original problem correctly."
    )
    # The same text, built from the default templates (guards the literal above against template drift).
    assert teacher_user == DEFAULT_TEACHER_TEMPLATE.format(
        prompt="What is 2 + 3?",
        attempt="",
        contrast="",
        feedback=DEFAULT_FEEDBACK_TEMPLATE.format(feedback="wrong: 6"),
        solution=DEFAULT_SOLUTION_TEMPLATE.format(solution="5"),
    )
    expected = [*CHAT_PROMPT[:3], {"role": "user", "content": teacher_user}]
    assert contexts.prompt_ids[1] == chat_ids(tiny_tokenizer, expected)
    assert tiny_tokenizer.decode(contexts.prompt_ids[1]) == (
        "<|im_start|>system\nBe brief.<|im_end|>\n"
        "<|im_start|>user\nfirst question<|im_end|>\n"
        "<|im_start|>assistant\nfirst answer<|im_end|>\n"
        f"<|im_start|>user\n{teacher_user}<|im_end|>\n"
        "<|im_start|>assistant\n"
    )
    # Sample 0 succeeded and its only sibling failed: no context, its teacher prompt is the student's prompt.
    assert contexts.prompt_ids[0] == chat_ids(tiny_tokenizer, CHAT_PROMPT)
    assert contexts.has_context == [False, True]
    assert contexts.feedback == [None, "wrong: 6"]
    assert contexts.solution == [None, "5"]
    stats = contexts.stats
    assert (stats.num_samples, stats.with_feedback, stats.with_solution) == (2, 1, 1)
    assert (stats.truncated_parts, stats.truncated_prompts) == (0, 0)


def test_render_keeps_messages_after_the_last_user_turn(tiny_tokenizer, tmp_path):
    builder = make_builder(
        tiny_tokenizer, tmp_path, teacher_template="{prompt}|{feedback}", feedback_template="F={feedback}"
    )
    prompt = [*CHAT_PROMPT, {"role": "assistant", "content": "Let me think."}]
    rendered = builder.render(prompt, {"attempt": None, "feedback": "too big", "solution": None})
    assert rendered == [*CHAT_PROMPT[:3], {"role": "user", "content": "What is 2 + 3?|F=too big"}, prompt[-1]]
    assert prompt[3]["content"] == "What is 2 + 3?"  # the input is not mutated


def test_chat_prompt_without_user_message_is_an_error(tiny_tokenizer, tmp_path):
    builder = make_builder(tiny_tokenizer, tmp_path)
    with pytest.raises(ValueError, match="user message"):
        builder.render([{"role": "system", "content": "sys"}], {"attempt": None, "feedback": "x", "solution": None})


def test_plain_text_layout_is_the_exact_string(tiny_tokenizer, tmp_path):
    builder = make_builder(tiny_tokenizer, tmp_path)
    contexts = builder.build(
        prompts=["Q: 2+3=", "Q: 2+3="],
        completions_global=["6", "7"],
        rewards_global=[0.0, 0.0],
        feedback=["no, smaller", None],
        offset=0,
        group_size=2,
    )
    expected = "Q: 2+3=\n\nFeedback on your earlier attempt:\n\nno, smaller" + SUFFIX
    assert contexts.prompt_ids[0] == text_ids(tiny_tokenizer, expected)
    assert tiny_tokenizer.decode(contexts.prompt_ids[0]) == expected
    assert contexts.prompt_ids[1] == text_ids(tiny_tokenizer, "Q: 2+3=")
    assert contexts.has_context == [True, False]


def test_attempt_is_shown_only_when_configured(tiny_tokenizer, tmp_path):
    kwargs = dict(
        prompts=["Q"], completions_global=["my try"], rewards_global=[0.0], feedback=["bad"], offset=0, group_size=1
    )
    without = make_builder(tiny_tokenizer, tmp_path).build(**kwargs)
    assert "my try" not in tiny_tokenizer.decode(without.prompt_ids[0])
    with_attempt = make_builder(tiny_tokenizer, tmp_path, include_attempt=True).build(**kwargs)
    expected = "Q\n\nYour earlier attempt:\n\nmy try\n\nFeedback on your earlier attempt:\n\nbad" + SUFFIX
    assert tiny_tokenizer.decode(with_attempt.prompt_ids[0]) == expected


def test_custom_templates(tiny_tokenizer, tmp_path):
    builder = make_builder(
        tiny_tokenizer,
        tmp_path,
        teacher_template="[{solution}]{prompt}<{feedback}>",
        feedback_template="F:{feedback}",
        solution_template="S:{solution}",
    )
    contexts = builder.build(
        prompts=["P", "P"], completions_global=["good", "bad"], rewards_global=[1.0, 0.0],
        feedback=[None, "hint"], offset=0, group_size=2,
    )  # fmt: skip
    assert tiny_tokenizer.decode(contexts.prompt_ids[1]) == "[S:good]P<F:hint>"


@pytest.mark.parametrize("placeholder", ["{question}", "{answer}"])
def test_unknown_template_placeholder_is_rejected(tmp_path, placeholder):
    with pytest.raises(ValueError, match="unknown placeholder"):
        VPDConfig(output_dir=str(tmp_path), teacher_template="{prompt}" + placeholder)


# ---------------------------------------------------------------------------------------------------- truncation

LONG_FEEDBACK = "HEAD " + "alpha beta gamma " * 40 + "TAIL"


def test_long_feedback_is_cut_in_the_middle_with_a_visible_marker(tiny_tokenizer, tmp_path):
    max_len = 60
    builder = make_builder(tiny_tokenizer, tmp_path, max_feedback_length=max_len)
    contexts = builder.build(["Q"], ["a"], [0.0], [LONG_FEEDBACK], 0, 1)
    ids = text_ids(tiny_tokenizer, LONG_FEEDBACK)
    feedback = contexts.feedback[0]
    # head + marker + tail, where head and tail are the first and last tokens of the feedback, about equally many
    marker_start = feedback.index("\n...[truncated ")
    head, rest = feedback[:marker_start], feedback[marker_start:]
    n = int(re.match(r"\n\.\.\.\[truncated (\d+) tokens\]\.\.\.\n", rest).group(1))
    tail = rest[len(TRUNCATION_MARKER.format(n=n)) :]
    assert rest == TRUNCATION_MARKER.format(n=n) + tail
    h, t = len(text_ids(tiny_tokenizer, head)), len(text_ids(tiny_tokenizer, tail))
    assert head == tiny_tokenizer.decode(ids[:h]) and head.startswith("HEAD ")
    assert tail == tiny_tokenizer.decode(ids[-t:]) and tail.endswith(" TAIL")
    assert h + n + t == len(ids)  # the marker counts exactly the tokens removed
    assert abs(h - t) <= 1 and h + t <= max_len
    assert contexts.stats.truncated_parts == 1
    assert contexts.stats.truncated_prompts == 0
    assert tiny_tokenizer.decode(contexts.prompt_ids[0]) == (
        "Q" + DEFAULT_FEEDBACK_TEMPLATE.format(feedback=feedback) + SUFFIX
    )


def test_feedback_within_its_budget_is_untouched(tiny_tokenizer, tmp_path):
    ids = text_ids(tiny_tokenizer, LONG_FEEDBACK)
    builder = make_builder(tiny_tokenizer, tmp_path, max_feedback_length=len(ids))
    contexts = builder.build(["Q"], ["a"], [0.0], [LONG_FEEDBACK], 0, 1)
    assert contexts.feedback[0] == LONG_FEEDBACK
    assert contexts.stats.truncated_parts == 0


def test_truncated_feedback_fits_max_feedback_length(tiny_tokenizer, tmp_path):
    builder = make_builder(tiny_tokenizer, tmp_path, max_feedback_length=60)
    contexts = builder.build(["Q"], ["a"], [0.0], [LONG_FEEDBACK], 0, 1)
    assert TRUNCATION_MARKER.split("{")[0] in contexts.feedback[0]
    assert len(text_ids(tiny_tokenizer, contexts.feedback[0])) <= 60


@pytest.mark.parametrize("chat", [False, True], ids=["text", "chat"])
@pytest.mark.parametrize(
    "budget, feedback_words, solution_words",
    [
        (64, 200, 200),
        (64, 300, 0),
        (80, 300, 0),
        (128, 300, 50),
        (256, 400, 400),
        (512, 1000, 0),
    ],
)
def test_optional_parts_are_shrunk_before_the_prompt(
    tiny_tokenizer, tmp_path, chat, budget, feedback_words, solution_words
):
    question = "What is 2 + 3?"
    prompt = [{"role": "system", "content": "sys"}, {"role": "user", "content": question}] if chat else question
    solution = "gamma " * solution_words or "5"
    builder = make_builder(tiny_tokenizer, tmp_path, max_teacher_prompt_length=budget)
    contexts = builder.build(
        prompts=[prompt, prompt],
        completions_global=[assistant(solution), assistant("x")] if chat else [solution, "x"],
        rewards_global=[1.0, 0.0],
        feedback=[None, "alpha beta " * feedback_words],
        offset=0,
        group_size=2,
    )
    bare = builder.render(prompt, {"attempt": None, "feedback": None, "solution": None})
    assert len(chat_ids(tiny_tokenizer, bare) if chat else text_ids(tiny_tokenizer, bare)) < budget  # it can fit
    ids = contexts.prompt_ids[1]
    text = tiny_tokenizer.decode(ids)
    assert len(ids) <= budget
    assert contexts.stats.truncated_prompts == 0
    assert contexts.stats.truncated_parts >= 1
    assert "[truncated" in text or "alpha" not in text  # the feedback was cut visibly, or dropped
    if chat:
        assert text.startswith("<|im_start|>system\nsys<|im_end|>\n<|im_start|>user\n" + question)
        assert text.endswith(SUFFIX + "<|im_end|>\n<|im_start|>assistant\n")
    else:
        assert text.startswith(question) and text.endswith(SUFFIX)


@pytest.mark.parametrize("chat", [False, True], ids=["text", "chat"])
def test_prompt_longer_than_the_budget_is_cut_from_the_left(tiny_tokenizer, tmp_path, chat):
    budget = 32
    question = "QSTART " + "one two three four " * 20 + "QEND"
    prompt = [{"role": "user", "content": question}] if chat else question
    builder = make_builder(tiny_tokenizer, tmp_path, max_teacher_prompt_length=budget)
    contexts = builder.build([prompt], ["x"], [0.0], ["short hint"], 0, 1)
    bare = builder.render(prompt, {"attempt": None, "feedback": None, "solution": None})
    full = chat_ids(tiny_tokenizer, bare) if chat else text_ids(tiny_tokenizer, bare)
    assert len(full) > budget
    assert contexts.prompt_ids[0] == full[-budget:]  # the optional parts are gone, the end of the prompt kept
    assert contexts.stats.truncated_prompts == 1
    assert contexts.has_context == [True]


def test_sample_without_context_keeps_the_student_prompt(tiny_tokenizer, tmp_path):
    """No feedback and no sibling: the teacher reads the student's own prompt, untouched by the teacher budget."""
    question = "one two three four " * 20
    builder = make_builder(tiny_tokenizer, tmp_path, max_teacher_prompt_length=16)
    contexts = builder.build([question], ["x"], [0.0], [None], 0, 1)
    assert contexts.prompt_ids[0] == text_ids(tiny_tokenizer, question)
    assert contexts.has_context == [False]
    assert contexts.stats.truncated_prompts == 0


# ---------------------------------------------------------------------------------------------------- siblings


@pytest.mark.parametrize(
    "index, rewards, group_size, expected",
    [
        (0, [1.0, 0.0, 1.0, 0.0], 4, 2),  # never itself, even when it succeeded
        (1, [1.0, 0.0, 1.0, 0.0], 4, 0),  # the first successful sibling
        (3, [0.0, 0.0, 1.0, 1.0], 4, 2),
        (2, [0.0, 0.0, 1.0, 0.0], 4, None),  # the only success is itself
        (0, [0.0, 0.0, 0.0, 0.0], 4, None),
        (2, [math.nan, 1.0, 0.0, 0.0], 4, 1),  # NaN rewards are skipped, not successes
        (1, [math.nan, 0.0], 2, None),
        (1, [0.9, 0.0, 1.5, 0.0], 4, 2),  # below the threshold is no success; above is
        (5, [1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 1.0], 4, 7),  # stays in its own group
        (4, [1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0], 4, None),
    ],
)
def test_choose_sibling(index, rewards, group_size, expected):
    assert choose_sibling(index, rewards, group_size, threshold=1.0) == expected


def test_build_picks_siblings_from_the_global_batch_at_the_right_offset(tiny_tokenizer, tmp_path):
    # Global batch of two groups of 4; this process holds samples 4..7 (the second group).
    rewards = [1.0, 1.0, 1.0, 1.0, 0.0, 1.0, 0.0, 1.0]
    completions = [f"c{i}" for i in range(8)]
    builder = make_builder(tiny_tokenizer, tmp_path)
    contexts = builder.build(["P"] * 4, completions, rewards, [None] * 4, offset=4, group_size=4)
    assert contexts.solution == ["c5", "c7", "c5", "c5"]
    assert contexts.has_context == [True] * 4
    assert contexts.stats.with_solution == 4
    expected = "P" + DEFAULT_SOLUTION_TEMPLATE.format(solution="c7") + SUFFIX
    assert tiny_tokenizer.decode(contexts.prompt_ids[1]) == expected


def test_no_successful_sibling_and_no_feedback_means_no_context(tiny_tokenizer, tmp_path):
    builder = make_builder(tiny_tokenizer, tmp_path)
    contexts = builder.build(["P"] * 3, ["a", "b", "c"], [0.0, math.nan, 0.5], [None] * 3, 0, 3)
    assert contexts.has_context == [False] * 3
    assert contexts.solution == [None] * 3
    assert contexts.prompt_ids == [text_ids(tiny_tokenizer, "P")] * 3


def test_sibling_solutions_can_be_turned_off(tiny_tokenizer, tmp_path):
    builder = make_builder(tiny_tokenizer, tmp_path, use_sibling_solutions=False)
    contexts = builder.build(["P", "P"], ["good", "bad"], [1.0, 0.0], [None, None], 0, 2)
    assert contexts.solution == [None, None]
    assert contexts.has_context == [False, False]


@pytest.mark.parametrize("remove", [True, False])
def test_thinking_is_removed_from_demonstrations_when_configured(tiny_tokenizer, tmp_path, remove):
    demo = "<think>secret\nreasoning</think>\nThe answer is 5"
    builder = make_builder(tiny_tokenizer, tmp_path, remove_thinking_from_demonstration=remove)
    contexts = builder.build(["P", "P"], [demo, "bad"], [1.0, 0.0], [None, None], 0, 2)
    assert contexts.solution[1] == ("The answer is 5" if remove else demo)


def test_demonstration_that_is_only_thinking_counts_as_none(tiny_tokenizer, tmp_path):
    builder = make_builder(tiny_tokenizer, tmp_path)
    contexts = builder.build(["P", "P"], ["<think>only this</think>\n", "bad"], [1.0, 0.0], [None, None], 0, 2)
    assert contexts.solution == [None, None]
    assert contexts.has_context == [False, False]


@pytest.mark.parametrize("only_without_solution", [False, True])
def test_feedback_only_without_solution(tiny_tokenizer, tmp_path, only_without_solution):
    builder = make_builder(tiny_tokenizer, tmp_path, feedback_only_without_solution=only_without_solution)
    # Group 0: sample 1 has a successful sibling. Group 1: nobody succeeded.
    contexts = builder.build(
        prompts=["P"] * 4,
        completions_global=["good", "bad", "bad2", "bad3"],
        rewards_global=[1.0, 0.0, 0.0, 0.0],
        feedback=[None, "fb1", "fb2", None],
        offset=0,
        group_size=2,
    )
    assert contexts.solution == [None, "good", None, None]
    assert contexts.feedback == [None, None if only_without_solution else "fb1", "fb2", None]
    assert contexts.has_context == [False, True, True, False]
    assert contexts.stats.with_feedback == (1 if only_without_solution else 2)
    text = tiny_tokenizer.decode(contexts.prompt_ids[1])
    assert ("fb1" in text) is (not only_without_solution)
    assert "good" in text


# ---------------------------------------------------------------------------------------------------- feedback sources


def test_combine_feedback_joins_sources_and_counts_empty_strings():
    column = ["hint a", None, "  ", "", "hint e"]
    function = [" critique a\n", "critique b", "critique c", "\t", None]
    combined, empty = combine_feedback([column, function], 5)
    assert combined == ["hint a\n\ncritique a", "critique b", "critique c", None, "hint e"]
    assert empty == 3  # "  ", "" and "\t"; None is not counted


def test_combine_feedback_without_sources():
    assert combine_feedback([], 3) == ([None, None, None], 0)


@pytest.mark.parametrize("text, expected", [(None, None), ("", None), (" \n\t", None), (" x ", " x ")])
def test_normalize_feedback(text, expected):
    assert normalize_feedback(text) == expected


@pytest.mark.parametrize("bad", [3, b"bytes", ["list"]])
def test_non_string_feedback_is_a_type_error(bad):
    with pytest.raises(TypeError, match="string or None"):
        combine_feedback([[bad]], 1)


def test_has_context_mask_and_stats_follow_the_combined_feedback(tiny_tokenizer, tmp_path):
    combined, empty = combine_feedback([["", "col", None, None], [None, "fn", "  ", None]], 4)
    builder = make_builder(tiny_tokenizer, tmp_path)
    contexts = builder.build(["P"] * 4, ["a", "b", "c", "d"], [0.0] * 4, combined, 0, 4, empty_feedback=empty)
    assert contexts.has_context == [False, True, False, False]
    assert contexts.feedback == [None, "col\n\nfn", None, None]
    assert contexts.stats.with_feedback == 1
    assert contexts.stats.empty_feedback == 2
    assert tiny_tokenizer.decode(contexts.prompt_ids[1]) == (
        "P" + DEFAULT_FEEDBACK_TEMPLATE.format(feedback="col\n\nfn") + SUFFIX
    )
    assert contexts.prompt_ids[0] == contexts.prompt_ids[2] == text_ids(tiny_tokenizer, "P")


def test_sibling_contrast_shows_a_failed_sibling_never_the_sample_itself(tiny_tokenizer, tmp_path):
    args = VPDConfig(output_dir=str(tmp_path), sibling_contrast=True, report_to="none")
    builder = TeacherContextBuilder(tiny_tokenizer, args)
    contexts = builder.build(
        prompts=["Q"] * 3,
        completions_global=["bad-a", "good", "bad-b"],
        rewards_global=[0.0, 1.0, 0.0],
        feedback=[None, None, None],
        offset=0,
        group_size=3,
    )
    texts = [tiny_tokenizer.decode(ids) for ids in contexts.prompt_ids]
    # sample 0 failed: demonstration "good", contrast the *other* failure "bad-b"; sample 1 succeeded: contrast "bad-a"
    assert "for contrast:\n\nbad-b" in texts[0] and "bad-a" not in texts[0]
    assert "for contrast" not in texts[1]  # no other success to demonstrate, so no contrast either
    assert "for contrast:\n\nbad-a" in texts[2]
    assert texts[0].index("for contrast") < texts[0].index("A correct solution:\n\ngood")


def test_sibling_contrast_needs_the_placeholder(tmp_path):
    with pytest.raises(ValueError, match="contrast"):
        VPDConfig(output_dir=str(tmp_path), sibling_contrast=True, teacher_template="{prompt}{solution}")


# ---------------------------------------------------------------------------------------------------- tool calls

TOOL_ROLLOUT = [
    {"role": "assistant", "content": "", "tool_calls": [
        {"type": "function", "function": {"name": "multiply", "arguments": {"a": 3, "b": 4}}}]},
    {"role": "tool", "name": "multiply", "content": "12"},
    {"role": "assistant", "content": "Let me check.", "tool_calls": [
        {"type": "function", "function": {"name": "add", "arguments": '{"a": 12, "b": 1}'}},
        {"type": "function", "function": {"name": "neg", "arguments": {"x": 13}}}]},
    {"role": "tool", "name": "add", "content": [{"type": "text", "text": "13"}]},
    {"role": "tool", "name": "neg", "content": "{'error': 'boom'}"},
    {"role": "assistant", "content": "\nThe answer is 12."},
]  # fmt: skip
TOOL_TRANSCRIPT = (
    'Tool call: {"name": "multiply", "arguments": {"a": 3, "b": 4}}\n'
    "Tool result (multiply): 12\n"
    "Let me check.\n"
    'Tool call: {"name": "add", "arguments": {"a": 12, "b": 1}}\n'
    'Tool call: {"name": "neg", "arguments": {"x": 13}}\n'
    "Tool result (add): 13\n"
    "Tool result (neg): {'error': 'boom'}\n"
    "The answer is 12."
)


def test_completion_transcript_keeps_tool_calls_and_results_in_order():
    from trl_vpd.utils import completion_text, completion_transcript

    assert completion_transcript(TOOL_ROLLOUT) == TOOL_TRANSCRIPT
    # verifiers keep reading the assistant's text only (a tool result is not the answer)
    assert completion_text(TOOL_ROLLOUT) == "Let me check.\nThe answer is 12."
    # without tools a transcript is the completion's text
    for completion in ("plain", assistant("a"), [*assistant("a"), *assistant("b")]):
        assert completion_transcript(completion) == completion_text(completion)


def test_tool_calling_sibling_is_demonstrated_and_contrasted_with_its_calls(tiny_tokenizer, tmp_path):
    failed = [{"role": "assistant", "content": "", "tool_calls": [
        {"type": "function", "function": {"name": "multiply", "arguments": {"a": 3, "b": 5}}}]},
        {"role": "tool", "name": "multiply", "content": "15"}]  # fmt: skip
    builder = make_builder(tiny_tokenizer, tmp_path, sibling_contrast=True, include_attempt=True)
    contexts = builder.build([CHAT_PROMPT] * 3, [TOOL_ROLLOUT, failed, failed], [1.0, 0.0, 0.0], [None] * 3, 0, 3)
    assert contexts.solution == [None, TOOL_TRANSCRIPT, TOOL_TRANSCRIPT]
    text = tiny_tokenizer.decode(contexts.prompt_ids[1])
    failed_text = 'Tool call: {"name": "multiply", "arguments": {"a": 3, "b": 5}}\nTool result (multiply): 15'
    assert "Your earlier attempt:\n\n" + failed_text in text
    assert "for contrast:\n\n" + failed_text in text
    assert "A correct solution:\n\n" + TOOL_TRANSCRIPT in text


def test_tokenize_is_told_which_sample_each_prompt_belongs_to(tiny_tokenizer, tmp_path):
    """The trainer renders each teacher prompt with its own sample's tool schema, so the builder must say whose it
    is: every call gets one prompt and that prompt's local sample index (here the index is in the question)."""
    calls = []

    def tokenize(prompts, samples):
        calls.append((prompts, samples))
        return [tiny_tokenizer(p, add_special_tokens=False)["input_ids"] for p in prompts]

    args = VPDConfig(output_dir=str(tmp_path), report_to="none", max_teacher_prompt_length=40)
    builder = TeacherContextBuilder(tiny_tokenizer, args, tokenize=tokenize)
    feedback = [None, "x " * 60, "short", None]  # sample 1's feedback is cut to fit: several calls for it
    builder.build([f"Q{i}" for i in range(4)], ["a", "b", "c", "d"], [0.0] * 4, feedback, offset=4, group_size=4)
    assert all(len(p) == len(s) == 1 for p, s in calls)
    assert all(p[0].startswith(f"Q{s[0]}") for p, s in calls)
    assert sorted({s[0] for _, s in calls}) == [0, 1, 2, 3]
    assert sum(s == [1] for _, s in calls) > 1


def test_swapped_feedback_takes_another_problems_critique():
    """Each critique is swapped for one from another group (scanning from the same position one group on), never an
    identical text; samples without feedback, or without any other problem's critique, get None."""
    batch = ["a0", None, "a2", "b0", "b1", None, None, None, "c2"]  # three groups of 3
    assert swapped_feedback(batch, 0, 9, 3) == ["b0", None, "c2", "c2", "c2", None, None, None, "a2"]
    # the local samples of process 1 (offset 3), chosen as on the whole batch
    assert swapped_feedback(batch, 3, 3, 3) == ["c2", "c2", None]
    assert swapped_feedback(["x", "y", None, "z"], 0, 4, 4) == [None, None, None, None]  # one problem only
    assert swapped_feedback(["same", "same"], 0, 2, 1) == [None, None]  # identical critiques carry no contrast
