"""Small helpers shared across modules."""

from __future__ import annotations

from typing import Any


def completion_text(completion: Any) -> str:
    """The text of one completion, whether TRL gave it as a string or as a list of chat messages."""
    if isinstance(completion, str):
        return completion
    if isinstance(completion, list):
        return "".join(message_text(m) for m in completion if m.get("role", "assistant") == "assistant")
    if isinstance(completion, dict):
        return message_text(completion)
    raise TypeError(f"Cannot read text from a completion of type {type(completion).__name__}.")


def message_text(message: dict) -> str:
    """The text content of one chat message (string content or a list of `{"type": "text"}` parts)."""
    content = message.get("content", "")
    if isinstance(content, str):
        return content
    return "".join(part.get("text", "") for part in content if isinstance(part, dict) and part.get("type") == "text")


def unwrap_ddp(model):
    """The module inside a `DistributedDataParallel` wrapper (the model itself otherwise)."""
    from torch.nn.parallel import DistributedDataParallel

    return model.module if isinstance(model, DistributedDataParallel) else model
