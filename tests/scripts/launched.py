"""What the launched training scripts (`ddp_train.py`, `deepspeed_train.py`) share: the tiny model, prompts, verifier
and critique, the run's common settings, the cross-rank weight check and a teardown-free exit."""

import os
import sys

from datasets import Dataset

from trl_vpd.tiny import build_tiny_model, build_tiny_tokenizer

# Every launched run: 2 processes × 4 rollouts of 6 tokens, a large learning rate so a few steps move the weights.
COMMON_CONFIG = dict(
    use_cpu=True, bf16=False, per_device_train_batch_size=4, num_generations=4, max_completion_length=6,
    learning_rate=1e-2, report_to="none", save_strategy="no", logging_steps=1, e_step_every=1, seed=0,
)  # fmt: skip
CRITIQUE = "Wrong: the token sum must be divisible by 3."


def model_and_data():
    """(tokenizer, model, dataset): the tiny local model and 16 chat prompts."""
    tokenizer = build_tiny_tokenizer()
    dataset = Dataset.from_dict({"prompt": [[{"role": "user", "content": f"Say {i}"}] for i in range(16)]})
    return tokenizer, build_tiny_model(tokenizer), dataset


def divisible_by_three(completion_ids, **kwargs):
    return [float(sum(ids) % 3 == 0) for ids in completion_ids]


def critique(rewards, **kwargs):
    return [None if r > 0 else CRITIQUE for r in rewards]


def gathered_digests(trainer, digest: dict) -> tuple[int, bool, dict]:
    """(ranks, whether every rank's `digest` of its weights equals rank 0's, rank 0's digest); a collective."""
    gathered = trainer.accelerator.gather_for_metrics([digest], use_gather_object=True)
    same = all(abs(g[n] - gathered[0][n]) < 1e-5 for g in gathered for n in g)
    return len(gathered), same, gathered[0]


def vpd_metric_names(trainer) -> list[str]:
    return sorted({k for entry in trainer.state.log_history for k in entry if k.startswith("vpd/")})


def exit_without_teardown():
    """Skip interpreter teardown: with torch 2.13 + gloo on CPU, a C++ thread is sometimes destroyed while joinable at
    exit ("terminate called without an active exception", SIGABRT in about one run in six, after all work is done and
    the process group is destroyed). The result file is written and closed before this."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
