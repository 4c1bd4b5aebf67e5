#!/usr/bin/env bash
# The GPU check of issue 14, as one script for a machine with a CUDA GPU (or Apple's MPS) and PyTorch.
# Run it as-is from the repository root:   bash benchmarks/device_check.sh
# It needs numpy and torch only (no Streamlit, no TensorFlow). It prints the device, runs the device tests
# (CUDA/MPS against the CPU within the documented tolerance) when pytest is there, then sweeps points ×
# PyTorch style × eager/compiled × device and writes the rows into BENCHMARKS.md (other groups kept).
# Budget: about 6-8 minutes on an H200 machine (compiles dominate); set DEVICE_CHECK_TIMEOUT to change the cap.
set -u
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-$( [ -x .venv/bin/python ] && echo .venv/bin/python || echo python3 )}"
LIMIT="${DEVICE_CHECK_TIMEOUT:-540}"
mkdir -p "${OUT:-/tmp}"

"$PYTHON" - <<'PY'
import torch
print("torch", torch.__version__, "| CUDA", torch.version.cuda, "| cuda available:", torch.cuda.is_available(),
      "| mps available:", torch.backends.mps.is_available())
if torch.cuda.is_available():
    print("GPU:", torch.cuda.get_device_name(0), f"{torch.cuda.mem_get_info()[1] / 2**30:.0f} GiB")
from fitcore.device import describe_accelerators, resolve_device
print("fitcore sees:", describe_accelerators(), "| auto ->", resolve_device("auto"))
PY

if "$PYTHON" -c "import pytest" 2>/dev/null; then
    timeout 180 "$PYTHON" -m pytest tests/test_device.py -q -p no:cacheprovider 2>&1 | tail -25 | tee "${OUT:-/tmp}/device_tests.txt"
else
    echo "pytest is not installed here: skipping tests/test_device.py"
fi

timeout "$LIMIT" "$PYTHON" -m benchmarks --only device 2>&1 | tee "${OUT:-/tmp}/device_benchmark.txt"
status=${PIPESTATUS[0]}
cp BENCHMARKS.md "${OUT:-/tmp}/BENCHMARKS.md" 2>/dev/null
exit "$status"
