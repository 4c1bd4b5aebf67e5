"""The notebooks' own loops, written out with no engine: what fitcore's engine is measured against.

Each loop is the seed notebook's code for its framework (the variable names and operations the
notebook uses), run on the same data fitcore draws, with the same settings. The only addition is
that the lines a notebook prints are kept in a list rather than written to the terminal. Each
returns its final parameters, so the benchmark can check that it computed what the engine did.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from fitcore import RunConfig, make_dataset
from fitcore.config import problem_of
from fitcore.problems import Dataset


def numpy_sine_cubic(data: Dataset, lr: float, steps: int) -> np.ndarray:
    """Seed 003/004 §1: NumPy, the gradient of the summed squared error written out."""
    x, y = data.x, data.y
    a, b, c, d = (float(v) for v in data.init)
    printed = []
    for t in range(steps):
        y_pred = a + b * x + c * x ** 2 + d * x ** 3
        loss = np.square(y_pred - y).sum()
        if t % 100 == 99:
            printed.append(f"{t} {loss}")
        grad_y_pred = 2.0 * (y_pred - y)
        grad_a = grad_y_pred.sum()
        grad_b = (grad_y_pred * x).sum()
        grad_c = (grad_y_pred * x ** 2).sum()
        grad_d = (grad_y_pred * x ** 3).sum()
        a -= lr * grad_a
        b -= lr * grad_b
        c -= lr * grad_c
        d -= lr * grad_d
    return np.array([a, b, c, d], dtype=np.float64)


def torch_manual_sine_cubic(data: Dataset, lr: float, steps: int) -> np.ndarray:
    """Seed 004 §2: torch tensors, the same hand-written gradient, no autograd."""
    import torch
    dtype = getattr(torch, str(data.dtype))
    x, y = torch.tensor(data.x, dtype=dtype), torch.tensor(data.y, dtype=dtype)
    a, b, c, d = (torch.tensor(float(v), dtype=dtype) for v in data.init)
    printed = []
    for t in range(steps):
        y_pred = a + b * x + c * x ** 2 + d * x ** 3
        loss = (y_pred - y).pow(2).sum().item()
        if t % 100 == 99:
            printed.append(f"{t} {loss}")
        grad_y_pred = 2.0 * (y_pred - y)
        grad_a = grad_y_pred.sum()
        grad_b = (grad_y_pred * x).sum()
        grad_c = (grad_y_pred * x ** 2).sum()
        grad_d = (grad_y_pred * x ** 3).sum()
        a -= lr * grad_a
        b -= lr * grad_b
        c -= lr * grad_c
        d -= lr * grad_d
    return np.array([float(v) for v in (a, b, c, d)])


def torch_autograd_recovery(data: Dataset, lr: float, steps: int) -> np.ndarray:
    """Seed 002: params.requires_grad_(), mse, loss.backward(), params.data -= lr·grad, records kept."""
    import torch
    dtype = getattr(torch, str(data.dtype))
    x, y = torch.tensor(data.x, dtype=dtype), torch.tensor(data.y, dtype=dtype)
    params = torch.tensor(data.init, dtype=dtype).requires_grad_()

    def f(x: torch.Tensor, params: torch.Tensor) -> torch.Tensor:
        a, b, c = params
        return a * (x**2) + b * x + c

    def mse(yhat: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return ((yhat - y) ** 2).mean()

    record_interval = 100_000
    preds_list, params_list = [], []
    for i in range(steps):
        record = i % record_interval == 0
        yhat = f(x, params)
        loss = mse(yhat, y)
        loss.backward()
        params.data -= lr * params.grad.data
        params.grad = None
        if record:
            preds_list.append(yhat.detach())
            params_list.append(params.detach().clone())
    return params.detach().to(torch.float64).numpy().copy()


def torch_nn_sine_cubic(data: Dataset, lr: float, steps: int) -> np.ndarray:
    """Seed 003 §3: nn.Sequential(nn.Linear(3, 1), nn.Flatten(0, 1)), MSELoss(sum), torch.optim.RMSprop."""
    import torch
    dtype = getattr(torch, str(data.dtype))
    x, y = torch.tensor(data.x, dtype=dtype), torch.tensor(data.y, dtype=dtype)
    p = torch.tensor([1, 2, 3])
    xx = x.unsqueeze(-1).pow(p)
    model = torch.nn.Sequential(torch.nn.Linear(3, 1), torch.nn.Flatten(0, 1)).to(dtype)
    with torch.no_grad():  # the same start as fitcore's run (seed 003's nn.Linear draw)
        model[0].bias.copy_(torch.tensor([float(data.init[0])]))
        model[0].weight.copy_(torch.tensor([[float(v) for v in data.init[1:]]]))
    loss_fn = torch.nn.MSELoss(reduction="sum")
    optimizer = torch.optim.RMSprop(model.parameters(), lr=lr)
    printed = []
    for t in range(steps):
        y_pred = model(xx)
        loss = loss_fn(y_pred, y)
        if t % 100 == 99:
            printed.append(f"{t} {loss.item()}")
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    layer = model[0]
    return np.array([float(layer.bias[0]), *layer.weight.detach().to(torch.float64).reshape(-1).tolist()])


def tf_tape_quadratic_bias(data: Dataset, lr: float, steps: int) -> np.ndarray:
    """Seed 000 (TensorFlow): a tf.Variable bias, GradientTape, keras SGD."""
    import os
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf
    x, y = tf.constant(data.x), tf.constant(data.y)
    bias = tf.Variable(float(data.init[0]), dtype=x.dtype)
    optimizer = tf.keras.optimizers.SGD(learning_rate=lr)
    printed = []
    for step in range(steps):
        with tf.GradientTape() as tape:
            y_pred = x**2 + bias
            loss = tf.reduce_mean((y - y_pred) ** 2)
        grad = tape.gradient(loss, [bias])
        optimizer.apply_gradients(zip(grad, [bias]))
        if step % 200 == 0:
            printed.append(f"Step {step}, Loss: {loss.numpy():.4f}, Bias: {bias.numpy():.4f}")
    return np.array([float(bias.numpy())])


@dataclass(frozen=True)
class BareCase:
    """One implementation on the notebook that uses it, with that notebook's settings."""

    impl: str
    problem: str
    variant: str
    steps: int
    smoke_steps: int
    loop: Callable[[Dataset, float, int], np.ndarray]

    def config(self, smoke: bool = False) -> RunConfig:
        return RunConfig.notebook(self.problem, self.variant, steps=self.smoke_steps if smoke else self.steps)

    def dataset(self, config: RunConfig) -> Dataset:
        problem = problem_of(config)
        return make_dataset(problem, config.seed, config.points, config.noise, config.dtype,
                            problem.variant(config.variant))

    def describe(self, smoke: bool = False) -> str:
        c = self.config(smoke)
        return f"{c.problem} ({c.variant}: {c.optimizer} lr {c.lr:g}, {c.reduction}, {c.dtype}, {c.points} points)"


CASES: tuple[BareCase, ...] = (
    BareCase("numpy", "sine-cubic", "numpy-2000", 3000, 40, numpy_sine_cubic),
    BareCase("torch-manual", "sine-cubic", "torch-manual-5000", 3000, 40, torch_manual_sine_cubic),
    BareCase("torch-autograd", "quadratic-recovery", "pytorch", 4000, 40, torch_autograd_recovery),
    BareCase("torch-nn", "sine-cubic", "nn-rmsprop", 2400, 40, torch_nn_sine_cubic),
    BareCase("tf-tape", "quadratic-bias", "tensorflow", 400, 20, tf_tape_quadratic_bias),
)
