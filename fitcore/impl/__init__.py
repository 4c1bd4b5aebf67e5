"""The six implementations, chosen by id. Frameworks load only when an implementation is built."""
from __future__ import annotations

import importlib
import importlib.util
from dataclasses import dataclass
from typing import Mapping

from ..problems import Dataset
from ..quadratic import QuadraticLoss
from .base import StepSettings, Stepper, TrainState
from .toolchain import torch_compile_unavailable

PIP_COMMANDS: Mapping[str, str] = {
    "numpy": "pip install numpy",
    "torch": "pip install torch==2.13.0",
    "tensorflow": "pip install tensorflow-cpu==2.21.0",
}
FRAMEWORK_NAMES: Mapping[str, str] = {"numpy": "NumPy", "torch": "PyTorch", "tensorflow": "TensorFlow"}


class FrameworkMissing(ImportError):
    """The implementation's framework cannot be imported; the message gives the pip command."""


class CompilerMissing(FrameworkMissing):
    """The compiled path needs a tool this machine lacks (torch.compile: a C++ compiler); the message
    says which and how to get it. A FrameworkMissing, so every caller that reports a missing framework
    reports this the same way."""


class CompileFailed(RuntimeError):
    """Compiling the run's code failed when it was tried; the message says so in one sentence."""


@dataclass(frozen=True)
class Implementation:
    id: str
    label: str
    framework: str
    module: str
    compiled_label: str
    blurb: str
    # Built from the least-squares solution itself (its spectrum and optimum), not from the data alone.
    from_solution: bool = False

    @property
    def pip_command(self) -> str:
        return PIP_COMMANDS[self.framework]


IMPLEMENTATIONS: Mapping[str, Implementation] = {impl.id: impl for impl in (
    Implementation("numpy", "NumPy — hand-written gradients", "numpy", "numpy_manual",
                   "Gram matrix (cost independent of the number of points)",
                   "The notebooks' NumPy loop: forward formula, gradient 2s·Φᵀr written out beside it."),
    Implementation("torch-manual", "PyTorch — tensors, hand-written gradients", "torch", "torch_manual",
                   "torch.compile (8 steps unrolled per call)",
                   "Seed 004 §2: torch tensors, the same hand-written gradient, no autograd."),
    Implementation("torch-autograd", "PyTorch — autograd", "torch", "torch_autograd",
                   "torch.compile + torch.func (8 steps unrolled per call)",
                   "requires_grad, loss.backward(), update by hand under torch.no_grad() (seeds 001–004)."),
    Implementation("torch-nn", "PyTorch — nn.Module + torch.optim", "torch", "torch_nn",
                   "torch.compile + torch.func (8 steps unrolled per call)",
                   "nn.Linear over the features, nn.MSELoss and a torch.optim optimizer (seeds 000, 003)."),
    Implementation("tf-tape", "TensorFlow — GradientTape + Keras optimizer", "tensorflow", "tf_tape",
                   "XLA: a whole chunk inside one tf.function(jit_compile=True) while_loop",
                   "tf.GradientTape and keras.optimizers, eager, as seed 000."),
    Implementation("analytic", "Exact — closed form (float64)", "numpy", "analytic",
                   "always exact; nothing to compile",
                   "Eigen-decomposition of the Hessian: any step of SGD or momentum at once, float64.",
                   from_solution=True),
)}

FRAMEWORK_MODULES: Mapping[str, str] = {"numpy": "numpy", "torch": "torch", "tensorflow": "tensorflow"}


def get_implementation(impl_id: str) -> Implementation:
    try:
        return IMPLEMENTATIONS[impl_id]
    except KeyError:
        raise KeyError(f"unknown implementation {impl_id!r}; choose one of {', '.join(IMPLEMENTATIONS)}") from None


def framework_available(framework: str) -> bool:
    """Whether the framework can be found, without importing it."""
    try:
        return importlib.util.find_spec(FRAMEWORK_MODULES[framework]) is not None
    except (ImportError, ValueError):
        return False


def is_available(impl_id: str) -> bool:
    return framework_available(get_implementation(impl_id).framework)


def missing_message(impl_id: str) -> str:
    impl = get_implementation(impl_id)
    return f"{FRAMEWORK_NAMES[impl.framework]} is not installed here: {impl.pip_command}"


def compiled_unavailable(impl_id: str, device: str = "cpu") -> str | None:
    """None where the implementation's compiled path can run here; otherwise the reason and the fix.
    Only PyTorch's on the CPU needs anything outside Python: inductor builds C++ there (on a GPU it
    writes Triton or Metal kernels instead; XLA and the Gram matrix bring their own)."""
    if get_implementation(impl_id).framework != "torch" or device != "cpu":
        return None
    return torch_compile_unavailable()


def make_stepper(impl_id: str, data: Dataset, settings: StepSettings, quad: QuadraticLoss | None = None) -> Stepper:
    """Build an implementation's stepper, importing its framework now. ``quad`` is the data's least-squares
    solution where the caller has one (a run's experiment): the exact engine is built from it instead of
    solving again; the others compute with their own frameworks and take none."""
    impl = get_implementation(impl_id)
    if not framework_available(impl.framework):
        raise FrameworkMissing(missing_message(impl_id))
    reason = compiled_unavailable(impl_id, settings.device) if settings.compiled else None
    if reason is not None:
        raise CompilerMissing(f"{reason}; or run without the compiled path (the same updates, eagerly)")
    try:
        module = importlib.import_module(f"{__name__}.{impl.module}")
    except ImportError as error:
        raise FrameworkMissing(f"{missing_message(impl_id)} ({error})") from error
    except OSError as error:  # installed, but a shared library it loads is missing or broken
        raise FrameworkMissing(f"{FRAMEWORK_NAMES[impl.framework]} is installed but cannot be loaded here "
                               f"({error}); reinstall it: {impl.pip_command}") from error
    if quad is not None and impl.from_solution:
        return module.make_stepper(data, settings, quad)
    return module.make_stepper(data, settings)


__all__ = ["IMPLEMENTATIONS", "Implementation", "FrameworkMissing", "CompilerMissing", "CompileFailed",
           "compiled_unavailable", "StepSettings", "Stepper", "TrainState",
           "get_implementation", "framework_available", "is_available", "missing_message", "make_stepper",
           "PIP_COMMANDS", "FRAMEWORK_NAMES"]
