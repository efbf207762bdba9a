"""Small helpers shared across modules."""

from __future__ import annotations

import json
import weakref
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


def decoded_completions(tokenizer, completion_ids: list[list[int]], prompt: Any) -> list:
    """Completion ids as TRL hands completions to reward functions: text, or one assistant message for chat prompts
    (`prompt` is one of the batch's prompts)."""
    from trl.data_utils import is_conversational

    texts = tokenizer.batch_decode(completion_ids, skip_special_tokens=True)
    if is_conversational({"prompt": prompt}):
        return [[{"role": "assistant", "content": t}] for t in texts]
    return texts


def completion_transcript(completion: Any) -> str:
    """The text of one completion as a reader of the whole rollout needs it (a demonstration, an attempt to critique).

    A tool-calling rollout is a list of messages: assistant turns (text and `tool_calls`) and `tool` results. Its
    transcript keeps every assistant text, every call as `Tool call: {"name": ..., "arguments": {...}}` and every
    result as `Tool result (name): ...`, one per line, in order: the call that earned a reward is what a
    demonstration must show. Anything else reads as `completion_text` (which verifiers keep: a tool result is not
    the answer)."""
    if not isinstance(completion, list) or not any(m.get("role") == "tool" or m.get("tool_calls") for m in completion):
        return completion_text(completion)
    lines = []
    for message in completion:
        role = message.get("role", "assistant")
        if role == "assistant":
            text = message_text(message)
            if text.strip():
                lines.append(text.strip("\n"))
            lines.extend(f"Tool call: {_tool_call_text(call)}" for call in message.get("tool_calls") or [])
        elif role == "tool":
            lines.append(f"Tool result ({message.get('name', 'tool')}): {message_text(message)}")
    return "\n".join(lines)


def _tool_call_text(call: dict) -> str:
    """One tool call as the JSON object tool-calling chat formats write: `{"name": ..., "arguments": {...}}`."""
    function = call.get("function", call)
    arguments = function.get("arguments", {})
    if isinstance(arguments, str):  # OpenAI-style calls carry their arguments as a JSON string
        try:
            arguments = json.loads(arguments)
        except ValueError:
            pass
    return json.dumps({"name": function.get("name"), "arguments": arguments}, ensure_ascii=False, default=str)


def message_text(message: dict) -> str:
    """The text content of one chat message (string content or a list of `{"type": "text"}` parts)."""
    content = message.get("content", "")
    if isinstance(content, str):
        return content
    return "".join(part.get("text", "") for part in content if isinstance(part, dict) and part.get("type") == "text")


def unwrap_ddp(model):
    """The module inside a `DistributedDataParallel` wrapper or a DeepSpeed engine (the model itself otherwise).

    Both keep the wrapped model as `.module`; under DeepSpeed, `Trainer.model_wrapped` is the engine, whose `.config` is
    DeepSpeed's dict, not the model's config. The engine's class is looked up only if DeepSpeed is already imported:
    an engine cannot exist otherwise, and importing DeepSpeed costs seconds.
    """
    import sys

    from torch.nn.parallel import DistributedDataParallel

    wrappers = (DistributedDataParallel,)
    if "deepspeed" in sys.modules:
        wrappers += (sys.modules["deepspeed"].DeepSpeedEngine,)
    return model.module if isinstance(model, wrappers) else model


_IS_PEFT: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def is_peft_model(model) -> bool:
    """accelerate's `is_peft_model`, remembered per model object. accelerate re-reads two packages' metadata on every
    call (~3 ms); the forwards here ask on every pass, which on the demo's model was 40 % of VPD's training time. A
    model object's wrapping, and so the answer, is fixed once it is built (`get_peft_model` returns a new object)."""
    from accelerate.utils import is_peft_model as accelerate_is_peft_model

    try:
        return _IS_PEFT[model]
    except KeyError:
        answer = _IS_PEFT[model] = accelerate_is_peft_model(model)
        return answer
