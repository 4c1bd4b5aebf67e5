"""The device setting: cpu by default, the notebooks' auto line, the refusal of an absent accelerator, the
points an accelerator allows and the memory check. CUDA and MPS runs skip where there is no such device.

Tolerance on a device (documented here and in the README): float64 runs equal the CPU run to 1e-9
relative, float32 runs to 1e-4 (a GPU sums the 2,000 squared errors in another order, which moves the
last float32 bits of every step's loss, and those bits drift over a few hundred steps).
"""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import fitcore
from fitcore import ConfigError, RunConfig, train
from fitcore import device as devices
from fitcore.config import ACCELERATED_MAX_POINTS, points_range

TORCH_IMPLS = ("torch-manual", "torch-autograd", "torch-nn")
TOLERANCE = {"float32": 1e-4, "float64": 1e-9}
needs_torch = pytest.mark.skipif(not fitcore.is_available("torch-autograd"), reason="PyTorch is not installed")


def _skip_unless(device: str) -> None:
    status = devices.device_status(device)
    if not status.available:
        pytest.skip(f"no {device} here: {status.reason}")


def test_that_every_run_is_on_the_cpu_unless_asked() -> None:
    assert RunConfig.notebook("sine-cubic").device == "cpu"
    assert RunConfig.notebook("sine-cubic", impl="torch-nn").device == "cpu"


@needs_torch
@pytest.mark.parametrize("impl", TORCH_IMPLS)
def test_that_device_cpu_given_explicitly_trains_exactly_as_the_default(impl: str) -> None:
    config = RunConfig.notebook("sine-cubic", impl=impl, steps=60)
    default, explicit = train(config), train(config.replace(device="cpu"))
    assert explicit.current_loss == default.current_loss
    np.testing.assert_array_equal(explicit.current_params, default.current_params)
    assert explicit.result()["ran_on"] == "cpu"


def test_that_auto_resolves_to_the_cpu_on_a_machine_without_an_accelerator(monkeypatch: pytest.MonkeyPatch) -> None:
    absent = devices.DeviceStatus("x", False, "none here")
    monkeypatch.setattr(devices, "device_status", lambda device: absent if device != "cpu" else
                        devices.DeviceStatus("cpu", True))
    assert devices.resolve_device("auto") == "cpu"


def test_that_auto_picks_cuda_before_mps_as_torch_accelerator_does(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(devices, "device_status", lambda device: devices.DeviceStatus(device, True))
    assert devices.resolve_device("auto") == "cuda"


@needs_torch
def test_that_auto_trains_where_the_notebooks_line_would_and_matches_that_devices_run() -> None:
    config = RunConfig.notebook("sine-cubic", impl="torch-autograd", steps=40, device="auto")
    run = train(config)
    assert run.result()["ran_on"] == devices.resolve_device("auto")
    if run.result()["ran_on"] == "cpu":
        assert run.current_loss == train(config.replace(device="cpu")).current_loss


@pytest.mark.parametrize("device", devices.ACCELERATORS)
def test_that_an_absent_accelerator_is_refused_in_one_sentence_that_says_why(device: str) -> None:
    status = devices.device_status(device)
    if status.available:
        pytest.skip(f"{device} is available here")
    with pytest.raises(ConfigError) as refused:
        RunConfig.notebook("sine-cubic", impl="torch-autograd", device=device)
    message = str(refused.value)
    assert "\n" not in message and status.reason in message and "use cpu" in message


@pytest.mark.parametrize("impl", ["numpy", "tf-tape", "analytic"])
@pytest.mark.parametrize("device", ["cuda", "mps", "auto"])
def test_that_implementations_other_than_pytorch_accept_only_the_cpu(impl: str, device: str) -> None:
    with pytest.raises(ConfigError, match="PyTorch implementations only"):
        RunConfig.notebook("sine-cubic", impl=impl, device=device)


def test_that_an_unknown_device_is_refused() -> None:
    with pytest.raises(ConfigError, match="device 'tpu' is not one of: cpu, cuda, mps, auto"):
        RunConfig.notebook("sine-cubic", impl="torch-nn", device="tpu")


def test_that_a_cpu_only_wheel_answers_without_importing_torch() -> None:
    code = ("import sys; from fitcore import device; s = device.device_status('cuda'); "
            "print(s.available, 'torch' in sys.modules, device._probe_in_subprocess.cache_info().currsize)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    available, imported, probes = out.stdout.split()
    assert imported == "False"
    version = devices._torch_version() or ""
    if "+cpu" in version or version == "":
        assert (available, probes) == ("False", "0")  # the wheel said it: no subprocess either


def test_that_only_torch_runs_on_an_accelerator_may_have_twenty_million_points(
        monkeypatch: pytest.MonkeyPatch) -> None:
    cpu = RunConfig.notebook("sine-cubic", impl="torch-autograd")
    assert points_range(cpu)[1] == 100_000
    monkeypatch.setattr(devices, "device_status", lambda device: devices.DeviceStatus(device, device == "cuda"))
    monkeypatch.setattr(devices, "available_device_bytes", lambda device: 140 * 2**30)
    monkeypatch.setattr(devices, "available_host_bytes", lambda: 1000 * 2**30)
    on_gpu = cpu.replace(device="cuda", points=ACCELERATED_MAX_POINTS)
    assert points_range(on_gpu)[1] == ACCELERATED_MAX_POINTS
    with pytest.raises(ConfigError, match="from 4 to 20,000,000"):
        on_gpu.replace(points=ACCELERATED_MAX_POINTS + 1)
    with pytest.raises(ConfigError, match=r"100,000 \(20,000,000 with a PyTorch implementation on a GPU\)"):
        on_gpu.replace(device="cpu")
    with pytest.raises(ConfigError, match="from 3 to 1,000"):  # the other demos keep their few points
        RunConfig.notebook("quadratic-recovery", impl="torch-autograd", device="cuda", points=5000)


def test_that_a_run_too_big_for_free_memory_is_refused_before_it_starts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(devices, "device_status", lambda device: devices.DeviceStatus(device, device == "cuda"))
    monkeypatch.setattr(devices, "available_host_bytes", lambda: 1000 * 2**30)
    monkeypatch.setattr(devices, "available_device_bytes", lambda device: 2**30)  # 1 GB free on the GPU
    with pytest.raises(ConfigError, match=r"20,000,000 points need about 1\.8 GB on the cuda device and 1\.0 GB"):
        RunConfig.notebook("sine-cubic", impl="torch-nn", device="cuda", dtype="float64", points=20_000_000)
    monkeypatch.setattr(devices, "available_host_bytes", lambda: 2**30)
    with pytest.raises(ConfigError, match="of memory here and 1.0 GB is free; use fewer points or float32"):
        RunConfig.notebook("sine-cubic", impl="torch-nn", device="cuda", dtype="float64", points=20_000_000)


def test_that_small_runs_never_ask_the_machine_for_free_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail() -> int:
        raise AssertionError("asked")
    monkeypatch.setattr(devices, "available_host_bytes", fail)
    RunConfig.notebook("sine-cubic", points=100_000)


def test_that_the_memory_estimate_grows_with_points_and_dtype() -> None:
    small = devices.run_memory(1000, 4, "float32", "cpu", "torch")
    large = devices.run_memory(1_000_000, 4, "float32", "cpu", "torch")
    wide = devices.run_memory(1_000_000, 4, "float64", "cpu", "torch")
    assert large[0] == 1000 * small[0] and wide[0] > large[0] and large[1] == 0
    host, on_device = devices.run_memory(1_000_000, 4, "float32", "cuda", "torch")
    assert host + on_device == large[0] and on_device > 0


@needs_torch
@pytest.mark.parametrize("device", devices.ACCELERATORS)
@pytest.mark.parametrize("impl,compiled", [(impl, False) for impl in TORCH_IMPLS] + [("torch-autograd", True)])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_that_a_run_on_an_accelerator_equals_the_cpu_run_within_the_dtypes_tolerance(
        device: str, impl: str, compiled: bool, dtype: str) -> None:
    _skip_unless(device)
    if device == "mps" and dtype == "float64":
        pytest.skip("MPS has no float64")
    # seed 003's SGD: a contraction, so a last-bit difference in one step's sum shrinks instead of growing
    config = RunConfig.notebook("sine-cubic", impl=impl, compiled=compiled, dtype=dtype, steps=200)
    on_device, on_cpu = train(config.replace(device=device)), train(config)
    assert on_device.result()["ran_on"] == device
    np.testing.assert_allclose(on_device.current_params, on_cpu.current_params, rtol=TOLERANCE[dtype], atol=1e-6)
    np.testing.assert_allclose(on_device.current_loss, on_cpu.current_loss, rtol=TOLERANCE[dtype])


@needs_torch
def test_that_a_cuda_run_keeps_data_parameters_and_optimizer_state_on_the_gpu() -> None:
    _skip_unless("cuda")
    run = fitcore.Run(RunConfig.notebook("sine-cubic", impl="torch-nn", optimizer="adam", lr=1e-3, device="cuda"))
    stepper = run.prepare()
    run.advance(max_steps=5)
    assert stepper.inputs.is_cuda and stepper.y.is_cuda and stepper.flat.is_cuda
    assert all(v.is_cuda for state in stepper.optimizer.state.values() for k, v in state.items() if k != "step")


# --- the settings table behind the sidebar and the URL (ui.page.settings is pure: no Streamlit) -------------------

def test_that_the_device_travels_in_the_url_and_comes_back() -> None:
    from ui.page.settings import defaults, parse_query, to_query
    problem = fitcore.get_problem("sine-cubic")
    values = defaults(problem) | {"impl": "torch-nn", "device": "auto"}
    query = to_query(problem, values)
    assert query["device"] == "auto"
    parsed, problems = parse_query(problem, query)
    assert problems == [] and parsed == values


def test_that_a_framework_other_than_pytorch_runs_on_the_cpu_whatever_the_device_setting() -> None:
    from ui.page.settings import config_from_values, defaults
    problem = fitcore.get_problem("sine-cubic")
    values = defaults(problem) | {"impl": "numpy", "device": "auto"}
    assert config_from_values(problem, values).device == "cpu"
    assert config_from_values(problem, values | {"impl": "torch-autograd"}).device == "auto"


def test_that_the_points_widget_reaches_the_accelerated_cap_only_on_an_accelerator(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from ui.page.settings import points_bounds
    problem = fitcore.get_problem("sine-cubic")
    torch_values = {"impl": "torch-autograd", "device": "cuda"}
    monkeypatch.setattr(devices, "device_status", lambda device: devices.DeviceStatus(device, False, "absent"))
    assert points_bounds(problem, torch_values | {"device": "auto"}) == (4, 100_000)
    monkeypatch.setattr(devices, "device_status", lambda device: devices.DeviceStatus(device, device == "cuda"))
    assert points_bounds(problem, torch_values) == (4, ACCELERATED_MAX_POINTS)
    assert points_bounds(problem, {"impl": "numpy", "device": "cuda"}) == (4, 100_000)
    assert points_bounds(fitcore.get_problem("linear-2x"), torch_values) == (1, 1000)
    monkeypatch.setenv("FITCORE_MAX_POINTS_ACCELERATED", "5000000")
    assert points_bounds(problem, torch_values) == (4, 5_000_000)
