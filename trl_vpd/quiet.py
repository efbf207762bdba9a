"""Silence library messages that are not the user's business, before the libraries that emit them are imported.

Every command imports PEFT, which imports bitsandbytes whenever it is installed (`peft.helpers`), and bitsandbytes
then logs that an optional CPU 4-bit kernel (`kernels`) is missing, even when nothing is quantized. TRL and
Transformers call their own deprecated `gradient_checkpointing*` names (FutureWarnings meant for Transformers' callers,
not ours), and DeepSpeed announces that it fell back to the CPU. Only these exact messages are dropped.
"""

from __future__ import annotations

import logging
import warnings

# Transformers v5 renamed gradient checkpointing to activation checkpointing; TRL 1.16 still uses the old names.
_DEPRECATED_CHECKPOINTING = r"`(is_)?gradient_checkpointing\w*` is deprecated and will be removed in v6"
# (logger name, start of the message) pairs dropped from the library's log.
_LOG_MESSAGES = (
    ("bitsandbytes.backends.cpu.ops", "Failed to load CPU gemm_4bit_forward"),
    ("DeepSpeed", "Setting accelerator to CPU"),
)


class _DropMessages(logging.Filter):
    def __init__(self, prefixes: tuple[str, ...]):
        super().__init__()
        self.prefixes = prefixes

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(self.prefixes)


def silence_library_noise() -> None:
    """Install the warning filter and the logging filters (idempotent)."""
    warnings.filterwarnings("ignore", message=_DEPRECATED_CHECKPOINTING, category=FutureWarning)
    for name, prefix in _LOG_MESSAGES:
        logger = logging.getLogger(name)
        if not any(isinstance(f, _DropMessages) and prefix in f.prefixes for f in logger.filters):
            logger.addFilter(_DropMessages((prefix,)))
