#!/usr/bin/env bash
# Set up what is missing, nothing more: .venv (created if absent) with CPU torch and trl-vpd in editable mode with the
# extras named as arguments (default: test). `make demo` asks for `plots`, `make test` for `test`; each is installed
# once (a stamp file in .venv records it, and is renewed when pyproject.toml changes).
set -euo pipefail
cd "$(dirname "$0")/.."
EXTRAS=${*:-test}
PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
. .venv/bin/activate
# Pinned so that pip takes the CPU wheel on this workplace's disk instead of resolving a multi-GB CUDA build; an
# existing torch (Colab's, a CUDA build you installed) is kept.
python -c "import torch" 2>/dev/null || python -m pip install -q torch==2.13.0
for extra in $EXTRAS; do
    stamp=".venv/.trl-vpd-$extra"
    if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
        python -m pip install -q -e ".[$extra]"
        touch "$stamp"
    fi
done
python -c "import torch, trl, trl_vpd; print('torch', torch.__version__, '| trl', trl.__version__, '| trl-vpd', trl_vpd.__version__)"
