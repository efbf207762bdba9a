#!/usr/bin/env bash
# One-command set-up: a virtual environment in .venv with CPU torch (from the local wheel when there is one, never
# a CUDA build on a machine without a GPU), then trl-vpd and its test extras in editable mode.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
[ -d .venv ] || "$PYTHON" -m venv .venv
. .venv/bin/activate
python -m pip install -q --upgrade pip
# Pinned so that pip takes the CPU wheel lying on this workplace's disk instead of resolving a CUDA build.
python -c "import torch" 2>/dev/null || python -m pip install -q torch==2.13.0
python -m pip install -q -e ".[test]"
python -c "import torch, trl, trl_vpd; print('torch', torch.__version__, '| trl', trl.__version__, '| trl-vpd', trl_vpd.__version__)"
