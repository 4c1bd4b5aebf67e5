"""PyTorch tensors with the gradient written by hand, as seed 004 §2: no autograd at all."""
from __future__ import annotations

from typing import Any

import torch

from ..optim import update
from ..problems import Dataset
from .base import StepSettings, Stepper
from .torch_common import TorchLoopStepper


class TorchManualStepper(TorchLoopStepper):
    def __init__(self, data: Dataset, settings: StepSettings) -> None:
        super().__init__(data, settings)
        # φᵢ(x), once: the forward pass's own values, and the constant feature's ones for its gradient
        self.columns = [f.fn(self.x) if value is None else value
                        for f, value in zip(self.problem.features, self.at_x.values)]

    def _step(self, lr: float, t: int) -> Any:
        y_pred = self.at_x.predict(self.params)
        residual = y_pred - self.y
        squared = residual.pow(2)
        loss = squared.mean() if self.settings.reduction == "mean" else squared.sum()
        grad_y_pred = (2.0 * self.scale) * residual  # ∂loss/∂ŷ for s·Σ(ŷ − y)²
        grad = torch.stack([(grad_y_pred * column).sum() for column in self.columns])  # chain rule: × φᵢ(x)
        self.params, self.slots = update(self.settings.optimizer, self.params, grad, self.slots, lr, t, torch.sqrt)
        return self._loss_value(loss)


def make_stepper(data: Dataset, settings: StepSettings) -> Stepper:
    if settings.compiled:
        from .torch_compiled import TorchCompiledStepper
        return TorchCompiledStepper(data, settings, "manual")
    return TorchManualStepper(data, settings)
