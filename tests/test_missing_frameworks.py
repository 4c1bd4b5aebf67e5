"""With PyTorch absent, and with TensorFlow absent, the app starts, every page works with the implementations
that remain, and the missing ones are disabled with the command that installs them.

Each case runs tests/without_framework.py in a fresh interpreter, where no import finder finds the
framework (as when it is not installed); that script drives every page with AppTest and reports what
they showed, and the checks are made here.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from functools import lru_cache
from pathlib import Path
from typing import Any

import pytest

import fitcore

from conftest import unavailable

REPO = Path(__file__).resolve().parent.parent
SCRIPT = Path(__file__).resolve().parent / "without_framework.py"
DEMO_PAGES = ("quadratic-bias", "linear-2x", "quadratic-recovery", "sine-cubic")
PIP = {"torch": "pip install torch==2.13.0", "tensorflow": "pip install tensorflow-cpu==2.21.0"}
NAMES = {"torch": "PyTorch", "tensorflow": "TensorFlow"}
OTHER = {"torch": "tensorflow", "tensorflow": "torch"}


def impls_of(framework: str) -> set[str]:
    return {i.id for i in fitcore.IMPLEMENTATIONS.values() if i.framework == framework}


@lru_cache(maxsize=None)
def report(framework: str) -> dict[str, Any]:
    for needed in (framework, OTHER[framework]):
        if not fitcore.framework_available(needed):
            unavailable(f"{NAMES[needed]} is not installed here, so its absence cannot be simulated against it")
    done = subprocess.run([sys.executable, str(SCRIPT), framework], cwd=REPO, capture_output=True, text=True,
                          timeout=600, env=os.environ | {"TF_CPP_MIN_LOG_LEVEL": "3"})
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("framework", ("torch", "tensorflow"))
def test_that_the_app_starts_and_the_framework_is_never_imported(framework: str) -> None:
    seen = report(framework)
    assert seen["available"] == {i: i not in impls_of(framework) for i in fitcore.IMPLEMENTATIONS}
    assert seen["home"]["exceptions"] == [] and seen["home"]["titles"] == ["See gradient descent"]
    assert seen["imported"] is False


@pytest.mark.parametrize("framework", ("torch", "tensorflow"))
@pytest.mark.parametrize("page", DEMO_PAGES)
def test_that_every_demo_page_trains_with_each_remaining_implementation_and_disables_the_missing_ones(
        framework: str, page: str) -> None:
    seen = report(framework)["demos"][page]
    assert seen["exceptions"] == []
    missing = impls_of(framework)
    labels = [label for label in seen["options"] if label.endswith("(not installed)")]
    assert len(labels) == len(missing) and all(NAMES[framework] in label for label in labels)
    for impl, shown in seen["impls"].items():
        assert shown["exceptions"] == [], (impl, shown["exceptions"])
        if impl in missing:
            assert shown["run_disabled"], impl
            assert any(PIP[framework] in error for error in shown["errors"]), (impl, shown["errors"])
        else:
            assert not shown["run_disabled"], impl
            assert (shown["status"], shown["step"]) == ("completed", 20), (impl, shown)
            assert shown["after_run_exceptions"] == []
            assert not [e for e in shown["errors"] if "not installed" in e], (impl, shown["errors"])


@pytest.mark.parametrize("framework", ("torch", "tensorflow"))
def test_that_a_comparison_runs_the_remaining_implementations_and_names_the_install_command_for_the_rest(
        framework: str) -> None:
    seen = report(framework)["compare"]
    assert seen["exceptions"] == [] and seen["errors"] == []
    missing = impls_of(framework)
    assert set(seen["skipped"]) >= missing
    assert all(PIP[framework] in seen["skipped"][impl] for impl in missing)
    remaining = impls_of(OTHER[framework]) | {"numpy"}
    assert remaining <= set(seen["ran"]) and all(seen["ran"][impl] == "completed" for impl in remaining), seen["ran"]


@pytest.mark.parametrize("framework", ("torch", "tensorflow"))
def test_that_your_own_data_and_the_speed_page_work_without_it(framework: str) -> None:
    seen = report(framework)
    custom, speed = seen["custom"], seen["speed"]
    assert custom["exceptions"] == [] and custom["after_run_exceptions"] == [] and custom["status"] == "completed"
    assert sum(label.endswith("(not installed)") for label in custom["options"]) == len(impls_of(framework))
    assert speed["exceptions"] == [] and speed["after_run_exceptions"] == []
    assert not [label for label in speed["entries"] if NAMES[framework] in label], "missing ones are not offered"
    assert speed["measured"] and all(error is None for error in speed["measured"].values()), speed["measured"]
