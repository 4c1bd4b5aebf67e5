"""PyTorch's compiled path: torch.compile over a chunk of UNROLL steps.

Measured here (2 cores): a compiled single step still pays ~20 µs of Python and dispatch per
call, and autograd's backward() breaks the graph. So a chunk unrolls UNROLL steps, and the
autograd styles take their gradient with torch.func.grad_and_value, which torch.compile traces
whole. The first call compiles (2–10 s, reported apart as compile time); later runs with the
same problem, optimizer and reduction reuse it. Updates use fitcore's written-out formulas.

On a CUDA device the chunk is compiled with ``mode="reduce-overhead"``: Inductor captures it in a
CUDA graph, so a call replays the whole chunk's kernels with one launch instead of paying a launch
per operation (eager CUDA loses to the CPU below ~50,000 points on exactly that cost). A graph's
outputs live in memory the next replay reuses, so the stepper copies what it keeps before the next call.
"""
from __future__ import annotations

import functools
import hashlib
from typing import Any, Callable, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch._dynamo.exc import TorchDynamoException
from torch.func import grad_and_value

from ..optim import SLOTS, init_slots, update
from ..problems import Dataset, Model, Problem
from . import CompileFailed
from .base import StepSettings, Stepper, TrainState
from .toolchain import install_hint, record_compile_failure
from .torch_common import TORCH_DTYPES, as_tensor, to_numpy

UNROLL = 8


def _reduce(squared: torch.Tensor, reduction: str) -> torch.Tensor:
    return squared.mean() if reduction == "mean" else squared.sum()


def _manual_gradient(problem: Problem, reduction: str) -> Callable[..., tuple[torch.Tensor, torch.Tensor]]:
    def gradient(params: torch.Tensor, x: torch.Tensor, y: torch.Tensor, scale: torch.Tensor) -> Any:
        residual = problem.predict(x, params) - y
        grad_y_pred = 2.0 * scale * residual
        grad = torch.stack([(grad_y_pred * f.fn(x)).sum() for f in problem.features])
        return grad, _reduce(residual.pow(2), reduction)
    return gradient


def _autograd_gradient(problem: Problem, reduction: str) -> Callable[..., tuple[torch.Tensor, torch.Tensor]]:
    def loss(params: torch.Tensor, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return _reduce((problem.predict(x, params) - y).pow(2), reduction)
    with_grad = grad_and_value(loss)
    return lambda params, x, y, scale: with_grad(params, x, y)


def _nn_gradient(problem: Problem, reduction: str) -> Callable[..., tuple[torch.Tensor, torch.Tensor]]:
    bias_index = [i for i, f in enumerate(problem.features) if f.is_constant]
    weight_index = [i for i, f in enumerate(problem.features) if not f.is_constant]

    def loss(params: torch.Tensor, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        inputs = torch.stack([problem.features[i].fn(x) for i in weight_index], dim=1) if weight_index \
            else x.new_zeros((x.shape[0], 0))
        weight = params[weight_index].reshape(1, -1)
        bias = params[bias_index] if bias_index else None
        offset = problem.offset.fn(x) if problem.offset is not None else 0.0
        prediction = F.linear(inputs, weight, bias).flatten() + offset  # what nn.Linear computes
        return F.mse_loss(prediction, y, reduction=reduction)
    with_grad = grad_and_value(loss)
    return lambda params, x, y, scale: with_grad(params, x, y)


GRADIENTS = {"manual": _manual_gradient, "autograd": _autograd_gradient, "nn": _nn_gradient}


@functools.lru_cache(maxsize=64)  # bounded: every standardised custom fit is a model of its own
def compiled_chunk(style: str, model: Model, optimizer: str, reduction: str, dtype: str = "",
                   points: int = 0, device: str = "cpu") -> Callable[..., Any]:
    """One compiled function per style, model, optimizer, reduction, dtype and size, shared by every
    run: it is pure (all data are arguments), so sharing it shares no training state."""
    gradient = GRADIENTS[style](model.problem, reduction)
    names = SLOTS[optimizer]

    def chunk(params: torch.Tensor, slots: tuple[torch.Tensor, ...], x: torch.Tensor, y: torch.Tensor,
              scale: torch.Tensor, lrs: torch.Tensor, t0: torch.Tensor, count: torch.Tensor) -> Any:
        losses, trail = [], [params]
        state = dict(zip(names, slots))
        for i in range(UNROLL):
            grad, loss = gradient(params, x, y, scale)
            new_params, new_state = update(optimizer, params, grad, state, lrs[i], t0 + i, torch.sqrt)
            active = count > i  # steps past the requested count leave the state alone
            params = torch.where(active, new_params, params)
            state = {k: torch.where(active, new_state[k], state[k]) for k in names}
            losses.append(loss)
            trail.append(params)
        return params, tuple(state[k] for k in names), torch.stack(losses), torch.stack(trail)

    # torch._dynamo allows 8 compilations per code object and fails hard past them (fullgraph):
    # give every configuration its own code object, so a process may compile any number of them.
    digest = hashlib.sha1("|".join(model.key).encode()).hexdigest()[:12]
    chunk.__code__ = chunk.__code__.replace(
        co_name=f"chunk_{style}_{optimizer}_{reduction}_{dtype}_{points}_{device}_{digest}")
    return torch.compile(chunk, fullgraph=True, dynamic=False, mode=compile_mode(device))


def compile_mode(device: str) -> str:
    """torch.compile's mode: CUDA graphs on a CUDA device, Inductor's default elsewhere."""
    return "reduce-overhead" if device == "cuda" else "default"


def compile_failure(error: BaseException) -> CompileFailed:
    """One sentence for a failed torch.compile; a missing or broken C++ compiler is remembered, so the
    compiled path is no longer offered in this process."""
    first_line = (str(error).strip().splitlines() or [""])[0][:200]
    if record_compile_failure(error):
        return CompileFailed(f"torch.compile could not build this run's code: the C++ compiler failed "
                             f"({first_line}). {install_hint()[0].upper() + install_hint()[1:]}, or turn the compiled path off.")
    return CompileFailed(f"torch.compile failed on this run ({type(error).__name__}: {first_line}); "
                         "turn the compiled path off to run it eagerly.")


class TorchCompiledStepper(Stepper):
    def __init__(self, data: Dataset, settings: StepSettings, style: str) -> None:
        super().__init__(data, settings)
        self.dtype = TORCH_DTYPES[str(data.dtype)]
        self.device = settings.device
        self.graphed = compile_mode(self.device) == "reduce-overhead"
        self.style = style
        self.names = SLOTS[settings.optimizer]
        self.x = as_tensor(data.x, self.dtype, self.device)
        self.y = as_tensor(data.y, self.dtype, self.device)
        self.scale_t = torch.tensor(self.scale, dtype=self.dtype, device=self.device)
        self.chunk = compiled_chunk(style, self.problem.model, settings.optimizer, settings.reduction,
                                    str(data.dtype), len(data.x), self.device)
        self.load(TrainState(data.init.astype(np.float64), {}, 0))

    def _call(self, count: int) -> Any:
        lrs = np.zeros(UNROLL)
        lrs[:count] = self.lrs(self.t, count)
        device = self.device
        if self.graphed:
            torch.compiler.cudagraph_mark_step_begin()  # the last replay's outputs are copied or dropped
        try:
            outputs = self.chunk(self.params, self.slots, self.x, self.y, self.scale_t,
                                 torch.tensor(lrs, dtype=self.dtype, device=device),
                                 torch.tensor(float(self.t), dtype=self.dtype, device=device),
                                 torch.tensor(count, device=device))
        except TorchDynamoException as error:  # InductorError, BackendCompilerFailed, …
            raise compile_failure(error) from error
        if not self.graphed:
            return outputs
        params, slots, losses, trail = outputs  # in the graph's memory, which the next replay overwrites
        return params.clone(), tuple(s.clone() for s in slots), losses.clone(), trail.clone()

    def warmup(self) -> None:
        self._call(UNROLL)  # compiles; the returned state is discarded

    def run(self, n: int, record: Sequence[int] = ()) -> tuple[np.ndarray, np.ndarray]:
        losses, trail = [], [self.params.unsqueeze(0)]
        done = 0
        while done < n:
            count = min(UNROLL, n - done)
            self.params, self.slots, chunk_losses, chunk_trail = self._call(count)
            losses.append(chunk_losses[:count])
            trail.append(chunk_trail[1:count + 1])
            self.t += count
            done += count
        all_losses = to_numpy(torch.cat(losses)) if losses else np.empty(0)
        all_params = to_numpy(torch.cat(trail))
        return all_losses, all_params[np.asarray(list(record), dtype=np.int64)].reshape(len(record), all_params.shape[1])

    def state(self) -> TrainState:
        slots = {k: to_numpy(v) for k, v in zip(self.names, self.slots)}
        return TrainState(to_numpy(self.params), slots, self.t)

    def load(self, state: TrainState) -> None:
        self.params = as_tensor(state.params, self.dtype, self.device)
        fresh = init_slots(self.settings.optimizer, lambda: torch.zeros_like(self.params))
        self.slots = tuple(as_tensor(state.slots[k], self.dtype, self.device) if k in state.slots else fresh[k]
                           for k in self.names)
        self.t = state.t

    def loss(self) -> float:
        gradient = GRADIENTS[self.style](self.problem, self.settings.reduction)
        return float(gradient(self.params, self.x, self.y, self.scale_t)[1])
