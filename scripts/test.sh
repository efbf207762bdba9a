#!/usr/bin/env bash
# The test command named in README.md: the whole suite (unit, integration, distributed, notebooks), offline, on CPU.
set -euo pipefail
cd "$(dirname "$0")/.."
export HF_HUB_OFFLINE=1 HF_HUB_DISABLE_TELEMETRY=1 TRL_EXPERIMENTAL_SILENCE=1 TOKENIZERS_PARALLELISM=false
exec python -m pytest -n 2 --timeout 900 tests "$@"
