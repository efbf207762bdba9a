"""VPD on TRL's tool-calling rollouts (`tools=[...]` and `environment_factory`, one or several environments, with
environment-owned data and reward): training runs, the teacher prompt carries the same tool schema as the student's
prompt of that sample, and a successful sibling shown as a demonstration keeps its tool calls and tool results.

The tiny tokenizer's ChatML template knows no tools, so these tests build one with TRL's Qwen3 chat template (the one
TRL's own tool tests use) and its tool tokens. Generation is scripted (like TRL's tests): the untrained tiny model
never writes a tool call by itself.
"""

from __future__ import annotations

import math
import re
from unittest.mock import patch

import pytest
import torch
from datasets import Dataset
from helpers import logged, lora_config, snapshot
from trl.chat_template_utils import qwen3_chat_template

from trl_vpd import VPDConfig, VPDTrainer
from trl_vpd.critique import SelfCritique
from trl_vpd.tiny import build_tiny_model, build_tiny_tokenizer

TOOL_TOKENS = ["<tool_call>", "</tool_call>", "<tool_response>", "</tool_response>", "<think>", "</think>"]
CORPUS = [
    '{"name": "increment", "arguments": {"step": 1}} {"name": "shout", "arguments": {"text": "hi"}}',
    '{"type": "function", "function": {"name": "description": "parameters": "properties": "required": "integer"',
    "Done! I won't increment. Tool call: Tool result: Count. Echo. Guess the word. multiply",
    "You may call one or more functions to assist with the user query. signatures within XML tags",
]
INCREMENT_CALL = '<tool_call>\n{"name": "increment", "arguments": {"step": 1}}\n</tool_call><|im_end|>'
DECREMENT_CALL = '<tool_call>\n{"name": "decrement", "arguments": {"step": 2}}\n</tool_call><|im_end|>'
SHOUT_CALL = '<tool_call>\n{"name": "shout", "arguments": {"text": "hi"}}\n</tool_call><|im_end|>'
MULTIPLY_CALL = '<tool_call>\n{"name": "multiply_tool", "arguments": {"a": 3, "b": 4}}\n</tool_call><|im_end|>'
DONE = "Done!<|im_end|>"


def tool_tokenizer():
    tokenizer = build_tiny_tokenizer(vocab_size=500, extra_corpus=CORPUS)
    tokenizer.add_special_tokens({"additional_special_tokens": TOOL_TOKENS})
    tokenizer.chat_template = qwen3_chat_template
    return tokenizer


class Generation:
    """A scripted `model.generate`: first turns get `first[i % len(first)]` by row, the turn after a tool result gets
    "Done!", and a self-critique prompt gets `critique`. Records every prompt it was given (decoded)."""

    def __init__(self, tokenizer, first: list[str], critique: str = "Call the tool.<|im_end|>"):
        self.tokenizer = tokenizer
        self.first = first
        self.critique = critique
        self.prompts: list[str] = []

    def __call__(self, input_ids, attention_mask=None, **kwargs):
        rows = []
        for i, ids in enumerate(input_ids):
            prompt = self.tokenizer.decode(ids[attention_mask[i].bool()] if attention_mask is not None else ids)
            self.prompts.append(prompt)
            if "Attempt:" in prompt:
                text = self.critique
            elif prompt.rstrip().endswith("</tool_response><|im_end|>\n<|im_start|>assistant"):
                text = DONE
            else:
                text = self.first[i % len(self.first)]
            rows.append(self.tokenizer(text, add_special_tokens=False)["input_ids"])
        width = max(len(r) for r in rows)
        pad = self.tokenizer.pad_token_id
        completion = torch.tensor([r + [pad] * (width - len(r)) for r in rows], device=input_ids.device)
        return torch.cat([input_ids, completion], dim=1)


class BatchSpy:
    """Keeps every batch VPD's `_generate_and_score_completions` returns."""

    def __init__(self, trainer):
        self.batches = []
        original = trainer._generate_and_score_completions

        def spy(inputs):
            out = original(inputs)
            self.batches.append(out)
            return out

        trainer._generate_and_score_completions = spy


def make_args(tmp_path, **overrides) -> VPDConfig:
    kwargs = dict(
        output_dir=str(tmp_path),
        per_device_train_batch_size=3,
        num_generations=3,
        max_completion_length=96,
        max_steps=2,
        learning_rate=1e-2,
        report_to="none",
        save_strategy="no",
        logging_steps=1,
        success_reward_threshold=0.5,
        e_step_every=1,
        distillation_topk=16,
        shuffle_dataset=False,
        seed=0,
    )
    kwargs.update(overrides)
    return VPDConfig(**kwargs)


def rows(ids: torch.Tensor, mask: torch.Tensor) -> list[list[int]]:
    return [r[m.bool()].tolist() for r, m in zip(ids, mask)]


def teacher_prompts(batch) -> list[list[int]]:
    """The teacher prompt ids of each sample (the teacher context without padding and completion)."""
    completion_len = batch["completion_ids"].size(1)
    ids = batch["teacher_input_ids"][:, :-completion_len]
    mask = batch["teacher_attention_mask"][:, :-completion_len]
    return rows(ids, mask)


def schema_block(text: str) -> str:
    """The rendered tool schema (the `<tools>` block of the system turn)."""
    match = re.search(r"<tools>\n.*?\n</tools>", text, flags=re.DOTALL)
    assert match, f"no tool schema in:\n{text}"
    return match.group(0)


def assert_trained(trainer, before):
    history = trainer.state.log_history
    assert math.isfinite(history[-1]["train_loss"])
    for entry in history:
        for key in ("loss", "vpd/distill_loss", "vpd/e_loss"):
            if key in entry:
                assert math.isfinite(entry[key]), (key, entry)
    assert any(entry.get("vpd/distill_loss") is not None for entry in history)
    moved = [n for n, p in trainer.model.named_parameters() if p.requires_grad and not torch.equal(p, before[n])]
    assert moved


def increment_doc():
    class CounterEnvironment:
        def reset(self, **kwargs):
            self._counter = 0
            return "Count."

        def increment(self, step: int) -> int:
            """
            Increment the internal counter.

            Args:
                step: Value to add to the counter.

            Returns:
                The updated counter value.
            """
            self._counter += step
            return self._counter

        def get_reward(self) -> float:
            return float(self._counter)

    return CounterEnvironment


class EchoEnvironment:
    def reset(self, **kwargs):
        self._shouted = False
        return "Echo."

    def shout(self, text: str) -> str:
        """
        Shout the given text.

        Args:
            text: Text to shout.

        Returns:
            The text in upper case.
        """
        self._shouted = True
        return text.upper()

    def get_reward(self) -> float:
        return float(self._shouted)


def multiply_tool(a: int, b: int) -> int:
    """
    Multiplies two integers.

    Args:
        a: The first integer.
        b: The second integer.

    Returns:
        The product of the two integers.
    """
    return a * b


# ------------------------------------------------------------------------------------------- environment_factory


def _train_with_the_increment_environment(tmp_path, **config):
    """(tokenizer, trainer, its first batch) after training with the counter environment on three scripted rollouts
    (a call that succeeds, one that fails, no call); a teacher adapter's student is a LoRA."""
    tokenizer = tool_tokenizer()
    trainer = VPDTrainer(
        model=build_tiny_model(tokenizer),
        args=make_args(tmp_path, **config),
        processing_class=tokenizer,
        environment_factory=increment_doc(),
        peft_config=lora_config() if config.get("teacher_mode") == "adapter" else None,
    )
    spy = BatchSpy(trainer)
    generation = Generation(tokenizer, [INCREMENT_CALL, DECREMENT_CALL, "I won't increment<|im_end|>"])
    before = snapshot(trainer.model.named_parameters())
    with patch.object(trainer.model, "generate", side_effect=generation):
        trainer.train()
    assert_trained(trainer, before)
    return tokenizer, trainer, spy.batches[0]


@pytest.mark.parametrize("teacher_mode", ["shared", "adapter"])
def test_environment_factory_trains_and_the_teacher_sees_the_tools_and_the_sibling_calls(tmp_path, teacher_mode):
    """One environment, environment-owned data (no dataset: `reset` returns the prompt) and reward (`get_reward`)."""
    tokenizer, trainer, batch = _train_with_the_increment_environment(tmp_path, teacher_mode=teacher_mode)
    assert logged(trainer, "tools/call_frequency") == pytest.approx([2 / 3, 2 / 3])

    students = rows(batch["prompt_ids"], batch["prompt_mask"])
    teachers = teacher_prompts(batch)
    # rewards 1, 0, 0: the success has no successful sibling, so its teacher reads exactly the student's prompt
    assert batch["vpd_rewards"].tolist() == [1.0, 0.0, 0.0]
    assert batch["vpd_has_context"].tolist() == [0.0, 1.0, 1.0]
    assert teachers[0] == students[0]
    for i in (1, 2):
        student, teacher = tokenizer.decode(students[i]), tokenizer.decode(teachers[i])
        assert '"name": "increment", "description": "Increment the internal counter."' in schema_block(student)
        assert schema_block(teacher) == schema_block(student)  # the same tool schema, rendered the same way
        assert "Count." in teacher  # the environment's observation (its data) is in the question
        # the demonstration is sibling 0 with the call that earned its reward and the tool's answer
        demo = teacher.split("A correct solution:")[1]
        assert 'Tool call: {"name": "increment", "arguments": {"step": 1}}\nTool result (increment): 1\nDone!' in demo
    # the teacher scores the same completion tokens (tool results included) as the student
    assert torch.equal(batch["teacher_input_ids"][:, -batch["completion_ids"].size(1) :], batch["completion_ids"])
    assert batch["tool_mask"][0].min() == 0  # sample 0 carries tool-result tokens


def test_mixed_e_step_contexts_with_an_environment_keep_the_tool_transcripts(tmp_path):
    """`e_step_mixed_contexts` with tool-calling rollouts: the odd rollout's E-step context is its M-step context (the
    successful sibling's calls and the tools' answers), the even ones' the critique alone (none here: the
    environment gives no feedback, so they carry no context), and the E-step scores the same completion tokens."""
    tokenizer, _, batch = _train_with_the_increment_environment(
        tmp_path, teacher_mode="adapter", e_step_solutions=False, e_step_mixed_contexts=True
    )
    assert batch["vpd_rewards"].tolist() == [1.0, 0.0, 0.0]
    assert batch["vpd_e_has_context"].tolist() == [0.0, 1.0, 0.0]
    completion_len = batch["completion_ids"].size(1)
    e_step = rows(batch["vpd_e_teacher_input_ids"][:, :-completion_len],
                  batch["vpd_e_teacher_attention_mask"][:, :-completion_len])  # fmt: skip
    assert e_step[1] == teacher_prompts(batch)[1]
    assert 'Tool call: {"name": "increment"' in tokenizer.decode(e_step[1])
    assert e_step[0] == rows(batch["prompt_ids"], batch["prompt_mask"])[0]  # no context: the student's own prompt
    assert torch.equal(batch["vpd_e_teacher_input_ids"][:, -completion_len:], batch["completion_ids"])


def test_multiple_environments_each_teacher_prompt_carries_its_own_environments_tools(tmp_path):
    """A dict `environment_factory`: each sample's teacher prompt is rendered with its own environment's tools."""
    tokenizer = tool_tokenizer()
    dataset = Dataset.from_dict({"environment": ["counter", "echo"] * 4})
    trainer = VPDTrainer(
        model=build_tiny_model(tokenizer),
        args=make_args(tmp_path, per_device_train_batch_size=4, num_generations=2),
        train_dataset=dataset,
        processing_class=tokenizer,
        environment_factory={"counter": increment_doc(), "echo": EchoEnvironment},
    )
    spy = BatchSpy(trainer)
    generation = Generation(tokenizer, [INCREMENT_CALL, "I won't<|im_end|>", SHOUT_CALL, DONE])
    before = snapshot(trainer.model.named_parameters())
    with patch.object(trainer.model, "generate", side_effect=generation):
        trainer.train()
    assert_trained(trainer, before)

    batch = spy.batches[0]
    assert batch["vpd_rewards"].tolist() == [1.0, 0.0, 1.0, 0.0]
    assert batch["vpd_has_context"].tolist() == [0.0, 1.0, 0.0, 1.0]
    students = [tokenizer.decode(ids) for ids in rows(batch["prompt_ids"], batch["prompt_mask"])]
    teachers = [tokenizer.decode(ids) for ids in teacher_prompts(batch)]
    assert '"name": "increment"' in schema_block(teachers[1]) and '"name": "shout"' not in schema_block(teachers[1])
    assert '"name": "shout"' in schema_block(teachers[3]) and '"name": "increment"' not in schema_block(teachers[3])
    for i in (1, 3):
        assert schema_block(teachers[i]) == schema_block(students[i])
    assert 'Tool call: {"name": "increment", "arguments": {"step": 1}}\nTool result (increment): 1' in teachers[1]
    assert 'Tool call: {"name": "shout", "arguments": {"text": "hi"}}\nTool result (shout): HI' in teachers[3]


def test_environment_owned_data_without_tools_trains(tmp_path):
    """An environment that only supplies the prompt (`reset`) and no tool; a reward function scores the text."""

    class GuessEnvironment:
        def reset(self, **kwargs):
            return "Guess the word."

    tokenizer = tool_tokenizer()
    trainer = VPDTrainer(
        model=build_tiny_model(tokenizer),
        reward_funcs=lambda completions, **kw: [float(c[-1]["content"] == "Done!") for c in completions],
        args=make_args(tmp_path),
        processing_class=tokenizer,
        environment_factory=GuessEnvironment,
    )
    spy = BatchSpy(trainer)
    generation = Generation(tokenizer, [DONE, "DoneDone!<|im_end|>", "I won't<|im_end|>"])
    before = snapshot(trainer.model.named_parameters())
    with patch.object(trainer.model, "generate", side_effect=generation):
        trainer.train()
    assert_trained(trainer, before)
    teacher = tokenizer.decode(teacher_prompts(spy.batches[0])[1])
    assert "Guess the word." in teacher and "A correct solution:\n\nDone!" in teacher


def test_self_critique_with_environment_factory_reads_the_tools_and_the_calls(tmp_path):
    """SelfCritique tokenizes only the failed samples' critique prompts, each with its sample's tool schema, and the
    attempt it critiques shows its tool calls."""
    tokenizer = tool_tokenizer()
    trainer = VPDTrainer(
        model=build_tiny_model(tokenizer),
        args=make_args(tmp_path, max_steps=1, use_sibling_solutions=False),
        processing_class=tokenizer,
        environment_factory=increment_doc(),
        feedback_funcs=[SelfCritique()],
    )
    spy = BatchSpy(trainer)
    generation = Generation(tokenizer, [INCREMENT_CALL, DECREMENT_CALL, "I won't increment<|im_end|>"])
    with patch.object(trainer.model, "generate", side_effect=generation):
        trainer.train()
    critiques = [p for p in generation.prompts if "Attempt:" in p]
    assert len(critiques) == 2  # the two failed samples, in one batch
    assert all('"name": "increment", "description": "Increment the internal counter."' in p for p in critiques)
    assert 'Tool call: {"name": "decrement", "arguments": {"step": 2}}\nTool result (decrement):' in critiques[0]
    assert "Tool decrement not found." in critiques[0]
    batch = spy.batches[0]
    assert batch["vpd_has_context"].tolist() == [0.0, 1.0, 1.0]
    assert "Feedback on your earlier attempt:\n\nCall the tool." in tokenizer.decode(teacher_prompts(batch)[1])


# ------------------------------------------------------------------------------------------------ tools=[...]


def test_tools_argument_trains_and_the_teacher_prompt_carries_the_schema(tmp_path):
    tokenizer = tool_tokenizer()
    dataset = Dataset.from_dict({"prompt": [[{"role": "user", "content": f"What is {i} times 4?"}] for i in range(4)]})
    trainer = VPDTrainer(
        model=build_tiny_model(tokenizer),
        reward_funcs=lambda completions, **kw: [float(any(m["role"] == "tool" for m in c)) for c in completions],
        args=make_args(tmp_path),
        train_dataset=dataset,
        processing_class=tokenizer,
        tools=[multiply_tool],
    )
    spy = BatchSpy(trainer)
    generation = Generation(tokenizer, [MULTIPLY_CALL, "I don't know<|im_end|>", "I don't know<|im_end|>"])
    before = snapshot(trainer.model.named_parameters())
    with patch.object(trainer.model, "generate", side_effect=generation):
        trainer.train()
    assert_trained(trainer, before)
    batch = spy.batches[0]
    student = tokenizer.decode(rows(batch["prompt_ids"], batch["prompt_mask"])[1])
    teacher = tokenizer.decode(teacher_prompts(batch)[1])
    assert '"name": "multiply_tool"' in schema_block(student)
    assert schema_block(teacher) == schema_block(student)
    demo = 'Tool call: {"name": "multiply_tool", "arguments": {"a": 3, "b": 4}}\nTool result (multiply_tool): 12'
    assert demo in teacher


def test_teacher_repairs_refuse_tool_calling_rollouts(tmp_path):
    """A repair is one sampled turn scored by the reward functions: a tool-calling episode cannot be replayed so."""
    tokenizer = tool_tokenizer()
    dataset = Dataset.from_dict({"prompt": [[{"role": "user", "content": "What is 3 times 4?"}]] * 3})
    with pytest.raises(ValueError, match="teacher_repairs > 0 .* tools"):
        VPDTrainer(model=build_tiny_model(tokenizer), reward_funcs=lambda completions, **kw: [0.0] * len(completions),
                   args=make_args(tmp_path, teacher_repairs=1), train_dataset=dataset, processing_class=tokenizer,
                   tools=[multiply_tool])  # fmt: skip


def test_teacher_eval_refuses_tool_calling_rollouts_and_measures_a_tool_free_environment(tmp_path):
    """`evaluate_teacher` generates one turn without tools: with an environment that exposes tools it is a clear error
    at the callback's construction; an environment that only supplies prompts is measured like a dataset."""
    from trl_vpd.teacher_eval import TeacherEvalCallback, evaluate_teacher

    tokenizer = tool_tokenizer()
    data = Dataset.from_dict({"prompt": [[{"role": "user", "content": "Count."}]] * 2})
    reward = lambda completions, **kw: [float(c[-1]["content"] == "Done!") for c in completions]  # noqa: E731
    with_tools = VPDTrainer(model=build_tiny_model(tokenizer), args=make_args(tmp_path / "a"),
                            processing_class=tokenizer, environment_factory=increment_doc())  # fmt: skip
    with pytest.raises(ValueError, match="call tools"):
        TeacherEvalCallback(with_tools, data, reward)
    with pytest.raises(ValueError, match="environment_factory"):
        evaluate_teacher(with_tools, list(data), reward)

    class GuessEnvironment:
        def reset(self, **kwargs):
            return "Guess the word."

    without_tools = VPDTrainer(model=build_tiny_model(tokenizer), reward_funcs=reward, args=make_args(tmp_path / "b"),
                               processing_class=tokenizer, environment_factory=GuessEnvironment)  # fmt: skip
    generation = Generation(tokenizer, ["Done!<|im_end|>", "I won't<|im_end|>"])
    with patch.object(without_tools.model, "generate", side_effect=generation):
        metrics = evaluate_teacher(without_tools, list(data), reward, max_new_tokens=8)
    assert metrics["vpd/teacher_eval/student_success"] == 0.5
