"""`e_step_detach_context`: the teacher context runs once without gradient into a key/value cache and the completion on
top of it; the log-probs equal the one-pass forward's, and no gradient reaches what only the context touched."""

from contextlib import nullcontext

import pytest
import torch
from trl.trainer.utils import add_fused_lm_head

from trl_vpd import VPDConfig
from trl_vpd.context_cache import detached_context_logps, supports_detached_context
from trl_vpd.tiny import build_tiny_model, build_tiny_tokenizer

CONTEXT, COMPLETION = 7, 5


@pytest.fixture
def model():
    torch.manual_seed(0)
    model = build_tiny_model(build_tiny_tokenizer())
    add_fused_lm_head(model)
    return model.train()


def _batch():
    """Three rows: left-padded contexts of different lengths, one completion right-padded."""
    generator = torch.Generator().manual_seed(3)
    ids = torch.randint(5, 60, (3, CONTEXT + COMPLETION), generator=generator)
    mask = torch.ones_like(ids)
    mask[0, :3] = 0
    mask[1, :1] = 0
    mask[2, -2:] = 0
    return ids, mask


def _one_pass(model, ids, mask):
    labels = ids.masked_fill(mask == 0, -100)
    labels[:, :-COMPLETION] = -100
    return model(input_ids=ids, attention_mask=mask, labels=labels, fused_lm_head=True).log_probs[:, -COMPLETION:]


def _context_only_tokens(ids, mask):
    """Token ids that occur (unmasked) only before the last context position, which runs with the completion."""
    context = set(ids[:, : CONTEXT - 1][mask[:, : CONTEXT - 1] == 1].tolist())
    return sorted(context - set(ids[:, CONTEXT - 1 :].flatten().tolist()))


def test_values_equal_the_one_pass_forward(model):
    ids, mask = _batch()
    detached = detached_context_logps(model, ids, mask, COMPLETION, nullcontext)
    assert detached.shape == (3, COMPLETION) and detached.requires_grad
    torch.testing.assert_close(detached, _one_pass(model, ids, mask), atol=1e-6, rtol=0)


def test_gradient_reaches_only_what_the_completion_touches(model):
    ids, mask = _batch()
    only_context = _context_only_tokens(ids, mask)
    assert len(only_context) >= 3
    embeddings = model.get_input_embeddings().weight

    detached_context_logps(model, ids, mask, COMPLETION, nullcontext).sum().backward()
    detached = embeddings.grad.clone()
    model.zero_grad()
    _one_pass(model, ids, mask).sum().backward()
    full = embeddings.grad.clone()

    assert detached[only_context].abs().max() == 0  # those tokens reach the completion only through keys/values
    assert full[only_context].abs().max() > 1e-4  # ... which the one-pass forward differentiates through
    # the last context token and the completion tokens before a scored token run with gradient
    assert detached[ids[2, CONTEXT - 1 : -3]].abs().sum(-1).min() > 0


def test_gradient_checkpointing_is_refused_or_detected(model, tmp_path):
    assert supports_detached_context(model)
    model.gradient_checkpointing_enable()
    assert not supports_detached_context(model)
    with pytest.raises(ValueError, match="gradient checkpointing"):
        VPDConfig(output_dir=str(tmp_path), e_step_detach_context=True, gradient_checkpointing=True)


def test_a_sequence_without_context_is_an_error(model):
    ids = torch.randint(5, 60, (2, COMPLETION + 1))
    with pytest.raises(ValueError, match="needs a context"):
        detached_context_logps(model, ids, torch.ones_like(ids), COMPLETION, nullcontext)


@pytest.mark.parametrize("model_type", ["llama", "qwen3", "mistral", "gemma2", "granite"])
def test_values_equal_the_one_pass_forward_across_architectures(model_type):
    """Other decoder families, built from tiny configs: sliding-window attention shorter than the sequence (Mistral,
    Gemma 2), logit soft-capping (Gemma 2) and logit scaling (Granite) give the one-pass values too."""
    from transformers import AutoConfig, AutoModelForCausalLM

    sizes = dict(vocab_size=80, hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
                 num_key_value_heads=2, max_position_embeddings=64)  # fmt: skip
    if model_type in ("mistral", "gemma2"):
        sizes["sliding_window"] = 4
    if model_type == "gemma2":
        sizes["head_dim"] = 8
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_config(AutoConfig.for_model(model_type, **sizes))
    add_fused_lm_head(model)
    ids, mask = _batch()
    detached = detached_context_logps(model.train(), ids, mask, COMPLETION, nullcontext)
    torch.testing.assert_close(detached, _one_pass(model, ids, mask), atol=1e-5, rtol=0)
