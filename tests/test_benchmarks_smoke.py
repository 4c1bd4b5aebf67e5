"""The benchmark suite at tiny sizes, so it cannot rot: every group runs and reports its rows. Nothing
here looks at a speed (BENCHMARKS.md, written by `python -m benchmarks`, holds the measurements)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.runner import GROUPS
from benchmarks.stats import Section, paired, ratios, stat

from conftest import unavailable

REPO = Path(__file__).resolve().parent.parent
IN_BROWSER = {"live", "hover"}


def smoke(group: str, output: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO), "TF_CPP_MIN_LOG_LEVEL": "3"}
    # One repetition of each figure: this checks that every figure is measured and reported, not its value.
    return subprocess.run([sys.executable, "-m", "benchmarks", "--smoke", "--runs", "1", "--only", group, "--output",
                           str(output)], cwd=REPO, env=env, capture_output=True, text=True, timeout=600)


# The device group runs in test_that_the_device_group_runs_where_only_numpy_and_torch_exist, as a GPU machine
# without Streamlit or TensorFlow runs it, with the same checks of its report.
ON_A_BARE_MACHINE = {"device"}


@pytest.mark.parametrize("group", [pytest.param(g, marks=pytest.mark.browser) if g in IN_BROWSER else g
                                   for g in GROUPS if g not in ON_A_BARE_MACHINE])
def test_that_every_benchmark_group_runs_at_tiny_sizes_and_writes_its_rows(group: str, tmp_path: Path) -> None:
    if group in IN_BROWSER:
        from tests.browser.harness import chromium_available
        if not chromium_available():
            unavailable(f"the {group} group drives Chromium: apt-get install -y chromium")
    output = tmp_path / "BENCHMARKS.md"
    result = smoke(group, output)
    assert_reported(group, result, output)


def assert_reported(group: str, result: subprocess.CompletedProcess, output: Path) -> None:
    assert result.returncode == 0, result.stderr[-4000:]
    report = output.read_text()
    assert "| group | measurement | median [min–max] | target | verdict |" in report
    assert f"| {group} |" in report, report
    assert "Load average" in report and "--smoke" in report
    assert "Traceback" not in result.stdout


def test_that_a_ratio_is_taken_pair_by_pair_not_from_medians() -> None:
    slow = [10.0, 30.0, 20.0]
    fast = [1.0, 10.0, 2.0]  # ratios 10, 3, 10: their median is 10; the medians' ratio would be 20 / 2
    assert ratios(slow, fast).samples == (10.0, 3.0, 10.0) and ratios(slow, fast).median == 10.0


def test_that_paired_measurements_alternate_which_side_goes_first() -> None:
    order: list[str] = []
    paired(lambda: order.append("a") or 1.0, lambda: order.append("b") or 2.0, 4)
    assert order == ["a", "b", "b", "a", "a", "b", "b", "a"]


def test_that_a_figure_reads_median_then_min_to_max() -> None:
    assert stat([3.0, 1.0, 2.0, 5.0, 4.0], "s").text() == "3 [1–5] s"
    section = Section("x", "X")
    row = section.add("a", stat([1.0, 2.0, 3.0]), "≤ 2", True)
    assert (row.value, row.verdict) == ("2 [1–3]", "met")


def test_that_rerunning_one_group_keeps_every_other_groups_figures_and_replaces_its_own() -> None:
    from benchmarks.report import merge_report

    def report(rows: list[str], sections: dict[str, str]) -> str:
        body = "".join(f"\n## {title}\n\n{text}\n" for title, text in sections.items())
        return ("# Benchmarks\n\nWritten by `x` on 2026-01-01 00:00 UTC (revision a), in 1 s.\n\n"
                "- **Load average** (1, 5, 15 min) before: 1.00, 1.00, 1.00. Other work shares these cores.\n\n"
                "## Summary\n\n| group | measurement | median [min–max] | target | verdict |\n|---|---|---|---|---|\n"
                + "\n".join(rows) + "\n" + body)

    old = report(["| engine | e | 1 |  |  |", "| workshop | w | 1 |  |  |"], {"Engine": "old engine", "Workshop": "old"})
    new = report(["| workshop | w | 2 |  |  |"], {"Workshop": "new"})
    merged = merge_report(old, new, ["workshop"])
    assert "| engine | e | 1 |  |  |" in merged and "old engine" in merged
    assert "| workshop | w | 2 |  |  |" in merged and "| workshop | w | 1 |" not in merged
    assert "\nnew\n" in merged and "\nold\n" not in merged
    assert "**workshop** rewritten since" in merged
    assert merge_report(merged, new, ["workshop"]) == merged


def test_that_the_device_group_runs_where_only_numpy_and_torch_exist(tmp_path: Path) -> None:
    # None in sys.modules makes every import of streamlit or tensorflow fail, as on a bare GPU machine
    code = ("import sys; sys.modules.update(streamlit=None, tensorflow=None, altair=None); "
            "from benchmarks.runner import main; "
            f"sys.exit(main(['--smoke', '--runs', '1', '--only', 'device', '--output', {str(tmp_path / 'B.md')!r}]))")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True,
                            timeout=600)
    assert_reported("device", result, tmp_path / "B.md")
    report = (tmp_path / "B.md").read_text()
    assert "| device | PyTorch autograd · eager · cpu, 2,000 points |" in report
    assert "compiled · cpu" in report and "failed" not in report

