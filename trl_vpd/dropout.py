"""Forwards without dropout inside a training step."""

from __future__ import annotations

from contextlib import contextmanager

import torch


@contextmanager
def dropout_disabled(model):
    """Put every `nn.Dropout` of `model` (LoRA's included) in eval mode for the duration, leaving the rest in train mode.

    The teacher's targets and the E-step's reference must not be noisy, and a chunked E-step's passes must compute the
    same function as its pass without gradient. `model.eval()` would do that too, but also turn off gradient
    checkpointing, which transformers only applies in train mode.
    """
    dropouts = [m for m in model.modules() if isinstance(m, torch.nn.modules.dropout._DropoutNd) and m.training]
    for module in dropouts:
        module.train(False)
    try:
        yield
    finally:
        for module in dropouts:
            module.train(True)
