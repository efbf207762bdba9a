"""Self-critique feedback: critiques are generated in one batch for failed attempts only, through GRPO's generation,
and their cost is logged."""

import pytest
from datasets import Dataset

from trl_vpd import VPDConfig, VPDTrainer
from trl_vpd.critique import SelfCritique
from trl_vpd.registry import get_feedback_func
from trl_vpd.tiny import build_tiny_model, build_tiny_tokenizer


def _trainer(tmp_path, critique, **overrides):
    tokenizer = build_tiny_tokenizer()
    args = VPDConfig(output_dir=str(tmp_path), per_device_train_batch_size=4, num_generations=4,
                     max_completion_length=5, max_steps=1, report_to="none", save_strategy="no", logging_steps=1,
                     use_sibling_solutions=False, **{"e_step": False, **overrides})  # fmt: skip
    dataset = Dataset.from_dict({"prompt": [[{"role": "system", "content": "Be brief."},
                                             {"role": "user", "content": f"Add {i} and 1."}] for i in range(4)]})  # fmt: skip
    return VPDTrainer(
        model=build_tiny_model(tokenizer),
        reward_funcs=lambda completion_ids, **kw: [float(i % 2) for i in range(len(completion_ids))],
        args=args,
        train_dataset=dataset,
        processing_class=tokenizer,
        feedback_funcs=[critique],
    )


def test_critiques_only_failed_attempts_in_one_batch(tmp_path):
    critique = SelfCritique()
    trainer = _trainer(tmp_path, critique)
    calls, generated = [], []
    generate = trainer._generate_single_turn

    def spy(prompt_ids, *args, **kwargs):
        calls.append(prompt_ids)
        completion_ids, logprobs = generate(prompt_ids, *args, **kwargs)
        generated.extend(completion_ids)
        return completion_ids, logprobs

    trainer._generate_single_turn = spy
    prompts = [[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Add 2 and 1."}]] * 4
    completions = [[{"role": "assistant", "content": f"attempt {i}"}] for i in range(4)]
    feedback = critique(prompts=prompts, completions=completions, rewards=[0.0, 1.0, 0.0, 1.0])
    assert len(calls) == 1 and len(calls[0]) == 2  # one batch, the two failed attempts
    assert feedback[1] is None and feedback[3] is None
    assert isinstance(feedback[0], str) and isinstance(feedback[2], str)
    decoded = trainer._tokenizer.decode(calls[0][0])
    assert decoded.startswith("<|im_start|>system\nBe brief.<|im_end|>")
    assert "Problem:\nAdd 2 and 1.\n\nAttempt:\nattempt 0\n\nThe attempt is incorrect." in decoded
    metrics = trainer._metrics["train"]
    assert metrics["vpd/critique_seconds"][0] > 0
    assert metrics["vpd/critique_tokens"][0] == sum(len(ids) for ids in generated) > 0


def test_self_critique_trains_and_is_registered(tmp_path):
    critique = get_feedback_func("self_critique")
    assert isinstance(critique, SelfCritique)
    trainer = _trainer(tmp_path, critique)
    trainer.train()
    logged = trainer.state.log_history[0]
    assert logged["vpd/feedback_coverage"] == pytest.approx(0.5)  # the failed half got a critique
    assert logged["vpd/critique_tokens"] > 0


def test_unbound_critique_says_how_to_use_it():
    with pytest.raises(RuntimeError, match="feedback_funcs"):
        SelfCritique()(prompts=["q"], completions=["a"], rewards=[0.0])


def test_critique_prompts_are_tokenized_for_their_own_samples_and_show_tool_calls(tmp_path):
    """Each critique prompt is tokenized as its sample's prompt would be (under `environment_factory`, with that
    sample's tool schema), so the trainer is told which samples the prompts belong to; a tool-calling attempt is shown
    with its calls and results."""
    critique = SelfCritique()
    trainer = _trainer(tmp_path, critique)
    seen = []
    tokenize = trainer._tokenize_sample_prompts

    def spy(prompts, samples):
        seen.append(samples)
        return tokenize(prompts, samples)

    trainer._tokenize_sample_prompts = spy
    trainer._generate_single_turn = lambda prompt_ids, *a, **k: ([[5, 6]] * len(prompt_ids), None)
    prompts = [[{"role": "user", "content": "Add 2 and 1."}]] * 4
    call = {"type": "function", "function": {"name": "add", "arguments": {"a": 2, "b": 1}}}
    tool_rollout = [
        {"role": "assistant", "content": "", "tool_calls": [call]},
        {"role": "tool", "name": "add", "content": "3"},
    ]
    completions = [tool_rollout] + [[{"role": "assistant", "content": f"attempt {i}"}] for i in range(1, 4)]
    critique(prompts=prompts, completions=completions, rewards=[0.0, 1.0, 0.0, 1.0])
    assert seen == [[0, 2]]
    assert critique._prompt(prompts[0], tool_rollout, True)[-1]["content"].split("Attempt:\n")[1].startswith(
        'Tool call: {"name": "add", "arguments": {"a": 2, "b": 1}}\nTool result (add): 3\n\nThe attempt is incorrect.'
    )


@pytest.mark.parametrize("mode", ["frozen", "adapter"])
def test_teacher_critic_is_refused_for_a_teacher_with_its_own_model(tmp_path, mode):
    """GRPO's generation runs the student's model, so a full-weights frozen copy or teacher adapter (a model of its
    own) cannot be the critic: refused at construction rather than critiqued silently by the student."""
    with pytest.raises(ValueError, match="critic='student'"):
        _trainer(tmp_path, SelfCritique(critic="teacher"), teacher_mode=mode, e_step=mode == "adapter")
