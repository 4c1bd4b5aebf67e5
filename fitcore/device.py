"""Where a PyTorch run computes: the notebooks' accelerator line, and whether this machine has one.

Seed 003 (commented out there) and seed 004 choose their device with

    device = torch.accelerator.current_accelerator().type if torch.accelerator.is_available() else "cpu"

``auto`` is that line; ``cuda`` and ``mps`` name one accelerator; ``cpu`` (the default) keeps every
run where it always was. Asking whether an accelerator exists must not cost a PyTorch import in a
process that has none loaded (``import fitcore`` stays light, and the dashboard lists devices before
any run): what the installed wheel and the operating system already say answers it on most machines
(a ``+cpu`` wheel has no CUDA, MPS is macOS-only); only a CUDA or macOS build of PyTorch, in a
process that has not imported it, is asked once in a short subprocess.
"""
from __future__ import annotations

import functools
import json
import os
import platform
import subprocess
import sys
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Mapping

DEVICES: tuple[str, ...] = ("cpu", "cuda", "mps", "auto")
ACCELERATORS: tuple[str, ...] = ("cuda", "mps")  # in the order torch.accelerator prefers them
DEVICE_LABELS: Mapping[str, str] = {
    "cpu": "CPU", "cuda": "CUDA (NVIDIA GPU)", "mps": "MPS (Apple GPU)",
    "auto": "auto: the notebooks' line (an accelerator if there is one, else CPU)",
}
NOTEBOOK_LINE = ('device = torch.accelerator.current_accelerator().type if torch.accelerator.is_available() '
                 'else "cpu"')
PROBE_TIMEOUT = 120.0  # seconds: the subprocess imports PyTorch (1.6 s here, more on a cold disk)


@dataclass(frozen=True)
class DeviceStatus:
    """Whether a device can run PyTorch here, and if not, why not (one sentence)."""

    device: str
    available: bool
    reason: str = ""


@functools.lru_cache(maxsize=1)  # what is installed does not change while a process runs
def _torch_version() -> str | None:
    try:
        return metadata.version("torch")
    except metadata.PackageNotFoundError:
        return None


def _nvidia_driver_present() -> bool:
    return Path("/proc/driver/nvidia").exists() or any(Path("/dev").glob("nvidia[0-9]*"))


def _without_asking_torch(device: str, version: str) -> DeviceStatus | None:
    """What the wheel and the operating system say for sure, or None when only PyTorch can tell."""
    system = platform.system()
    if device == "cuda":
        if system == "Darwin":
            return DeviceStatus(device, False, "PyTorch has no CUDA on macOS")
        if "+cpu" in version:
            return DeviceStatus(device, False, f"this PyTorch ({version}) is a CPU-only build")
        if system == "Linux" and not _nvidia_driver_present():
            return DeviceStatus(device, False, "this machine has no NVIDIA GPU driver")
        return None
    if system != "Darwin":
        return DeviceStatus(device, False, f"MPS is Apple's GPU backend (macOS only); this server runs {system}")
    if platform.machine() != "arm64":
        return DeviceStatus(device, False, "MPS needs an Apple silicon Mac")
    return None


_PROBE = """
import json, torch
cuda = torch.cuda.is_available()
mps = torch.backends.mps.is_available()
print(json.dumps({"cuda": cuda, "cuda_built": torch.version.cuda is not None,
                  "cuda_name": torch.cuda.get_device_name(0) if cuda else "",
                  "mps": mps, "mps_built": torch.backends.mps.is_built()}))
"""


def _loaded_torch_answers() -> dict[str, object]:
    import torch  # already in sys.modules: no import cost
    cuda = torch.cuda.is_available()
    return {"cuda": cuda, "cuda_built": torch.version.cuda is not None,
            "cuda_name": torch.cuda.get_device_name(0) if cuda else "",
            "mps": torch.backends.mps.is_available(), "mps_built": torch.backends.mps.is_built()}


@functools.lru_cache(maxsize=1)  # a machine's GPUs do not come and go while a server runs
def _probe_in_subprocess() -> dict[str, object]:
    try:
        result = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True,
                                timeout=PROBE_TIMEOUT, env=os.environ | {"PYTHONWARNINGS": "ignore"})
        return json.loads(result.stdout.strip().splitlines()[-1])
    except (OSError, subprocess.SubprocessError, ValueError, IndexError) as error:
        return {"error": f"PyTorch could not be asked ({type(error).__name__})"}


def _from_answers(device: str, answers: Mapping[str, object]) -> DeviceStatus:
    if "error" in answers:
        return DeviceStatus(device, False, str(answers["error"]))
    if answers.get(device):
        return DeviceStatus(device, True)
    if not answers.get(f"{device}_built"):
        return DeviceStatus(device, False, f"this PyTorch is built without {device.upper()}")
    return DeviceStatus(device, False, "no CUDA GPU is visible to PyTorch" if device == "cuda"
                        else "MPS is not available on this Mac (macOS 12.3 or later is needed)")


def device_status(device: str) -> DeviceStatus:
    """Whether ``device`` ("cpu", "cuda" or "mps") can run PyTorch on this machine, and why not."""
    if device == "cpu":
        return DeviceStatus("cpu", True)
    if device not in ACCELERATORS:
        raise ValueError(f"device {device!r} is not one of: {', '.join(DEVICES)}")
    version = _torch_version()
    if version is None:
        return DeviceStatus(device, False, "PyTorch is not installed")
    known = _without_asking_torch(device, version)
    if known is not None:
        return known
    answers = _loaded_torch_answers() if "torch" in sys.modules else _probe_in_subprocess()
    return _from_answers(device, answers)


def accelerator_statuses() -> tuple[DeviceStatus, ...]:
    return tuple(device_status(device) for device in ACCELERATORS)


def resolve_device(device: str) -> str:
    """The device a run computes on: ``auto`` becomes the first accelerator available, else cpu."""
    if device != "auto":
        return device
    return next((s.device for s in accelerator_statuses() if s.available), "cpu")


def device_problem(framework: str, device: str) -> str | None:
    """Why a run of this framework cannot use ``device`` here, as one sentence; None when it can."""
    if device not in DEVICES:
        return f"device {device!r} is not one of: {', '.join(DEVICES)}"
    if framework != "torch":
        return None if device == "cpu" else \
            f"device {device!r} applies to the PyTorch implementations only; this one runs on the cpu"
    if device in ("cpu", "auto"):
        return None
    status = device_status(device)
    return None if status.available else f"device {device!r} is not available here: {status.reason}; use cpu"


def describe_accelerators() -> str:
    """One line naming what this machine offers PyTorch, for reports and the Speed page."""
    parts = []
    for status in accelerator_statuses():
        parts.append(f"{status.device}: {'available' if status.available else status.reason}")
    return "; ".join(parts)


# --- memory a run needs, checked before it starts ------------------------------------------------------

CHECK_ABOVE_BYTES = 64 * 2**20  # smaller runs fit anywhere: no need to ask the machine
HEADROOM = 0.8                  # of what is free: the server, the browser and other sessions need the rest


def run_memory(points: int, n_params: int, dtype: str, device: str, framework: str) -> tuple[int, int]:
    """(host bytes, device bytes) a run of ``points`` points needs at its peak, roughly and from above.

    Host: the drawn x and noise in float64, then x, y, Φ (points × params) and the offset in the run's
    dtype, Φ's columns while it is built, and a float64 copy of Φ for the least-squares optimum. A
    PyTorch run adds its tensors: x, y, the features at x and a step's temporaries (residual, its
    square, the gradient's products), about 8 + params values per point; they sit on the device.
    """
    item = 4 if dtype == "float32" else 8
    host = points * (16 + item * (3 + 2 * n_params) + 8 * (3 + n_params))
    tensors = points * item * (8 + n_params) if framework == "torch" else 0
    if device == "cpu":
        return host + tensors, 0
    return host, tensors


def available_host_bytes() -> int | None:
    """Memory the system can still give (MemAvailable on Linux), or None where it cannot be read."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def available_device_bytes(device: str) -> int | None:
    """Free memory on the accelerator, or None where it cannot be read (MPS shares the host's memory).

    CUDA: PyTorch's answer when it is loaded; otherwise nvidia-smi's, so that checking a setting (in the
    dashboard's process, say) does not import PyTorch."""
    if device != "cuda":
        return None
    if "torch" in sys.modules:
        import torch
        return int(torch.cuda.mem_get_info()[0])
    visible = os.environ.get("CUDA_VISIBLE_DEVICES", "").split(",")[0].strip()
    try:
        out = subprocess.run(["nvidia-smi", "--query-gpu=memory.free", "--format=csv,noheader,nounits",
                              *([f"--id={visible}"] if visible else [])], capture_output=True, text=True, timeout=30)
        return int(float(out.stdout.split()[0])) * 2**20
    except (OSError, subprocess.SubprocessError, ValueError, IndexError):
        return None


def _gigabytes(count: int) -> str:
    return f"{count / 2**30:.1f} GB"


def memory_problem(points: int, n_params: int, dtype: str, device: str, framework: str) -> str | None:
    """Why a run of this size will not fit in this machine's free memory, or None when it fits."""
    host, on_device = run_memory(points, n_params, dtype, device, framework)
    if host + on_device < CHECK_ABOVE_BYTES:
        return None
    free = available_host_bytes()
    if free is not None and host > HEADROOM * free:
        return (f"{points:,} points need about {_gigabytes(host)} of memory here and {_gigabytes(free)} is free; "
                "use fewer points" + (" or float32" if dtype == "float64" else ""))
    if on_device:
        free_device = available_device_bytes(device)
        if free_device is not None and on_device > HEADROOM * free_device:
            return (f"{points:,} points need about {_gigabytes(on_device)} on the {device} device and "
                    f"{_gigabytes(free_device)} is free; use fewer points"
                    + (" or float32" if dtype == "float64" else ""))
    return None
