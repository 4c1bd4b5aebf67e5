"""TensorFlow: tf.GradientTape and a Keras optimizer, eager, as seed 000.

Compiled path: a whole chunk of steps inside one ``tf.function(jit_compile=True)`` running a
``tf.while_loop`` (XLA). Keras optimizers keep Python-side state that cannot live inside that
loop, so the compiled chunk applies fitcore's written-out update; buffers have a fixed
capacity so XLA compiles once per problem, optimizer, reduction, dtype and data size.
"""
from __future__ import annotations

import functools
import os
from typing import Any, Sequence

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from ..optim import ADAM_BETAS, EPS, MOMENTUM, RMS_ALPHA, SLOTS, init_slots, update  # noqa: E402
from ..problems import Dataset, Model  # noqa: E402
from .base import LoopStepper, StepSettings, Stepper, TrainState  # noqa: E402

CAPACITY = 4096  # steps per compiled call


def _reduce(squared: tf.Tensor, reduction: str) -> tf.Tensor:
    return tf.reduce_mean(squared) if reduction == "mean" else tf.reduce_sum(squared)


def _keras_schedule(settings: StepSettings, h: Any = float) -> Any:
    s, lr = settings.schedule, h(settings.lr)
    if s.kind == "step":
        return keras.optimizers.schedules.ExponentialDecay(lr, s.step_size, h(s.gamma), staircase=True)
    if s.kind == "exponential":
        return keras.optimizers.schedules.ExponentialDecay(lr, 1, h(s.gamma))
    if s.kind == "cosine":
        return keras.optimizers.schedules.CosineDecay(lr, max(settings.total_steps, 1), alpha=h(s.lr_min / lr))
    if h is not float:
        constant = tf.constant(lr, tf.float64)
        return lambda: constant
    return lr


def make_keras_optimizer(settings: StepSettings, dtype: Any = None) -> keras.optimizers.Optimizer:
    # Keras holds a float learning rate in a float32 variable and turns Python-float hyperparameters
    # into float32 tensors before casting them to the variable's dtype: for float64 runs, hand it
    # float64 values so that μ, β and lr are not rounded to float32 (a 7e-6 relative error in Adam).
    h = np.float64 if dtype == tf.float64 else float
    lr = _keras_schedule(settings, h)
    name = settings.optimizer
    if name == "sgd":
        return keras.optimizers.SGD(learning_rate=lr)
    if name == "momentum":
        return keras.optimizers.SGD(learning_rate=lr, momentum=h(MOMENTUM))
    if name == "rmsprop":
        # Keras adds ε inside the square root: ε² there differs from torch's ε outside by < 1e-8.
        return keras.optimizers.RMSprop(learning_rate=lr, rho=h(RMS_ALPHA), epsilon=h(EPS**2))
    return keras.optimizers.Adam(learning_rate=lr, beta_1=h(ADAM_BETAS[0]), beta_2=h(ADAM_BETAS[1]), epsilon=h(EPS))


class TapeStepper(LoopStepper):
    def __init__(self, data: Dataset, settings: StepSettings) -> None:
        super().__init__(data, settings)
        self.dtype = tf.as_dtype(str(data.dtype))
        self.x = tf.constant(data.x)
        self.at_x = self.problem.features_at(self.x)
        self.y = tf.constant(data.y)
        # One parameter is a scalar variable, as seed 000's `bias = tf.Variable(0.0)`: a vector would
        # add an unstack forward and a stack backward to every step (~10 % of an eager step here).
        self.shape = () if self.problem.n_params == 1 else (self.problem.n_params,)
        self.theta = tf.Variable(data.init.reshape(self.shape), dtype=self.dtype)
        self.load(TrainState(data.init.astype(np.float64), {}, 0))

    def _parameters(self) -> list[Any]:
        return [self.theta] if self.shape == () else tf.unstack(self.theta)

    def _forward_loss(self) -> tf.Tensor:
        y_pred = self.at_x.predict(self._parameters())
        return _reduce((self.y - y_pred) ** 2, self.settings.reduction)

    def _step(self, lr: float, t: int) -> Any:
        with tf.GradientTape() as tape:
            loss = self._forward_loss()
        grad = tape.gradient(loss, [self.theta])
        self.optimizer.apply_gradients(zip(grad, [self.theta]))
        return float(loss)  # reading an eager scalar costs less than a tf.stack of the chunk's tensors

    def _params(self) -> np.ndarray:
        return self.theta.numpy().astype(np.float64).reshape(-1)

    def _snapshot(self) -> np.ndarray:
        # One read per record, as the notebook's own `bias.numpy()`; NumPy stacks them per chunk.
        return self.theta.numpy()

    def _slot_variables(self) -> dict[str, Any]:
        opt, name = self.optimizer, self.settings.optimizer
        if name == "momentum":
            return {"velocity": opt.momentums[0]}
        if name == "rmsprop":
            return {"square_avg": opt._velocities[0]}
        if name == "adam":
            return {"exp_avg": opt._momentums[0], "exp_avg_sq": opt._velocities[0]}
        return {}

    def _velocity_scale(self) -> float:
        # Keras's momentum slot is −lr × torch's buffer (see fitcore.optim.KERAS_RESIDUALS).
        return -self.settings.schedule.at(self.settings.lr, max(self.t - 1, 0), self.settings.total_steps)

    def state(self) -> TrainState:
        slots = {k: v.numpy().astype(np.float64).reshape(-1) for k, v in self._slot_variables().items()}
        if "velocity" in slots:
            slots["velocity"] = slots["velocity"] / self._velocity_scale()
        return TrainState(self._params(), slots, self.t)

    def load(self, state: TrainState) -> None:
        self.theta.assign(state.params.astype(self.data.dtype).reshape(self.shape))
        self.optimizer = make_keras_optimizer(self.settings, self.dtype)
        self.optimizer.build([self.theta])
        self.optimizer.iterations.assign(state.t)
        self.t = state.t
        for name, variable in self._slot_variables().items():
            if name in state.slots:
                value = state.slots[name] * (self._velocity_scale() if name == "velocity" else 1.0)
                variable.assign(value.astype(self.data.dtype).reshape(self.shape))

    def loss(self) -> float:
        return float(self._forward_loss())


@functools.lru_cache(maxsize=64)  # bounded: every standardised custom fit is a model of its own
def compiled_chunk(model: Model, optimizer: str, reduction: str) -> Any:
    """The XLA chunk for one model, optimizer and reduction; pure, so shared by every run."""
    problem = model.problem
    names = SLOTS[optimizer]

    @tf.function(jit_compile=True, reduce_retracing=True)
    def chunk(theta: tf.Tensor, slots: tuple, x: tf.Tensor, y: tf.Tensor, lrs: tf.Tensor, t0: tf.Tensor,
              count: tf.Tensor) -> Any:
        losses = tf.TensorArray(theta.dtype, size=CAPACITY)
        trail = tf.TensorArray(theta.dtype, size=CAPACITY + 1).write(0, theta)

        def body(i: tf.Tensor, theta: tf.Tensor, slots: tuple, losses: Any, trail: Any) -> Any:
            with tf.GradientTape() as tape:
                tape.watch(theta)
                y_pred = problem.predict(x, tf.unstack(theta))
                loss = _reduce((y - y_pred) ** 2, reduction)
            grad = tape.gradient(loss, theta)
            step_t = t0 + tf.cast(i, theta.dtype)
            theta, new_slots = update(optimizer, theta, grad, dict(zip(names, slots)), lrs[i], step_t, tf.sqrt)
            return (i + 1, theta, tuple(new_slots[k] for k in names), losses.write(i, loss),
                    trail.write(i + 1, theta))

        _, theta, slots, losses, trail = tf.while_loop(
            lambda i, *_: i < count, body, (tf.constant(0), theta, slots, losses, trail),
            maximum_iterations=CAPACITY)
        return theta, slots, losses.stack(), trail.stack()

    return chunk


class XlaStepper(Stepper):
    def __init__(self, data: Dataset, settings: StepSettings) -> None:
        super().__init__(data, settings)
        self.dtype = tf.as_dtype(str(data.dtype))
        self.names = SLOTS[settings.optimizer]
        self.x = tf.constant(data.x)
        self.at_x = self.problem.features_at(self.x)
        self.y = tf.constant(data.y)
        self.chunk = compiled_chunk(self.problem.model, settings.optimizer, settings.reduction)
        self.load(TrainState(data.init.astype(np.float64), {}, 0))

    def _call(self, count: int) -> Any:
        lrs = np.zeros(CAPACITY)
        lrs[:count] = self.lrs(self.t, count)
        return self.chunk(self.theta, self.slots, self.x, self.y, tf.constant(lrs, self.dtype),
                          tf.constant(float(self.t), self.dtype), tf.constant(count))

    def warmup(self) -> None:
        self._call(1)  # traces and compiles; the returned state is discarded

    def run(self, n: int, record: Sequence[int] = ()) -> tuple[np.ndarray, np.ndarray]:
        losses, trail = [], [self.theta.numpy()[None, :]]
        done = 0
        while done < n:
            count = min(CAPACITY, n - done)
            self.theta, self.slots, chunk_losses, chunk_trail = self._call(count)
            losses.append(chunk_losses.numpy()[:count])
            trail.append(chunk_trail.numpy()[1:count + 1])
            self.t += count
            done += count
        all_params = np.concatenate(trail).astype(np.float64)
        all_losses = np.concatenate(losses).astype(np.float64) if losses else np.empty(0)
        return all_losses, all_params[np.asarray(list(record), dtype=np.int64)].reshape(len(record), -1)

    def state(self) -> TrainState:
        slots = {k: v.numpy().astype(np.float64) for k, v in zip(self.names, self.slots)}
        return TrainState(self.theta.numpy().astype(np.float64), slots, self.t)

    def load(self, state: TrainState) -> None:
        self.theta = tf.constant(state.params.astype(self.data.dtype))
        fresh = init_slots(self.settings.optimizer, lambda: tf.zeros_like(self.theta))
        self.slots = tuple(tf.constant(state.slots[k].astype(self.data.dtype)) if k in state.slots else fresh[k]
                           for k in self.names)
        self.t = state.t

    def loss(self) -> float:
        y_pred = self.at_x.predict(tf.unstack(self.theta))
        return float(_reduce((self.y - y_pred) ** 2, self.settings.reduction))


def make_stepper(data: Dataset, settings: StepSettings) -> Stepper:
    return XlaStepper(data, settings) if settings.compiled else TapeStepper(data, settings)
