#!/usr/bin/env bash
# The whole suite (unit, integration, distributed, recipe smoke runs, notebooks), offline, on CPU, in .venv. `make test`
# sets up .venv first; run this directly to pass pytest options (bash scripts/test.sh -k cli).
set -euo pipefail
cd "$(dirname "$0")/.."
[ ! -f .venv/bin/activate ] || . .venv/bin/activate  # the project's own environment, whatever is active
export HF_HUB_OFFLINE=1 HF_HUB_DISABLE_TELEMETRY=1 TRL_EXPERIMENTAL_SILENCE=1 TOKENIZERS_PARALLELISM=false
exec python -m pytest -n 2 --timeout 900 tests "$@"
