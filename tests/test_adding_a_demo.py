"""Adding a demo is one definition plus its page file: a toy demo defined here, and registered with nothing
else, reaches every place that offers demos — its lessons, the exported script (which runs and prints the
run's own lines), the CLI's demo choices, the Speed page's runs and points sweep, the home page's card, the
navigation and its own page with its lessons."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Iterator

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

import fitcore
from fitcore import RunConfig, export_script, train
from fitcore.cli import main
from fitcore.demo import CONSTANT, X, Lesson, NotebookVariant, PageHints, Problem, Sample, ScriptParts
from fitcore.lessons import lesson_config, lessons_for
from fitcore.speed import Entry, measure, speed_config
from fitcore.sweep import SweepEntry, measure_point
from ui.catalog import demo_page_file

from conftest import REPO

pytestmark = pytest.mark.filterwarnings("ignore")


def _sample(seed: int, points: int, noise: float) -> Sample:
    return Sample(x=np.linspace(0.0, 1.0, points), z=np.random.RandomState(seed).standard_normal(points),
                  init=np.zeros(2))


# The whole of the toy demo: a line w·x + b through y = 3x + 1, its notebook, one lesson and its script's parts.
TOY = Problem(
    id="toy-line", title="Toy line", teaches="Fit w·x + b to y = 3x + 1 on [0, 1]: two parameters, one valley.",
    seed_files=(), notebook_frameworks=("NumPy",), param_names=("w", "b"), features=(X, CONSTANT), offset=None,
    formula_code="w * x + b", formula_latex=r"\hat y = w\,x + b", data_latex=r"y = 3x + 1,\; x \in [0, 1]",
    true_params=(3.0, 1.0), default_points=20, points_range=(2, 1000), default_noise=0.0, rng="numpy",
    variants=(NotebookVariant("numpy", "NumPy by hand", "", {"impl": "numpy", "optimizer": "sgd", "lr": 0.5,
                                                             "steps": 200, "reduction": "mean", "dtype": "float64"},
                              log_every=50),),
    sample=_sample,
    truth=lambda x: 3 * x + 1,
    target=lambda x, z, noise: 3 * x + 1 + (noise * z).astype(x.dtype),
    log_line=lambda t, loss, mse, p: f"step {t}: w = {p[0]:.4f}, b = {p[1]:.4f}, loss = {loss:.6f}",
    final_lines=lambda p: [f"fitted y = {p[0]:.3f} x + {p[1]:.3f}"],
    script=ScriptParts(
        data="x = np.linspace(0.0, 1.0, POINTS).astype(DTYPE)\n"
             "y = 3 * x + 1\n"
             "theta0 = np.zeros(2, dtype=DTYPE)\n",
        printers="def print_progress(step: int, loss: float, theta: np.ndarray) -> None:\n"
                 "    print(f\"step {step}: w = {theta[0]:.4f}, b = {theta[1]:.4f}, loss = {loss:.6f}\")\n"
                 "\n\n"
                 "def print_final(theta: np.ndarray) -> None:\n"
                 "    print(f\"fitted y = {theta[0]:.3f} x + {theta[1]:.3f}\")\n"),
    lessons=(Lesson("diverging", "Diverging: past 2/λmax",
                    "The loss curves 2.54 in its steepest direction, so lr 1 is past 2/λmax = 0.79. Watch the loss grow "
                    "until the run stops.",
                    "Which rate would land the steep direction in one step?", "1/λmax ≈ 0.39.", "diverged",
                    {"lr": 1.0, "steps": 200}),),
    page=PageHints(icon="trending_up"),
)
PAGE_FILE = REPO / demo_page_file(TOY)


@pytest.fixture
def toy_demo(monkeypatch: pytest.MonkeyPatch) -> Iterator[Problem]:
    """The toy registered beside the demos, for this test only."""
    monkeypatch.setitem(fitcore.PROBLEMS, TOY.id, TOY)
    yield TOY


@pytest.fixture
def toy_page(toy_demo: Problem) -> Iterator[Path]:
    """The toy's page file, the one file a demo adds besides its definition (removed afterwards)."""
    assert not PAGE_FILE.exists()
    PAGE_FILE.write_text(f'from ui.page.assembly import demo_page\n\ndemo_page("{TOY.id}")\n', encoding="utf-8")
    try:
        yield PAGE_FILE
    finally:
        PAGE_FILE.unlink()


def test_that_a_new_demos_lessons_are_its_definitions(toy_demo: Problem) -> None:
    assert lessons_for(TOY.id) == TOY.lessons
    run = train(lesson_config(TOY.lessons[0], TOY.id))
    assert run.status == TOY.lessons[0].promise


def test_that_a_new_demo_exports_a_script_that_prints_its_runs_lines(toy_demo: Problem, tmp_path: Path) -> None:
    config = RunConfig.notebook(TOY.id)
    script = tmp_path / "toy.py"
    script.write_text(export_script(config), encoding="utf-8")
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    run = train(config)
    *printed, final = done.stdout.rstrip("\n").splitlines()
    assert printed == [line.text for line in run.log]
    assert final.startswith(f"FINAL loss={run.current_loss!r}")


def test_that_the_cli_offers_and_runs_a_new_demo(toy_demo: Problem, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", TOY.id, "--steps", "60"]) == 0
    printed = capsys.readouterr().out
    assert "step 50: w = " in printed


def test_that_the_speed_page_measures_a_new_demo_and_sweeps_its_points(toy_demo: Problem) -> None:
    assert speed_config(TOY.id, Entry("numpy")).problem == TOY.id
    timed = [p.timing for p in measure(TOY.id, [Entry("numpy")], seconds_each=0.05) if p.timing is not None]
    assert timed and timed[0].error is None and timed[0].steps > 0
    point = measure_point(SweepEntry("numpy", False, "cpu"), 50, seconds=0.01, runs=1, problem_id=TOY.id)
    assert point.error is None and point.steps_per_run > 0


def test_that_the_home_page_navigation_and_its_own_page_show_a_new_demo(toy_page: Path) -> None:
    at = AppTest.from_file(str(REPO / "dashboard.py"), default_timeout=120)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert TOY.title in [header.value for header in at.subheader]
    at.switch_page("app_pages/speed.py")
    at.run()
    assert TOY.title in at.selectbox(key="speed:demo").options
    at.switch_page(str(toy_page.relative_to(REPO)))
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.title[0].value == TOY.title
    at.button(key=f"{TOY.id}:lesson_diverging_run").click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.session_state[f"state:{TOY.id}"].run.status == "diverged"
