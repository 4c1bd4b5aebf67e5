"""Shared helpers: independent float64 references, written out here rather than imported from fitcore.

The reference optimizers follow the published formulas of torch.optim (SGD, SGD with momentum,
RMSprop, Adam) and of keras.optimizers (whose RMSprop and Adam place ε differently). They are
deliberately not ``fitcore.optim.update``: a test that compared fitcore with itself could not fail.
"""
from __future__ import annotations

import functools
import importlib
import math
import os
from pathlib import Path
from types import ModuleType
from typing import Any, NoReturn

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# The page tests (AppTest) drive runs inside the test's own process, where a script's timeout leaves a
# run mid-way; tests/test_workers.py and tests/test_app_workers.py run them through worker processes.
os.environ.setdefault("FITCORE_WORKERS", "0")
# Worker processes keep the test process's priority: on a machine shared with other work a lowered worker
# waits behind every other process (a server lowers them so that its pages come first).
os.environ.setdefault("FITCORE_WORKER_NICENESS", "0")

import fitcore  # noqa: E402
from fitcore.config import dataset_of  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
SEEDS = Path(os.environ.get("FITCORE_SEEDS", REPO.parent / "shared" / "seeds"))
CSV_FIXTURES = Path(__file__).resolve().parent / "fixtures" / "csv"
# Files too large to keep in the repository, made by the tests that read them: one row over the limit
# (100,001 data rows after the header, the 100,002 lines the check must refuse).
GENERATED_CSV = {"too_many_rows.csv": lambda: b"x,y\n" + b"0,0\n" * 100_001}

DEMOS = ("quadratic-bias", "linear-2x", "quadratic-recovery", "sine-cubic")
FRAMEWORK_IMPLS = ("numpy", "torch-manual", "torch-autograd", "torch-nn", "tf-tape")
ALL_IMPLS = FRAMEWORK_IMPLS + ("analytic",)


def under_ci() -> bool:
    """Whether this is a CI run (CI=true, as GitHub Actions and most CI services set it)."""
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def unavailable(why: str) -> NoReturn:
    """Skip a test whose framework, browser or notebook file is missing here, saying how to get it; under
    CI fail it instead, so a green CI run means every test ran (CI installs everything and has the seeds)."""
    if under_ci():
        pytest.fail(f"CI must run every test, and this one cannot: {why}", pytrace=False)
    pytest.skip(why)


def import_or_unavailable(name: str) -> ModuleType:
    """``pytest.importorskip`` that fails under CI (see ``unavailable``)."""
    try:
        return importlib.import_module(name)
    except ImportError as error:
        unavailable(f"{name} cannot be imported ({error})")


def seed_file(prefix: str) -> Path:
    """The notebook whose file name starts with ``prefix`` (e.g. "001")."""
    matches = sorted(SEEDS.glob(f"{prefix}_*.txt"))
    if not matches:
        unavailable(f"notebook {prefix} not found under {SEEDS}")
    return matches[0]


def csv_fixture(name: str) -> bytes:
    """The bytes of the CSV fixture ``name``: a file under tests/fixtures/csv, or one generated here."""
    make = GENERATED_CSV.get(name)
    return make() if make is not None else (CSV_FIXTURES / name).read_bytes()


# --- the loss, written out -------------------------------------------------------------------

def design(problem_id: str, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Φ and the offset of each demo, from the notebooks' formulas (not from fitcore)."""
    one = np.ones_like(x)
    if problem_id == "quadratic-bias":        # x**2 + bias
        return one[:, None], x**2
    if problem_id == "linear-2x":             # w * x
        return x[:, None], np.zeros_like(x)
    if problem_id == "quadratic-recovery":    # a*(x**2) + b*x + c
        return np.stack([x**2, x, one], axis=1), np.zeros_like(x)
    if problem_id == "sine-cubic":            # a + b*x + c*x**2 + d*x**3
        return np.stack([one, x, x**2, x**3], axis=1), np.zeros_like(x)
    raise KeyError(problem_id)


class Quadratic:
    """s·‖Φθ + offset − y‖² and its gradient 2s·Φᵀ(Φθ + offset − y), in float64."""

    def __init__(self, problem_id: str, x: np.ndarray, y: np.ndarray, reduction: str) -> None:
        x = np.asarray(x, dtype=np.float64)
        self.phi, self.offset = design(problem_id, x)
        self.y = np.asarray(y, dtype=np.float64)
        self.scale = 1.0 / len(x) if reduction == "mean" else 1.0

    def residual(self, theta: np.ndarray) -> np.ndarray:
        return self.phi @ theta + self.offset - self.y

    def loss(self, theta: np.ndarray) -> float:
        r = self.residual(theta)
        return float(self.scale * (r @ r))

    def grad(self, theta: np.ndarray) -> np.ndarray:
        return 2.0 * self.scale * (self.phi.T @ self.residual(theta))

    def hessian_eigenvalues(self) -> np.ndarray:
        return np.linalg.eigvalsh(2.0 * self.scale * self.phi.T @ self.phi)

    def optimum(self) -> tuple[np.ndarray, float]:
        theta, *_ = np.linalg.lstsq(self.phi, self.y - self.offset, rcond=None)
        return theta, self.loss(theta)


def quadratic_of(data: fitcore.Dataset, reduction: str) -> Quadratic:
    return Quadratic(data.problem.id, data.x, data.y, reduction)


# --- optimizers, written out -----------------------------------------------------------------

MU, ALPHA, BETA1, BETA2, EPS = 0.9, 0.99, 0.9, 0.999, 1e-8


def reference_run(quad: Quadratic, theta0: np.ndarray, optimizer: str, lrs: np.ndarray,
                  convention: str = "torch") -> tuple[np.ndarray, np.ndarray]:
    """Losses before each of len(lrs) updates and θ after 0..len(lrs) updates, float64.

    convention "torch": torch.optim's formulas. "keras": keras.optimizers' (ε inside the square
    root for RMSprop, ε added to √v before Adam's bias correction, velocity m = μm − lr·g).
    """
    theta = np.array(theta0, dtype=np.float64)
    a = np.zeros_like(theta)  # momentum buffer / square average / first moment
    b = np.zeros_like(theta)  # second moment
    eps = EPS**2 if (convention == "keras" and optimizer == "rmsprop") else EPS
    losses, trail = [], [theta.copy()]
    for t, lr in enumerate(lrs, start=1):
        g = quad.grad(theta)
        losses.append(quad.loss(theta))
        if optimizer == "sgd":
            theta = theta - lr * g
        elif optimizer == "momentum":
            if convention == "keras":
                a = MU * a - lr * g
                theta = theta + a
            else:
                a = MU * a + g
                theta = theta - lr * a
        elif optimizer == "rmsprop":
            a = ALPHA * a + (1 - ALPHA) * g * g
            if convention == "keras":
                theta = theta - lr * g / np.sqrt(a + eps)
            else:
                theta = theta - lr * g / (np.sqrt(a) + eps)
        elif optimizer == "adam":
            a = a + (1 - BETA1) * (g - a)
            b = b + (1 - BETA2) * (g * g - b)
            if convention == "keras":
                step = lr * math.sqrt(1 - BETA2**t) / (1 - BETA1**t)
                theta = theta - step * a / (np.sqrt(b) + eps)
            else:
                m_hat = a / (1 - BETA1**t)
                v_hat = b / (1 - BETA2**t)
                theta = theta - lr * m_hat / (np.sqrt(v_hat) + eps)
        else:
            raise KeyError(optimizer)
        trail.append(theta.copy())
    return np.array(losses), np.array(trail)


# --- comparing ------------------------------------------------------------------------------

def assert_params_close(got: np.ndarray, expected: np.ndarray, rel: float) -> None:
    """|θ − θ_ref| ≤ rel · ‖θ_ref‖∞ for every coordinate (of every row): relative to the vector's size,
    so a coordinate near zero is judged on the scale its neighbours give it."""
    got, expected = np.asarray(got, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    assert got.shape == expected.shape, (got.shape, expected.shape)
    assert np.all(np.isfinite(got)), "non-finite parameters"
    scale = np.maximum(np.abs(expected).max(axis=-1, keepdims=True), np.finfo(float).tiny)
    worst = float((np.abs(got - expected) / scale).max())
    assert worst <= rel, f"parameters differ by {worst:.3g} of their size (allowed {rel:g})"


def assert_losses_close(got: np.ndarray, expected: np.ndarray, rel: float, initial: float) -> None:
    """|L − L_ref| ≤ rel · (L_ref + L_0): relative, except near a zero loss where the start sets the scale."""
    got, expected = np.asarray(got, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    assert got.shape == expected.shape, (got.shape, expected.shape)
    assert np.all(np.isfinite(got)), "non-finite losses"
    worst = float((np.abs(got - expected) / (np.abs(expected) + abs(initial))).max())
    assert worst <= rel, f"losses differ by {worst:.3g} (allowed {rel:g})"


# --- running fitcore -------------------------------------------------------------------------

def require(impl: str) -> None:
    """Skip when the implementation's framework is absent; fail under CI, which installs everything."""
    if not fitcore.is_available(impl):
        unavailable(fitcore.missing_message(impl))


def assert_same_run(got: Any, expected: Any) -> None:
    """Two runs ended alike, bit for bit: status, step, reason, parameters, loss, history and log."""
    assert (got.status, got.step, got.reason, got.message) == (expected.status, expected.step, expected.reason,
                                                                expected.message)
    np.testing.assert_array_equal(got.current_params, expected.current_params)
    assert got.current_loss == expected.current_loss
    for mine, theirs in zip(got.history.arrays(), expected.history.arrays()):
        np.testing.assert_array_equal(mine, theirs)
    assert got.log_text() == expected.log_text()


# --- runs shared by the tables ---------------------------------------------------------------

@functools.lru_cache(maxsize=None)
def trained(config: fitcore.RunConfig) -> fitcore.Run:
    """``fitcore.train(config)``, once per test session. A run is a pure function of its settings (the
    tests compare runs bit for bit), and the tables train the same settings many times: a challenge poses a
    lesson's runs, a lesson's own settings come back in its numbers table, and every resumed run on a page
    is held to the same uninterrupted run. Callers only read the finished run."""
    return fitcore.train(config)


def nudged(config: fitcore.RunConfig, towards: float) -> fitcore.RunConfig:
    """The same run from its start moved one unit in the last place (of the run's dtype) towards ``towards``
    (0: the start as it is)."""
    if towards == 0:
        return config
    init = dataset_of(config).init
    return config.replace(start=tuple(float(v) for v in np.nextafter(init, np.asarray(towards, dtype=init.dtype))))


# --- two processes share the suite's non-browser part (README command 2: pytest -n 2 --dist loadscope) ---------
#
# A module's tests run in one worker, so its module fixtures, caches and the runs they share are made once.
# Modules that share work with other modules run in one worker together: the lessons' runs are the runs the
# challenges pose (``trained``); the browser tests share one server, one Chromium and the measurements file.
# (pytest-xdist's own ``--dist loadgroup`` cannot do this under pytest 9.2: it renames a test's node id to
# carry its group, and pytest 9's node ids can no longer be renamed; so loadscope is given the groups here.)
SHARED_WORK = {"tests/test_lessons.py": "trained runs", "tests/test_challenges.py": "trained runs"}


def worker_group(nodeid: str) -> str:
    """The group of tests that runs in one worker with the test ``nodeid``: every browser test together, the
    modules SHARED_WORK names together, any other module's tests by themselves."""
    module = nodeid.split("::", 1)[0]
    if module.startswith("tests/browser/"):
        return "browser"
    return SHARED_WORK.get(module, module)


@pytest.hookimpl(optionalhook=True)  # a pytest-xdist hook: without pytest-xdist it is never called
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """``--dist loadscope`` sends each worker_group to one worker; any other --dist keeps pytest-xdist's own
    scheduler."""
    if config.getvalue("dist") != "loadscope":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class SharedWorkScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return worker_group(nodeid)

    return SharedWorkScheduling(config, log)
