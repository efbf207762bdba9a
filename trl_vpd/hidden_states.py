"""Final hidden states and the output head of a causal LM: what the top-k / full M-step needs to compute its divergence
on vocabulary-sized logits one chunk at a time, while TRL's fused LM head computes GRPO's log-probs in the same
forward (no second pass, no `(batch, length, vocab)` logits)."""

from __future__ import annotations

from contextlib import contextmanager

import torch
from accelerate.utils import is_peft_model

from .losses import OutputHead
from .utils import unwrap_ddp

# Head scalings that TRL's fused head reads under other names; our top-k projection does not replicate them.
_UNSUPPORTED_SCALINGS = ("output_multiplier", "lm_head_multiplier", "logits_scaling")


def causal_lm(model):
    """The `PreTrainedModel` under DDP and PEFT wrappers."""
    model = unwrap_ddp(model)
    return model.get_base_model() if is_peft_model(model) else model


@contextmanager
def capture_final_hidden(model):
    """Collect the backbone's last hidden state (B, L, H) of every forward run inside the block, graph attached.

    TRL's fused forward calls `model.base_model` and projects its output in tiles; a forward hook on that backbone is
    the one place where the hidden states exist, so reading them there costs nothing.
    """
    backbone = causal_lm(model).base_model
    captured: list[torch.Tensor] = []

    def hook(module, args, output):
        captured.append(output.last_hidden_state if hasattr(output, "last_hidden_state") else output[0])

    handle = backbone.register_forward_hook(hook)
    try:
        yield captured
    finally:
        handle.remove()


def completion_hidden(captured: list[torch.Tensor], logits_to_keep: int) -> torch.Tensor:
    """Hidden states that predict the last `logits_to_keep` tokens: positions [-keep-1, -1) of each forward."""
    if not captured:
        raise RuntimeError("No hidden state was captured: the model's backbone did not run through `base_model`.")
    return torch.cat([h[:, -logits_to_keep - 1 : -1] for h in captured], dim=0)


def output_head(model) -> OutputHead:
    """The LM head of `model` as tensors, with the logit scale and soft-capping its config declares."""
    lm = causal_lm(model)
    config = lm.config.get_text_config()
    unsupported = [name for name in _UNSUPPORTED_SCALINGS if getattr(config, name, None) not in (None, 1, 1.0)]
    if unsupported:
        raise NotImplementedError(
            f"distillation_mode 'topk'/'full' does not support models whose logits are scaled by {unsupported}; use "
            "distillation_mode='sampled'."
        )
    head = lm.get_output_embeddings()
    weight, bias = head.weight, getattr(head, "bias", None)
    if hasattr(weight, "full_tensor"):  # FSDP2 DTensor: gather once, not per chunk
        weight = weight.full_tensor()
        bias = bias.full_tensor() if bias is not None else None
    scale = getattr(config, "logit_scale", None)
    return OutputHead(
        weight=weight,
        bias=bias,
        logit_scale=1.0 if scale is None else float(scale),
        softcap=getattr(config, "final_logit_softcapping", None),
    )
