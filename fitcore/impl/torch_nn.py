"""PyTorch nn: nn.Linear over the features, nn.MSELoss and a torch.optim optimizer (seeds 000, 003).

θ maps onto the layer as seed 003 reads it back: the constant feature's parameter is the bias,
the others are the weight's columns in order.
"""
from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import torch

from ..optim import ADAM_BETAS, EPS, MOMENTUM, RMS_ALPHA
from ..problems import Dataset
from .base import LoopStepper, StepSettings, Stepper, TrainState
from .torch_common import TORCH_DTYPES, as_tensor, stacked_to_numpy, to_numpy

# torch.optim's state names for fitcore's slots
TORCH_SLOT_NAMES = {"velocity": "momentum_buffer", "square_avg": "square_avg",
                    "exp_avg": "exp_avg", "exp_avg_sq": "exp_avg_sq"}


def make_optimizer(name: str, parameters: Any, lr: float) -> torch.optim.Optimizer:
    if name == "sgd":
        return torch.optim.SGD(parameters, lr=lr)
    if name == "momentum":
        return torch.optim.SGD(parameters, lr=lr, momentum=MOMENTUM)
    if name == "rmsprop":
        return torch.optim.RMSprop(parameters, lr=lr, alpha=RMS_ALPHA, eps=EPS)
    return torch.optim.Adam(parameters, lr=lr, betas=ADAM_BETAS, eps=EPS)


def make_scheduler(settings: StepSettings, optimizer: torch.optim.Optimizer) -> Any:
    s = settings.schedule
    if s.kind == "step":
        return torch.optim.lr_scheduler.StepLR(optimizer, step_size=s.step_size, gamma=s.gamma)
    if s.kind == "exponential":
        return torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=s.gamma)
    if s.kind == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=max(settings.total_steps, 1),
                                                          eta_min=s.lr_min)
    return None


class TorchNNStepper(LoopStepper):
    def __init__(self, data: Dataset, settings: StepSettings) -> None:
        super().__init__(data, settings)
        self.dtype = TORCH_DTYPES[str(data.dtype)]
        self.device = settings.device
        features = self.problem.features
        self.bias_index = next((i for i, f in enumerate(features) if f.is_constant), None)
        self.weight_index = [i for i, f in enumerate(features) if not f.is_constant]
        self.inputs = as_tensor(data.features[:, self.weight_index], self.dtype, self.device)  # (x, x², x³) as in seed 003
        # Only a model with an offset term (x² + bias) adds it: adding zeros would cost an operation
        # forward and one backward on every step for nothing.
        self.offset = as_tensor(data.offset, self.dtype, self.device) if self.problem.offset is not None else None
        self.y = as_tensor(data.y, self.dtype, self.device)
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Initializing zero-element tensors")
            linear = torch.nn.Linear(len(self.weight_index), 1, bias=self.bias_index is not None, dtype=self.dtype,
                                     device=self.device)
        # The layer's weight and bias are views of one flat vector that torch.optim updates in place:
        # a recorded step is then one read of it, not a concatenation (a short run records most steps).
        width = len(self.weight_index)
        self.flat = torch.zeros(width + (self.bias_index is not None), dtype=self.dtype, device=self.device)
        linear.weight = torch.nn.Parameter(self.flat[:width].view(1, width))
        if self.bias_index is not None:
            linear.bias = torch.nn.Parameter(self.flat[width:])
        self.model = torch.nn.Sequential(linear, torch.nn.Flatten(0, 1))
        self.linear = linear
        self.loss_fn = torch.nn.MSELoss(reduction=settings.reduction)
        self.load(TrainState(data.init.astype(np.float64), {}, 0))

    def _parameters(self) -> list[torch.nn.Parameter]:
        return [self.linear.weight] + ([self.linear.bias] if self.bias_index is not None else [])

    def _split(self, values: np.ndarray) -> list[torch.Tensor]:
        """θ (or a slot shaped like θ) as tensors shaped like the layer's weight and bias."""
        parts = [as_tensor(values[self.weight_index], self.dtype, self.device).reshape(1, -1)]
        if self.bias_index is not None:
            parts.append(as_tensor(values[[self.bias_index]], self.dtype, self.device))
        return parts

    def _join(self, parts: list[torch.Tensor]) -> np.ndarray:
        values = np.empty(self.problem.n_params)
        values[self.weight_index] = to_numpy(parts[0]).reshape(-1)
        if self.bias_index is not None:
            values[self.bias_index] = float(parts[1].detach().reshape(-1)[0])
        return values

    def _forward_loss(self) -> torch.Tensor:
        prediction = self.model(self.inputs)
        return self.loss_fn(prediction + self.offset if self.offset is not None else prediction, self.y)

    def _step(self, lr: float, t: int) -> Any:
        loss = self._forward_loss()
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        if self.scheduler is not None:
            self.scheduler.step()
        # On the CPU a float, not a detached tensor: keeping a step's tensor alive until the chunk ends
        # costs the allocator more than reading the scalar (nothing waits for it there). On a device the
        # tensor: .item() would wait for the device every step.
        return loss.item() if self.device == "cpu" else loss.detach()

    def _losses_to_numpy(self, losses: list[Any]) -> np.ndarray:
        return stacked_to_numpy(losses)

    def _params(self) -> np.ndarray:
        return self._join(self._parameters())

    def _snapshot(self) -> list[float]:
        # Python floats: a short run records most steps, and thousands of small tensors kept alive to
        # the chunk's end cost the allocator more than reading four numbers out.
        # weight columns, then the bias; on a device a copy that stays there until the chunk ends
        return self.flat.tolist() if self.device == "cpu" else self.flat.detach().clone()

    def _snapshots_to_numpy(self, snapshots: list[Any]) -> np.ndarray:
        layer_order = stacked_to_numpy(snapshots)  # weight columns, then the bias
        values = np.empty((len(snapshots), self.problem.n_params))
        values[:, self.weight_index] = layer_order[:, :len(self.weight_index)]
        if self.bias_index is not None:
            values[:, self.bias_index] = layer_order[:, -1]
        return values

    def state(self) -> TrainState:
        slots: dict[str, np.ndarray] = {}
        for slot, torch_name in TORCH_SLOT_NAMES.items():
            parts = [self.optimizer.state.get(p, {}).get(torch_name) for p in self._parameters()]
            if all(part is not None for part in parts):
                slots[slot] = self._join(parts)
        return TrainState(self._params(), slots, self.t)

    def load(self, state: TrainState) -> None:
        with torch.no_grad():
            for param, value in zip(self._parameters(), self._split(state.params)):
                param.copy_(value)
        lr = self.settings.schedule.at(self.settings.lr, state.t, self.settings.total_steps)
        self.optimizer = make_optimizer(self.settings.optimizer, self._parameters(), self.settings.lr)
        self.scheduler = make_scheduler(self.settings, self.optimizer)
        if self.scheduler is not None:
            self.scheduler.last_epoch = state.t
        if state.t > 0:  # at t = 0 the scheduler's own starting value stands (it may differ by an ulp)
            for group in self.optimizer.param_groups:
                group["lr"] = lr
        if state.t > 0:
            for slot, torch_name in TORCH_SLOT_NAMES.items():
                if slot in state.slots:
                    for param, value in zip(self._parameters(), self._split(state.slots[slot])):
                        self.optimizer.state[param][torch_name] = value.clone()
                        if self.settings.optimizer in ("rmsprop", "adam"):
                            self.optimizer.state[param]["step"] = torch.tensor(float(state.t))
        self.t = state.t

    def loss(self) -> float:
        with torch.no_grad():
            return float(self._forward_loss())


def make_stepper(data: Dataset, settings: StepSettings) -> Stepper:
    if settings.compiled:
        from .torch_compiled import TorchCompiledStepper
        return TorchCompiledStepper(data, settings, "nn")
    return TorchNNStepper(data, settings)
