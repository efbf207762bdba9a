"""TRL's own GRPO trainer tests, run with `VPDTrainer`/`VPDConfig` in place of `GRPOTrainer`/`GRPOConfig`.

`python -m tests.trl_suite --trl-tests PATH` (see `__main__.py`); the pytest plugin is `plugin.py`, the offline
stand-ins for Hub models and datasets are in `standins.py`.
"""
