"""Final hidden states and the output head of a causal LM: what the top-k / full M-step needs to compute its divergence
on vocabulary-sized logits one chunk at a time, while TRL's fused LM head computes GRPO's log-probs in the same
forward (no second pass, no `(batch, length, vocab)` logits)."""

from __future__ import annotations

from contextlib import contextmanager

import torch

from .losses import OutputHead
from .utils import is_peft_model, unwrap_ddp

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
    """The LM head of `model` as the model applies it, with the logit scale and soft-capping its config declares.

    The weight is `get_output_embeddings()` as routed now: the active adapter's `modules_to_save` copy, the base weight
    while adapters are disabled (the weight GRPO's fused log-probs read), and for a LoRA head its active adapters
    folded in (a head TRL 1.16's GRPOTrainer refuses at construction, since its fused log-probs would miss them). It is
    whole: an FSDP2 DTensor is gathered with `full_tensor()` and a ZeRO-3 partition with `GatheredParameters`, both
    into a copy attached to the parameters' autograd graph, so the chunked loss can run after the forward (and
    recompute in the backward) while its gradient still reaches the shards.
    """
    lm = causal_lm(model)
    config = lm.config.get_text_config()
    unsupported = [name for name in _UNSUPPORTED_SCALINGS if getattr(config, name, None) not in (None, 1, 1.0)]
    if unsupported:
        raise NotImplementedError(
            f"distillation_mode 'topk'/'full' does not support models whose logits are scaled by {unsupported}; use "
            "distillation_mode='sampled'."
        )
    head = lm.get_output_embeddings()
    with _gathered_zero3(list(head.parameters())):
        weight, bias = _applied_weight(head)
    scale = getattr(config, "logit_scale", None)
    return OutputHead(
        weight=weight,
        bias=bias,
        logit_scale=1.0 if scale is None else float(scale),
        softcap=getattr(config, "final_logit_softcapping", None),
    )


def _applied_weight(head) -> tuple[torch.Tensor, torch.Tensor | None]:
    """(weight, bias) with which `head` maps hidden states to logits: W + Σ scaling·B@A over the active adapters of a
    LoRA head (PEFT's `get_delta_weight`, composed here from whole tensors so that nothing in the graph keeps a
    sharded parameter for the backward), the plain weight otherwise."""
    from peft.tuners.lora import LoraLayer
    from peft.tuners.tuners_utils import BaseTunerLayer

    if not isinstance(head, BaseTunerLayer):
        return _whole(head.weight), _whole(getattr(head, "bias", None))
    base = head.get_base_layer()
    weight, bias = _whole(base.weight), _whole(getattr(base, "bias", None))
    adapters = [name for name in head.active_adapters if name in getattr(head, "lora_A", {})]
    if head.disable_adapters or head.merged or not adapters:
        return weight, bias
    variants = getattr(head, "lora_variant", {})
    if not isinstance(head, LoraLayer) or not isinstance(base, torch.nn.Linear) or any(a in variants for a in adapters):
        raise NotImplementedError(
            f"The top-k/full M-step reproduces a plain LoRA adapter on the LM head, not {type(head).__name__} with "
            f"{[type(variants[a]).__name__ for a in adapters if a in variants] or 'this layer'} (e.g. DoRA); remove "
            "'lm_head' from the adapter's target modules or use distillation_mode='sampled'."
        )
    for name in adapters:
        delta = _whole(head.lora_B[name].weight) @ _whole(head.lora_A[name].weight)
        weight = weight + (delta.T if head.fan_in_fan_out else delta).to(weight.dtype) * head.scaling[name]
        if head.lora_bias[name]:
            lora_bias = _whole(head.lora_B[name].bias) * head.scaling[name]
            bias = lora_bias if bias is None else bias + lora_bias
    return weight, bias


def _whole(tensor: torch.Tensor | None) -> torch.Tensor | None:
    """`tensor` unsharded: an FSDP2 DTensor gathered, a (gathered) ZeRO-3 parameter copied out of its gather, both
    with the parameter's gradient; any other tensor as is."""
    if tensor is None:
        return None
    if hasattr(tensor, "full_tensor"):  # FSDP2 DTensor: gathered once here, not per chunk
        return tensor.full_tensor()
    if hasattr(tensor, "ds_id"):  # ZeRO-3: the gather ends with `output_head`; the loss runs (and recomputes) later
        from deepspeed.runtime.zero.partition_parameters import ZeroParamStatus

        copy = tensor.clone()
        # TRL's head kernels (the full M-step's) gather any head weight whose `ds_status` says it is partitioned;
        # this copy is whole.
        copy.ds_status = ZeroParamStatus.AVAILABLE
        return copy
    return tensor


@contextmanager
def _gathered_zero3(params: list[torch.nn.Parameter]):
    """Gather ZeRO-3-partitioned `params` for the block (read-only: `modifier_rank=None`); a no-op for others. A
    collective: every rank reaches it, in the same forward."""
    partitioned = [p for p in params if hasattr(p, "ds_id")]
    if not partitioned:
        yield
        return
    from trl.trainer.utils import maybe_gather_lm_head_ctx

    with maybe_gather_lm_head_ctx(*partitioned):
        yield
