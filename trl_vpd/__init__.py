"""trl-vpd: Variational Policy Distillation (Li, Nijkamp, Yavuz, Joty, arXiv 2605.15113) for Hugging Face TRL."""

__version__ = "0.1.0"
