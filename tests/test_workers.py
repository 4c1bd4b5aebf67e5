"""Training in worker processes (fitcore.workers): a run hosted by a worker reaches exactly the numbers the
same run reaches in this process, obeys Pause, Stop and Step, time-shares a worker with other runs, and a
worker that dies ends only its own runs, with a status that says so."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from typing import Iterator

import numpy as np
import pytest

import fitcore
from fitcore import RemoteRun, RunConfig, WorkerPool
from fitcore.worker_process import LEASE_SECONDS, NICENESS_VARIABLE, ONE_THREAD, WORKER_NICENESS

from conftest import REPO, assert_same_run, require

LONG = RunConfig.notebook("sine-cubic", impl="numpy", steps=10_000_000, compiled=True, dtype="float32")
SHORT = RunConfig.notebook("sine-cubic", impl="numpy", steps=3000)
PATIENCE = 600  # syncs of up to 0.5 s each: a bound that ends a broken test instead of hanging it


@pytest.fixture(scope="module")
def pool() -> Iterator[WorkerPool]:
    workers = WorkerPool(2)
    yield workers
    workers.shutdown()


def finish(run: RemoteRun) -> RemoteRun:
    run.train()
    for _ in range(PATIENCE):
        if run.sync(wait=0.5).finished:
            return run
    raise AssertionError(f"the run did not finish: {run.snapshot()}")


def until(run: RemoteRun, condition: object) -> None:
    for _ in range(PATIENCE):
        run.sync(wait=0.5)
        if condition(run):  # type: ignore[operator]
            return
    raise AssertionError(f"never reached: {run.snapshot()}")


@pytest.mark.parametrize("config", [
    SHORT,
    RunConfig.notebook("linear-2x"),
    RunConfig.notebook("quadratic-recovery", impl="numpy", steps=20_000, optimizer="adam", lr=0.01),
    RunConfig.notebook("quadratic-bias", impl="torch-autograd", steps=300),
], ids=["sine-cubic-numpy", "linear-2x", "recovery-adam", "bias-torch"])
def test_that_a_run_trained_in_a_worker_ends_bit_for_bit_where_the_same_run_in_process_ends(
        pool: WorkerPool, config: RunConfig) -> None:
    require(config.impl)
    assert_same_run(finish(pool.open(config)), fitcore.train(config))


def test_that_pause_halts_a_run_in_its_worker_and_resume_ends_where_an_uninterrupted_run_ends(
        pool: WorkerPool) -> None:
    config = SHORT.replace(steps=400_000)
    run = pool.open(config)
    run.train()
    until(run, lambda r: r.step > 0)
    paused = run.pause()
    assert paused.status == "paused" and 0 < paused.step < config.steps
    for _ in range(3):  # the worker has taken its last step when pause() returns
        assert run.sync(wait=0.2).step == paused.step
    assert_same_run(finish(run), fitcore.train(config))


def test_that_a_run_unread_past_its_lease_pauses_and_says_so_and_trains_again_when_asked(pool: WorkerPool) -> None:
    run = pool.open(SHORT.replace(steps=10_000_000))  # eager NumPy on 2,000 points: minutes of work
    run.train()
    until(run, lambda r: r.step > 0 and r.worker_training)
    time.sleep(LEASE_SECONDS + 1)  # nobody asks after it: the page left, or its server was busy for seconds
    until(run, lambda r: not r.worker_training)
    halted = run.step
    assert not run.finished and run.sync(wait=0.3).step == halted
    run.train()  # what the page's live loop does when it finds its run paused this way
    until(run, lambda r: r.step > halted and r.worker_training)
    assert run.stop().status == "stopped"


def test_that_stop_ends_a_run_in_its_worker_where_it_is(pool: WorkerPool) -> None:
    run = pool.open(LONG)
    run.train()
    until(run, lambda r: r.step > 0)
    stopped = run.stop()
    assert (stopped.status, run.reason) == ("stopped", "user")
    assert run.message == f"Stopped by you at step {stopped.step:,}."
    assert run.sync(wait=0.2).step == stopped.step and run.history.steps[-1] == stopped.step
    np.testing.assert_array_equal(run.current_params, fitcore.train(LONG.replace(steps=stopped.step)).current_params)


def test_that_step_advances_exactly_the_steps_asked_for_through_a_worker(pool: WorkerPool) -> None:
    config = SHORT.replace(steps=30)
    run = pool.open(config)
    for count in (1, 10, 19):
        run.advance(max_steps=count)
    assert run.status == "completed" and run.step == 30
    assert_same_run(run, fitcore.train(config))
    run.extend(5)  # Step after the end continues the same iterates, as in-process
    assert run.advance(max_steps=5).step == 35


def test_that_a_killed_worker_ends_its_run_with_a_clear_status_and_every_other_run_goes_on() -> None:
    pool = WorkerPool(2)
    try:
        doomed, survivor = pool.open(LONG), pool.open(SHORT)
        assert doomed.worker_pid != survivor.worker_pid, "the second run went to the idle worker"
        doomed.train()
        until(doomed, lambda r: r.step > 0)
        os.kill(doomed.worker_pid, signal.SIGKILL)
        until(doomed, lambda r: r.finished)
        assert (doomed.status, doomed.reason) == ("stopped", "worker_died")
        assert f"ended unexpectedly (killed, or out of memory) at step {doomed.step:,}" in doomed.message
        assert doomed.pause().status == "stopped", "controls on a dead run do nothing"
        assert_same_run(finish(survivor), fitcore.train(SHORT))
        assert_same_run(finish(pool.open(SHORT)), fitcore.train(SHORT))  # a fresh worker takes new runs
    finally:
        pool.shutdown()


def test_that_several_sessions_train_at_once_each_to_its_own_numbers(pool: WorkerPool) -> None:
    configs = [SHORT.replace(seed=seed, steps=20_000) for seed in range(5)]
    runs = [pool.open(config) for config in configs]
    for run in runs:
        run.train()
    for run, config in zip(runs, configs):
        assert_same_run(finish(run), fitcore.train(config))


def test_that_a_pool_of_one_worker_time_shares_its_runs() -> None:
    pool = WorkerPool(1)
    try:
        runs = [pool.open(LONG.replace(seed=seed)) for seed in range(3)]
        assert len({run.worker_pid for run in runs}) == 1
        for run in runs:
            run.train()
        for run in runs:  # every run moves while none has finished: they take turns
            until(run, lambda r: r.step > 0)
        assert not any(run.finished for run in runs)
        for run in runs:
            assert run.stop().status == "stopped"
        short = pool.open(SHORT)
        assert_same_run(finish(short), fitcore.train(SHORT))
    finally:
        pool.shutdown()


def test_that_runs_moved_between_workers_to_share_them_fairly_end_bit_for_bit_where_they_would_have() -> None:
    # 3 NumPy runs on 2 workers: two share one worker, so the pool swaps runs between them as it evens
    # the shares out; its own thread does every second, this test asks at every look as well.
    pool = WorkerPool(2)
    try:
        configs = [LONG.replace(seed=seed, steps=400_000) for seed in range(3)]
        runs = [pool.open(config) for config in configs]
        for run in runs:
            run.train()
        for _ in range(PATIENCE):
            pool.rebalance(1.0)
            if all(run.sync(wait=0.2).finished for run in runs):
                break
        assert pool.moves >= 1, "no run moved"
        for run, config in zip(runs, configs):
            assert_same_run(run, fitcore.train(config))
    finally:
        pool.shutdown()


def test_that_a_moved_run_obeys_pause_and_stop_on_its_new_worker() -> None:
    pool = WorkerPool(2)
    try:
        runs = [pool.open(LONG.replace(seed=seed)) for seed in range(3)]
        for run in runs:
            run.train()
        for run in runs:
            until(run, lambda r: r.step > 0)
        before = {id(run): run.worker_pid for run in runs}
        for _ in range(PATIENCE):
            if pool.rebalance(1.0):
                break
        moved = [run for run in runs if run.worker_pid != before[id(run)]]
        assert moved, "no run moved"
        paused = moved[0].pause()
        for _ in range(3):
            assert moved[0].sync(wait=0.2).step == paused.step, "the run went on after Pause"
        assert moved[0].stop().status == "stopped"
        for run in runs:
            run.stop()
    finally:
        pool.shutdown()


def test_that_a_worker_error_ends_the_run_and_says_why(pool: WorkerPool) -> None:
    run = pool.open(SHORT)
    with pytest.raises(fitcore.WorkerError, match="unsupported operand"):
        run.advance(max_steps="ten")  # type: ignore[arg-type]
    assert_same_run(finish(run), fitcore.train(SHORT))  # the worker and the run go on


def test_that_the_process_holding_the_handles_never_imports_the_framework_of_a_run() -> None:
    require("torch-autograd")
    script = (
        "import sys\n"
        "from fitcore import RunConfig, WorkerPool\n"
        "if __name__ == '__main__':\n"
        "    pool = WorkerPool(1)\n"
        "    run = pool.open(RunConfig.notebook('quadratic-bias', impl='torch-autograd', steps=50))\n"
        "    run.advance()\n"
        "    assert run.status == 'completed', run.snapshot()\n"
        "    assert 'torch' not in sys.modules, 'torch was imported by the session side'\n"
        "    pool.shutdown()\n"
        "    print('ok')\n")
    done = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr


def test_that_a_run_nobody_holds_leaves_its_worker(pool: WorkerPool) -> None:
    before = pool.open_runs()
    run = pool.open(SHORT)
    run.advance(max_steps=3)
    assert pool.open_runs() == before + 1
    del run  # Reset, or a new Run: the session lets go of the handle
    assert pool.open_runs() == before


@pytest.mark.skipif(not hasattr(os, "getpriority"), reason="no scheduling priorities on this platform")
def test_that_a_worker_trains_at_a_lower_priority_than_the_process_whose_pages_it_serves(monkeypatch) -> None:
    monkeypatch.delenv(NICENESS_VARIABLE)  # a server's default (conftest keeps the tests' workers level)
    pool = WorkerPool(1)
    try:
        run = pool.open(SHORT)
        run.advance(max_steps=3)  # answered: the worker is in its loop, past lowering its priority
        ours = os.getpriority(os.PRIO_PROCESS, 0)
        assert os.getpriority(os.PRIO_PROCESS, run.worker_pid) == min(19, ours + WORKER_NICENESS) > ours
    finally:
        pool.shutdown()


def torch_threads() -> int:
    import torch
    return torch.get_num_threads()


def test_that_pytorch_in_a_worker_uses_one_thread_for_its_operations_and_a_setting_given_wins(monkeypatch) -> None:
    require("torch-autograd")
    for variable in ONE_THREAD:
        monkeypatch.delenv(variable, raising=False)
    pool = WorkerPool(1)
    try:
        assert pool.call(torch_threads) == 1
    finally:
        pool.shutdown()
    monkeypatch.setenv("OMP_NUM_THREADS", "2")
    pool = WorkerPool(1)
    try:
        assert pool.call(torch_threads) == 2
    finally:
        pool.shutdown()


def test_that_the_pool_counts_the_runs_training_on_their_own(pool: WorkerPool) -> None:
    first, second = pool.open(LONG), pool.open(LONG.replace(seed=1))
    before = pool.training()
    first.train()
    second.train()
    assert pool.training() == before + 2 and first.neighbours_training() == before + 2
    first.pause()
    assert pool.training() == before + 1
    second.stop()
    assert pool.training() == before


def test_that_a_compiled_torch_run_in_a_worker_without_a_compiler_is_refused_as_compiler_missing(
        monkeypatch: pytest.MonkeyPatch) -> None:
    require("torch-manual")
    monkeypatch.setenv("CXX", "/nonexistent/bin/g++")  # the spawned worker inherits it and finds no compiler
    pool = WorkerPool(1)
    try:
        run = pool.open(RunConfig.notebook("linear-2x", impl="torch-manual", compiled=True, steps=10))
        with pytest.raises(fitcore.CompilerMissing, match="apt-get install g\\+\\+"):
            run.prepare()
    finally:
        pool.shutdown()


def test_that_a_compile_failure_reported_by_a_worker_stops_the_offers_in_this_process_too(monkeypatch) -> None:
    from fitcore.impl import toolchain
    from fitcore.workers import KNOWN_ERRORS
    monkeypatch.setenv("CXX", sys.executable)  # this process's own detection says the compiler works
    toolchain.forget()
    try:
        assert fitcore.compiled_unavailable("torch-nn") is None
        assert KNOWN_ERRORS["CompileFailed"] is fitcore.CompileFailed
        run = object.__new__(RemoteRun)
        monkeypatch.setattr(run, "_command", lambda *a, **k: (
            "failed", 1, None, "CompileFailed", "torch.compile could not build this run's code: the C++ compiler "
            "failed (InvalidCxxCompiler: No working C++ compiler found)."), raising=False)
        with pytest.raises(fitcore.CompileFailed, match="C\\+\\+ compiler failed"):
            run._call("prepare")
        assert "C++ compiler failed" in fitcore.compiled_unavailable("torch-nn")
    finally:
        toolchain.forget()


def test_that_a_worker_importing_a_framework_trains_its_other_runs_meanwhile() -> None:
    # The workshop's PyTorch and TensorFlow attendees saw nothing for 30 s, nor did NumPy attendees sharing their
    # workers: a worker used to import a framework (3-30 s on a busy machine) in its one loop, and every run it
    # hosted waited. Now the import runs in a thread of the worker; the NumPy run goes on meanwhile.
    require("torch-autograd")
    workers = WorkerPool(1)  # one worker: the NumPy run and the PyTorch run share it
    try:
        numpy_run = workers.open(LONG)
        numpy_run.train()
        until(numpy_run, lambda r: r.step > 0)
        torch_run = workers.open(RunConfig.notebook("quadratic-bias", impl="torch-autograd", steps=300))
        preparing = threading.Thread(target=torch_run.prepare)
        preparing.start()
        progress_while_importing = 0
        for _ in range(PATIENCE):
            before = numpy_run.step
            numpy_run.sync(wait=0.5)
            if not preparing.is_alive():
                break
            progress_while_importing += numpy_run.step > before
        preparing.join()
        assert torch_run.prepared, torch_run.snapshot()
        assert progress_while_importing >= 3, "the NumPy run waited while its worker imported PyTorch"
        assert_same_run(finish(torch_run), fitcore.train(torch_run.config))
        numpy_run.stop()
    finally:
        workers.shutdown()


def test_that_runs_of_a_framework_go_to_the_worker_that_has_it_until_it_is_crowded() -> None:
    require("torch-autograd")
    require("tf-tape")
    torch_config = RunConfig.notebook("quadratic-bias", impl="torch-autograd", steps=300)
    tf_config = RunConfig.notebook("quadratic-bias", impl="tf-tape", steps=300)
    workers = WorkerPool(2)
    try:  # opening a run builds its data only: no framework is imported here
        first_torch, first_tf = workers.open(torch_config), workers.open(tf_config)
        assert first_tf.worker_pid != first_torch.worker_pid, "TensorFlow went where PyTorch will load"
        more_torch = [workers.open(torch_config) for _ in range(3)]
        assert {run.worker_pid for run in more_torch} == {first_torch.worker_pid}  # 4 runs there against 1
        spilled = workers.open(torch_config)  # one more would leave it 4 runs ahead of the other worker
        assert spilled.worker_pid == first_tf.worker_pid
    finally:
        workers.shutdown()
