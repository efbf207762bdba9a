"""trl-vpd: Variational Policy Distillation (Li, Nijkamp, Yavuz, Joty, arXiv 2605.15113) for Hugging Face TRL."""

from .config import VPDConfig
from .trainer import VPDNumericalError, VPDTrainer

__version__ = "0.1.0"
__all__ = ["VPDConfig", "VPDNumericalError", "VPDTrainer", "__version__"]
