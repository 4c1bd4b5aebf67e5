"""What the three PyTorch styles share: tensors from the dataset on the run's device, and state in and out.

On an accelerator the data, θ and the optimizer's slots live on the device; the loop then keeps each
step's loss and recorded θ as device tensors and reads them back once per chunk, since reading one
number (``.item()``) waits for the device and would cost every step a round trip.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import torch

from ..optim import init_slots
from ..problems import Dataset
from .base import LoopStepper, StepSettings, TrainState

TORCH_DTYPES = {"float32": torch.float32, "float64": torch.float64}


def as_tensor(values: np.ndarray, dtype: torch.dtype, device: str = "cpu") -> torch.Tensor:
    return torch.tensor(np.asarray(values), dtype=dtype, device=device)


def to_numpy(tensor: torch.Tensor) -> np.ndarray:
    """A float64 NumPy copy, from whatever device the tensor is on."""
    return tensor.detach().to("cpu", torch.float64).numpy().copy()


def stacked_to_numpy(values: Sequence[Any]) -> np.ndarray:
    """Per-step values (Python floats or lists on the CPU, device tensors elsewhere) as one float64 array."""
    if values and isinstance(values[0], torch.Tensor):
        return to_numpy(torch.stack(list(values)))
    return np.array(values, dtype=np.float64)


class TorchLoopStepper(LoopStepper):
    """Eager torch loop whose parameters are one vector θ and whose slots follow ``fitcore.optim``."""

    def __init__(self, data: Dataset, settings: StepSettings) -> None:
        super().__init__(data, settings)
        self.dtype = TORCH_DTYPES[str(data.dtype)]
        self.device = settings.device
        self.x = as_tensor(data.x, self.dtype, self.device)
        self.y = as_tensor(data.y, self.dtype, self.device)
        self.at_x = self.problem.features_at(self.x)
        self.load(TrainState(data.init.astype(np.float64), {}, 0))

    def _forward_loss(self, params: torch.Tensor) -> torch.Tensor:
        residual = self.at_x.predict(params) - self.y
        squared = residual.pow(2)
        return squared.mean() if self.settings.reduction == "mean" else squared.sum()

    def _loss_value(self, loss: torch.Tensor) -> Any:
        # On the CPU a float: step tensors kept alive to the chunk's end cost the allocator more. On a
        # device the tensor: .item() would wait for the device every step.
        return loss.item() if self.device == "cpu" else loss.detach()

    def _losses_to_numpy(self, losses: list[Any]) -> np.ndarray:
        return stacked_to_numpy(losses)

    def _params(self) -> np.ndarray:
        return to_numpy(self.params)

    def _snapshot(self) -> Any:
        # Python floats on the CPU: a short run records most steps, and thousands of small tensors kept
        # alive to the chunk's end cost the allocator more than reading a few numbers out. On a device a
        # copy that stays there until the chunk ends.
        return self.params.detach().tolist() if self.device == "cpu" else self.params.detach().clone()

    def _snapshots_to_numpy(self, snapshots: list[Any]) -> np.ndarray:
        return stacked_to_numpy(snapshots).reshape(len(snapshots), self.problem.n_params)

    def state(self) -> TrainState:
        slots = {k: to_numpy(v) for k, v in self.slots.items()}
        return TrainState(self._params(), slots, self.t)

    def load(self, state: TrainState) -> None:
        self.params = as_tensor(state.params, self.dtype, self.device)
        fresh = init_slots(self.settings.optimizer, lambda: torch.zeros_like(self.params))
        self.slots = {k: as_tensor(state.slots[k], self.dtype, self.device) if k in state.slots else v
                      for k, v in fresh.items()}
        self.t = state.t

    def loss(self) -> float:
        with torch.no_grad():
            return float(self._forward_loss(self.params))
