#!/usr/bin/env bash
# GPU check (one GPU, under 8 minutes on an H200): a random ~1.1B Llama built locally, LoRA and
# QLoRA for a fixed number of steps at sequence length 2048 with packing; prints tokens/s, MFU
# and peak memory next to the preflight estimate. Extra arguments go to benchmarks/gpu_check.py
# (e.g. --steps 30 --batch-size 8, or --tiny for a 2-step CPU run of the same code).
set -euo pipefail
cd "$(dirname "$0")/.."
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-4}" PYTHONUNBUFFERED=1
PYTHON="${PYTHON:-$( [ -x .venv/bin/python ] && echo .venv/bin/python || echo python3 )}"
if command -v nvidia-smi >/dev/null; then
  nvidia-smi --query-gpu=name,memory.total,memory.used,driver_version --format=csv
fi
"$PYTHON" -c "import torch, transformers, peft; print('torch', torch.__version__, 'transformers', transformers.__version__, 'peft', peft.__version__, 'cuda', torch.cuda.is_available())"
PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" timeout 480 "$PYTHON" benchmarks/gpu_check.py "$@"
