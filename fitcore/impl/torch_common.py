"""What the three PyTorch styles share: tensors from the dataset, and state in and out."""
from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ..optim import init_slots
from ..problems import Dataset
from .base import LoopStepper, StepSettings, TrainState

TORCH_DTYPES = {"float32": torch.float32, "float64": torch.float64}


def as_tensor(values: np.ndarray, dtype: torch.dtype) -> torch.Tensor:
    return torch.tensor(np.asarray(values), dtype=dtype)


class TorchLoopStepper(LoopStepper):
    """Eager torch loop whose parameters are one vector θ and whose slots follow ``fitcore.optim``."""

    def __init__(self, data: Dataset, settings: StepSettings) -> None:
        super().__init__(data, settings)
        self.dtype = TORCH_DTYPES[str(data.dtype)]
        self.x = as_tensor(data.x, self.dtype)
        self.y = as_tensor(data.y, self.dtype)
        self.at_x = self.problem.features_at(self.x)
        self.load(TrainState(data.init.astype(np.float64), {}, 0))

    def _forward_loss(self, params: torch.Tensor) -> torch.Tensor:
        residual = self.at_x.predict(params) - self.y
        squared = residual.pow(2)
        return squared.mean() if self.settings.reduction == "mean" else squared.sum()

    def _params(self) -> np.ndarray:
        return self.params.detach().to(torch.float64).numpy().copy()

    def _snapshot(self) -> list[float]:
        # Python floats: a short run records most steps, and thousands of small tensors kept alive to
        # the chunk's end cost the allocator more than reading a few numbers out.
        return self.params.detach().tolist()

    def state(self) -> TrainState:
        slots = {k: v.detach().to(torch.float64).numpy().copy() for k, v in self.slots.items()}
        return TrainState(self._params(), slots, self.t)

    def load(self, state: TrainState) -> None:
        self.params = as_tensor(state.params, self.dtype)
        fresh = init_slots(self.settings.optimizer, lambda: torch.zeros_like(self.params))
        self.slots = {k: as_tensor(state.slots[k], self.dtype) if k in state.slots else v for k, v in fresh.items()}
        self.t = state.t

    def loss(self) -> float:
        with torch.no_grad():
            return float(self._forward_loss(self.params))
