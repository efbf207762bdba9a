#!/usr/bin/env bash
# The GPU measurements issue 6 still needs, in one call of the device tool (≈ 7 minutes on an H100/H200):
#   run(command="bash benchmarks/gpu_session.sh", carry=[".whl"], timeout_s=560)
# Run `bash ../shared/device/fetch-wheels.sh` here first if `.whl/` is missing. Each stage has its own time limit, so
# a slow stage cannot starve the others; everything lands in $OUT (logs and Markdown reports).
set -u
OUT=${OUT:-/tmp/gpu_out}
mkdir -p "$OUT"
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
  || { echo "wheel install failed"; exit 1; }
export PYTHONPATH=/tmp/site:$PWD HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false
nvidia-smi --query-gpu=name,memory.total --format=csv | tee "$OUT/gpu.txt"

stage() {  # stage NAME SECONDS COMMAND...
  local name=$1 limit=$2; shift 2
  echo "=== $name (limit ${limit}s) ==="
  timeout "$limit" "$@" > "$OUT/$name.log" 2>&1
  echo "exit $? after ${SECONDS}s total"; tail -n 25 "$OUT/$name.log"
}

# 1. Peak memory after the chunked top-k M-step and the QLoRA teacher-dtype fix (targets: ≤ 1.15× GRPO(+LoRA)), and
#    step times with the E-step's backward actually run (the H200 figures of 2026-11-27 never ran it: see
#    benchmarks/results/gpu_h200/README.md); Eoff rows give the default schedule (E-step every 5 steps) by derivation;
#    _auto: the default chunked E-step (teacher tokens per pass within the student micro-batch's).
stage cost_adapter 230 python -m benchmarks.cost --device cuda --preset gpu --repeats 1 \
  --configs grpo_lora,vpd_adapter_topk_E1,grpo_qlora,vpd_adapter_qlora_topk_E1,vpd_adapter_qlora_topk_E1_auto,vpd_adapter_qlora_topk_Eoff \
  --out "$OUT/cost_gpu_adapter_after.md"
stage cost_shared 100 python -m benchmarks.cost --device cuda --preset gpu --repeats 1 \
  --configs grpo,vpd_shared_topk_E1,vpd_shared_topk_E1_auto,vpd_shared_topk_Eoff --out "$OUT/cost_gpu_shared_after.md"
# 2. Where the QLoRA adapter's training part goes: exact passes and per-phase time on the GPU.
stage passes 70 python -m benchmarks.passes --device cuda --preset gpu --steps 2 \
  --configs grpo_qlora,vpd_adapter_qlora_topk_E1 --out "$OUT/passes_gpu.json"
# 3. The M-step alone on the GPU: materialized vs chunked, Qwen-sized vocabulary.
stage m_step 50 python -m benchmarks.m_step_memory --device cuda --tokens 4096 --vocab 32768,151936 \
  --out "$OUT/m_step_memory_gpu.md"
# Not here: `python -m benchmarks.learning --size large --device cuda` (pretraining 4,000 steps, then 6 methods × 5
# seeds × 150 steps) needs far more than the 15 device-minutes a session gets.
ls -la "$OUT"
