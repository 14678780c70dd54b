#!/usr/bin/env bash
# Creates the virtual environment and installs the project with its test extra.
# PyTorch: an existing install is left alone; otherwise a GPU machine gets the default (CUDA)
# build and a machine without one gets the CPU build, which is 5x smaller.
set -euo pipefail
venv="${1:-.venv}"
torch_version="${LLM_PIPELINE_TORCH_VERSION:-2.13.0}"

[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
py="$venv/bin/python"
"$py" -m pip install --quiet --upgrade pip

if "$py" -c "import torch" 2>/dev/null; then
  echo "setup: keeping the installed torch $("$py" -c 'import torch; print(torch.__version__)')"
elif command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then
  echo "setup: GPU found, installing the default (CUDA) torch"
  "$py" -m pip install --quiet torch
elif "$py" -c "import socket; socket.getaddrinfo('download.pytorch.org', 443)" 2>/dev/null; then
  echo "setup: no GPU, installing the CPU build of torch $torch_version"
  "$py" -m pip install --quiet "torch==$torch_version" --index-url https://download.pytorch.org/whl/cpu \
    || "$py" -m pip install --quiet "torch==$torch_version"
else
  # Offline mirrors (such as this project's CI machines) carry the CPU wheel under the plain version.
  echo "setup: no GPU and no PyTorch index, installing torch $torch_version from the configured package index"
  "$py" -m pip install --quiet "torch==$torch_version"
fi

"$py" -m pip install --quiet -e ".[dev]"
"$py" -m pip check
