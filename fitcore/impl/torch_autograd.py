"""PyTorch autograd: requires_grad, loss.backward(), the update by hand under torch.no_grad()."""
from __future__ import annotations

from typing import Any

import torch

from ..optim import update
from ..problems import Dataset
from .base import StepSettings, Stepper
from .torch_common import TorchLoopStepper


class TorchAutogradStepper(TorchLoopStepper):
    def _step(self, lr: float, t: int) -> Any:
        params = self.params.requires_grad_(True)
        loss = self._forward_loss(params)
        loss.backward()
        with torch.no_grad():
            # The update is a new tensor made outside the graph: it becomes θ for the next step, which
            # is what the notebooks' in-place `params -= lr * grad; grad = None` leaves, one copy fewer.
            self.params, self.slots = update(self.settings.optimizer, params, params.grad, self.slots, lr, t,
                                             torch.sqrt)
        return self._loss_value(loss)


def make_stepper(data: Dataset, settings: StepSettings) -> Stepper:
    if settings.compiled:
        from .torch_compiled import TorchCompiledStepper
        return TorchCompiledStepper(data, settings, "autograd")
    return TorchAutogradStepper(data, settings)
