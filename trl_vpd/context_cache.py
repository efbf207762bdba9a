"""The E-step's teacher forward with a detached context (`e_step_detach_context`): the teacher context (prompt, feedback,
demonstration) runs once without gradient into a key/value cache and the completion runs on top of it with gradient,
so the backward, and the activations kept for it, scale with the completion instead of the whole context."""

from __future__ import annotations

import inspect

import torch

from .hidden_states import causal_lm


def supports_detached_context(model) -> bool:
    """Whether the cache survives the training forward: gradient checkpointing drops it in layers run with gradient."""
    return not getattr(causal_lm(model), "is_gradient_checkpointing", False)


def detached_context_logps(model, input_ids, attention_mask, logits_to_keep: int, autocast) -> torch.Tensor:
    """log q of the last `logits_to_keep` tokens of `input_ids` (B, L), as GRPO's fused forward computes them: the first
    L − keep − 1 tokens run without gradient into a cache; the last context token (whose output scores the first
    completion token) and the completion run on it with gradient, at the positions they hold in the whole sequence.
    The values equal the one-pass forward's; the gradient omits the path through the context's keys and values."""
    split = input_ids.size(1) - logits_to_keep - 1
    if split < 1:
        raise ValueError(f"A detached context needs a context before the completion; got {input_ids.size(1)} tokens.")
    name, parameters = _cache_argument(model)
    # the context's logits are never read: project one position where the model allows it
    last_only = {"logits_to_keep": 1} if "logits_to_keep" in parameters else {}
    with torch.no_grad(), autocast():
        prefix = model(input_ids=input_ids[:, :split], attention_mask=attention_mask[:, :split], use_cache=True,
                       **last_only)
    cache = getattr(prefix, name, None)
    if cache is None:
        raise RuntimeError(f"{type(causal_lm(model)).__name__} returned no key/value cache; set e_step_detach_context=False.")
    suffix = input_ids[:, split:]
    labels = suffix.masked_fill(attention_mask[:, split:] == 0, -100)
    labels[:, :-logits_to_keep] = -100
    with autocast():
        outputs = model(input_ids=suffix, attention_mask=attention_mask, labels=labels, fused_lm_head=True,
                        **{name: cache})
    return outputs.log_probs[:, -logits_to_keep:]


def _cache_argument(model) -> tuple[str, set[str]]:
    """The forward's name for the key/value cache (`cache` since Transformers 5.x renamed `past_key_values`) and the
    names of its parameters."""
    parameters = set(inspect.signature(type(causal_lm(model)).forward).parameters)
    return ("cache" if "cache" in parameters else "past_key_values"), parameters
