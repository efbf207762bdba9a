"""Shared fixtures: offline, CPU-only, and one tiny Qwen2-shaped model for every test."""

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import pytest  # noqa: E402
import torch  # noqa: E402

# Two xdist workers on two cores: more intra-op threads per worker only oversubscribe the CPU (5-10x slower here).
torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def force_use_cpu(monkeypatch):
    """TRL's configs default to bf16, which raises on a machine without a GPU; force `use_cpu=True` like TRL's tests."""
    from trl.trainer.base_config import _BaseConfig

    original = _BaseConfig.__post_init__

    def __post_init__(self):
        self.use_cpu = True
        self.bf16 = False
        original(self)

    monkeypatch.setattr(_BaseConfig, "__post_init__", __post_init__)


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory):
    """A saved tiny model + tokenizer, usable as a model id (`VPDTrainer(model=tiny_model_dir, ...)`)."""
    from trl_vpd.tiny import save_tiny_model

    return save_tiny_model(tmp_path_factory.mktemp("tiny-qwen2"))


@pytest.fixture(scope="session")
def tiny_tokenizer():
    from trl_vpd.tiny import build_tiny_tokenizer

    return build_tiny_tokenizer()


@pytest.fixture
def tiny_model(tiny_tokenizer):
    from trl_vpd.tiny import build_tiny_model

    return build_tiny_model(tiny_tokenizer)
