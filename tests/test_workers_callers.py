"""Everything else that trains, through worker processes: a comparison, a challenge's runs and the Speed page's
timings reach the numbers they reach in this process, bit for bit; ``pool.call`` computes one function in a
worker; a run followed to its end and left early pauses in its worker; and with workers on, the Compare tab,
the Predict tab and the Speed page never import PyTorch or TensorFlow into the Streamlit process."""
from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import textwrap
from typing import Iterator

import numpy as np
import pytest

import fitcore
from fitcore import RunConfig, WorkerError, WorkerPool
from fitcore.challenge_sets import challenges_for
from fitcore.challenges import run_challenge
from fitcore.compare import compare, plan_frameworks, plan_sweep
from fitcore.explain import numpy_state
from fitcore.speed import Entry, measure
from fitcore.sweep import SweepEntry, measure_point, sweep

from conftest import REPO, assert_same_run, require


@pytest.fixture(scope="module")
def pool() -> Iterator[WorkerPool]:
    workers = WorkerPool(2)
    yield workers
    workers.shutdown()


def assert_same_outcomes(got: fitcore.compare.Comparison, expected: fitcore.compare.Comparison) -> None:
    """Bit for bit, except the exact engine's float64 products: they depend on where a run's chunks begin, in one
    process as much as across two (a run advanced 7 steps at a time ends 2e-12 away from one advanced at once),
    so an exact run agrees to its last few bits only, wherever it runs."""
    assert [o.key for o in got.outcomes] == [o.key for o in expected.outcomes]
    for mine, theirs in zip(got.outcomes, expected.outcomes):
        assert (mine.status, mine.message, mine.diverged_at, mine.final_step) == \
            (theirs.status, theirs.message, theirs.diverged_at, theirs.final_step), mine.key
        pairs = ((mine.steps, theirs.steps), (mine.losses, theirs.losses), (mine.params, theirs.params),
                 (np.array(mine.final_loss), np.array(theirs.final_loss)))
        for a, b in pairs:
            if mine.job.config.impl == "analytic":
                np.testing.assert_allclose(a, b, rtol=1e-13, atol=0)
            else:
                np.testing.assert_array_equal(a, b)


def test_that_comparing_frameworks_through_workers_gives_the_in_process_outcomes_bit_for_bit(pool: WorkerPool) -> None:
    plan = plan_frameworks(RunConfig.notebook("sine-cubic", steps=300))
    here = compare(plan)
    assert all(o.ran for o in here.outcomes), [o.message for o in here.outcomes]
    assert_same_outcomes(compare(plan, open_run=pool.open), here)


def test_that_a_learning_rate_sweep_through_workers_marks_the_same_runs_diverged(pool: WorkerPool) -> None:
    plan = plan_sweep(RunConfig.notebook("sine-cubic", impl="numpy", optimizer="adam", lr=0.01, steps=2000))
    assert_same_outcomes(compare(plan, open_run=pool.open), compare(plan))


@pytest.mark.parametrize("page", ["quadratic-bias", "quadratic-recovery"])
def test_that_a_challenge_through_workers_is_judged_from_the_same_runs(pool: WorkerPool, page: str) -> None:
    # the page's longest challenge: the one a page sends to a worker
    challenge = max(challenges_for(page), key=lambda c: max(config.steps for config in c.configs(page).values()))
    here = run_challenge(challenge, page)
    there = run_challenge(challenge, page, open_run=pool.open)
    assert set(there) == set(here)
    for label, run in there.items():
        assert isinstance(run, fitcore.RemoteRun)
        if run.config.impl != "analytic":
            assert_same_run(run, here[label])
        else:  # the exact engine's last bits depend on where its chunks begin (assert_same_outcomes says why)
            assert (run.status, run.step, run.reason) == (here[label].status, here[label].step, here[label].reason)
            for mine, theirs in zip(run.history.arrays(), here[label].history.arrays()):
                np.testing.assert_allclose(mine, theirs, rtol=1e-12, atol=0)
    assert challenge.outcome(there) == challenge.outcome(here)


def test_that_timing_implementations_through_workers_times_each_of_them_there(pool: WorkerPool) -> None:
    require("torch-autograd")
    entries = (Entry("numpy"), Entry("torch-autograd"), Entry("analytic"))
    timings = [p.timing for p in measure("linear-2x", entries, seconds_each=0.05, slice_seconds=0.02,
                                         open_run=pool.open) if p.timing is not None]
    assert [t.entry for t in timings] == list(entries)
    for timing in timings:
        assert timing.error is None and timing.steps > 0 and timing.seconds > 0, timing


def test_that_a_call_computes_in_a_worker_and_returns_its_result(pool: WorkerPool) -> None:
    assert pool.call(os.getpid) in pool.pids()
    config = RunConfig.notebook("quadratic-recovery", impl="numpy", optimizer="adam", lr=0.01, steps=5000)
    there, here = pool.call(numpy_state, config, 1234), numpy_state(config, 1234)
    np.testing.assert_array_equal(there.params, here.params)
    assert there.slots.keys() == here.slots.keys()
    for name in here.slots:
        np.testing.assert_array_equal(there.slots[name], here.slots[name])


def test_that_a_call_that_fails_raises_its_error_here_and_the_worker_goes_on(pool: WorkerPool) -> None:
    with pytest.raises(WorkerError, match="math domain error"):
        pool.call(math.sqrt, -1.0)
    assert pool.call(math.sqrt, 4.0) == 2.0


def test_that_a_sweep_point_timed_in_a_worker_is_a_measurement_and_a_failed_one_says_why(pool: WorkerPool) -> None:
    def broken(*args: object) -> None:
        raise WorkerError("The worker process computing this ended unexpectedly.")

    entry = SweepEntry("numpy", False, "cpu")
    point = pool.call(measure_point, entry, 2000, 0.01, 2)
    assert point.error is None and len(point.samples_us) == 2 and point.steps_per_run > 0
    failed = [p.point for p in sweep([entry], [2000], measure=broken) if p.point is not None]
    assert len(failed) == 1 and "ended unexpectedly" in failed[0].error


def test_that_a_run_followed_through_its_worker_and_left_early_pauses_there(pool: WorkerPool) -> None:
    run = pool.open(RunConfig.notebook("sine-cubic", impl="numpy", compiled=True, steps=10_000_000))
    progress = run.follow(0.05)
    for _ in range(200):
        if next(progress).step > 0:
            break
    progress.close()
    assert run.status == "paused" and 0 < run.step < run.total_steps and not run.worker_training
    halted_at = run.step
    assert run.sync(wait=0.3).step == halted_at, "the worker trained on after its follower left"
    run.stop()


SERVER_SIDE = textwrap.dedent("""
    import json, sys
    from streamlit.testing.v1 import AppTest
    from fitcore.challenge_sets import challenges_for

    PAGE, PATH = "quadratic-bias", "app_pages/quadratic_bias.py"

    def loaded():
        return [name for name in ("torch", "tensorflow") if name in sys.modules]

    def app(path, query=None):
        at = AppTest.from_file("dashboard.py", default_timeout=300)
        at.query_params.update(query or {})
        at.run()  # st.navigation registers the pages on a first run; then a page can be opened by file
        at.switch_page(path)
        return at.run()

    report = {}
    at = app(PATH, {"impl": "torch-autograd", "steps": "200"})
    at.button(key=PAGE + ":compare_frameworks").click().run()
    comparison = at.session_state["state:" + PAGE].extras["compare:frameworks"]
    report["compare"] = {"loaded": loaded(), "exceptions": len(at.exception),
                         "ran": sorted(o.key for o in comparison.outcomes if o.ran)}
    challenge = challenges_for(PAGE)[0]
    key = f"{PAGE}:predict_{challenge.key}"
    at.radio(key=key).set_value(challenge.choices[0]).run()
    at.button(key=key + "_reveal").click().run()
    report["challenge"] = {"loaded": loaded(), "exceptions": len(at.exception),
                           "answers": len(at.session_state["challenge_answers"])}
    at = app("app_pages/speed.py")
    at.multiselect(key="speed:entries").set_value(["PyTorch autograd", "TensorFlow GradientTape"])
    at.select_slider(key="speed:budget").set_value(0.1)
    at.button(key="speed:go").click().run()
    timings = at.session_state["speed:results"]["quadratic-recovery"][1]
    lines = [label for label in at.multiselect(key="speed:sweep_entries").options if label.startswith("PyTorch autograd")]
    at.multiselect(key="speed:sweep_entries").set_value(lines[:1])
    at.button(key="speed:sweep_go").click().run()
    points = at.session_state["speed:sweep"]
    report["speed"] = {"loaded": loaded(), "exceptions": len(at.exception),
                       "timed": sorted(t.entry.impl for t in timings if t.error is None and t.steps),
                       "swept": sum(p.error is None for p in points)}
    print(json.dumps(report))
""")


def test_that_with_workers_on_compare_challenges_and_speed_never_import_a_framework_into_the_server() -> None:
    require("torch-autograd")
    require("tf-tape")
    env = {**os.environ, "PYTHONPATH": str(REPO), "TF_CPP_MIN_LOG_LEVEL": "3", "FITCORE_WORKERS": "1"}
    result = subprocess.run([sys.executable, "-c", SERVER_SIDE], cwd=REPO, env=env, capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    for stage, seen in report.items():
        assert seen["loaded"] == [], f"{stage} imported {seen['loaded']} into the Streamlit process"
        assert seen["exceptions"] == 0, stage
    assert {"torch-autograd", "tf-tape"} <= set(report["compare"]["ran"])
    assert report["challenge"]["answers"] == 1
    assert report["speed"]["timed"] == ["tf-tape", "torch-autograd"] and report["speed"]["swept"] == 3
