"""A small GRPO test file in the style of TRL's `tests/test_grpo_trainer.py`, written for this repository.

CI has no copy of TRL's tests (they are not in TRL's wheel or sdist, and CI cannot reach GitHub), so
`tests/test_trl_suite.py` runs *this* file through `python -m tests.trl_suite` instead: the same plugin, the same
two runs (TRL's classes, then ours swapped in), the same Hub ids, `load_dataset` calls and hard-coded Qwen token ids
that TRL's tests use. It is not collected by our own test run (no `test_` prefix); the runner stages it as a test file.
"""

from unittest.mock import patch

import pytest
import torch
from datasets import load_dataset
from trl import GRPOConfig, GRPOTrainer

MODEL_ID = "trl-internal-testing/tiny-Qwen2ForCausalLM-2.5"
REWARD_MODEL_ID = "trl-internal-testing/tiny-Qwen2ForSequenceClassification-2.5"


def _args(tmp_path, **kwargs):
    defaults = dict(
        output_dir=str(tmp_path),
        learning_rate=0.1,
        per_device_train_batch_size=3,
        num_generations=3,
        max_completion_length=8,
        max_steps=2,
        report_to="none",
    )
    return GRPOConfig(**{**defaults, **kwargs})


def test_init_with_hub_ids():
    dataset = load_dataset("trl-internal-testing/zen", "standard_prompt_only", split="train")
    trainer = GRPOTrainer(model=MODEL_ID, reward_funcs=REWARD_MODEL_ID, train_dataset=dataset)
    assert trainer.model.config.model_type == "qwen2"


@pytest.mark.parametrize("config_name", ["standard_prompt_only", "conversational_prompt_only"])
def test_train_changes_every_parameter(tmp_path, config_name):
    dataset = load_dataset("trl-internal-testing/zen", config_name, split="train")
    trainer = GRPOTrainer(model=MODEL_ID, reward_funcs=REWARD_MODEL_ID, args=_args(tmp_path), train_dataset=dataset)
    before = {n: p.clone() for n, p in trainer.model.named_parameters()}
    trainer.train()
    assert trainer.state.log_history[-1]["train_loss"] is not None
    for n, p in before.items():
        assert not torch.equal(p, trainer.model.get_parameter(n)), f"{n} did not change"


def test_train_with_hard_coded_qwen_ids(tmp_path):
    # The fake generate returns Qwen2.5 ids (151645 = <|im_end|>, 151643 = <|endoftext|>, 17453 = "Done", 0 = "!"):
    # one truncated completion, two that end with EOS; with `mask_truncated_completions` only those two count.
    def fake_generate(input_ids, **kwargs):
        completion_ids = torch.tensor(
            [
                [1, 2, 3, 4, 5, 6, 7, 8],
                [17453, 0, 151645, 151643, 151643, 151643, 151643, 151643],
                [17453, 17453, 0, 151645, 151643, 151643, 151643, 151643],
            ],
            device=input_ids.device,
        )
        return torch.cat([input_ids, completion_ids], dim=1)

    dataset = load_dataset("trl-internal-testing/zen", "standard_prompt_only", split="train")

    def reward_len(completions, **kwargs):
        return [float(len(c)) for c in completions]

    trainer = GRPOTrainer(
        model=MODEL_ID,
        reward_funcs=reward_len,
        args=_args(tmp_path, mask_truncated_completions=True, max_steps=1),
        train_dataset=dataset,
    )
    seen = []
    original_decode = trainer.processing_class.batch_decode

    def batch_decode(ids, *args, **kwargs):
        texts = original_decode(ids, *args, **kwargs)
        seen.extend(texts)
        return texts

    with (
        patch.object(trainer.model, "generate", side_effect=fake_generate),
        patch.object(trainer.processing_class, "batch_decode", side_effect=batch_decode),
    ):
        trainer.train()
    assert "Done!" in seen and "DoneDone!" in seen
    assert trainer.state.log_history[-1]["train_loss"] is not None
