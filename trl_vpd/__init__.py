"""trl-vpd: Variational Policy Distillation (Li, Nijkamp, Yavuz, Joty, arXiv 2605.15113) for Hugging Face TRL."""

from typing import TYPE_CHECKING

from .quiet import silence_library_noise

silence_library_noise()

__version__ = "0.1.0"
__all__ = ["VPDConfig", "VPDNumericalError", "VPDTrainer", "__version__"]

# Imported on first use (PEP 562), so that `trl-vpd --help` and `trl_vpd.tiny` do not pay for torch and Transformers.
_LAZY = {"VPDConfig": ".config", "VPDTrainer": ".trainer", "VPDNumericalError": ".trainer"}

if TYPE_CHECKING:
    from .config import VPDConfig
    from .trainer import VPDNumericalError, VPDTrainer


def __getattr__(name):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
