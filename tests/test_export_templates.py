"""The export package's own pieces: the registry names a template for every style, every demo has its data
and printed lines as template parts, the templates travel with a clone, a misspelt name in a template fails
loudly, and ``import fitcore`` leaves Jinja2 unloaded. (That every script reproduces its run is
tests/test_export.py's round trip.)"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import jinja2
import pytest

import fitcore
from fitcore import RunConfig
from fitcore.custom import CustomSource, custom_problem
from fitcore.export import TEMPLATES, export_script
from fitcore.export.facts import style_of
from fitcore.export.render import TEMPLATES as TEMPLATE_FOLDER, _environment

REPO = Path(__file__).resolve().parent.parent


def test_that_every_style_a_config_can_have_has_a_template_in_the_registry() -> None:
    styles = {style_of(RunConfig.notebook("sine-cubic", impl=impl, compiled=compiled))
              for impl in fitcore.IMPLEMENTATIONS for compiled in (False, True)}
    assert styles == set(TEMPLATES)
    assert {path.name for path in TEMPLATE_FOLDER.glob("*.jinja")} == set(TEMPLATES.values())


def test_that_every_demo_and_your_own_data_name_a_data_part_and_a_printer_part_that_exist() -> None:
    own_data = custom_problem(CustomSource("function", degree=2, standardise=False, expression="x", x_min=0.0, x_max=1.0))
    for problem in [*fitcore.PROBLEMS.values(), own_data]:
        assert (TEMPLATE_FOLDER / problem.script.data).is_file(), problem.id
        assert (TEMPLATE_FOLDER / problem.script.printers).is_file(), problem.id


@pytest.mark.skipif(shutil.which("git") is None or not (REPO / ".git").exists(), reason="not a git checkout")
def test_that_every_template_is_tracked_by_git_so_a_fresh_clone_has_it() -> None:
    tracked = subprocess.run(["git", "ls-files", "--", "fitcore/export/templates"], cwd=REPO, capture_output=True,
                             text=True, check=True).stdout.split()
    on_disk = [str(path.relative_to(REPO)) for path in TEMPLATE_FOLDER.rglob("*.jinja")]
    assert sorted(on_disk) == sorted(tracked)


def test_that_a_name_a_template_does_not_define_fails_instead_of_printing_nothing() -> None:
    template = _environment().from_string("LEARNING_RATE = {{ c.learning_rate }}\n")
    with pytest.raises(jinja2.UndefinedError):
        template.render(c=RunConfig.notebook("linear-2x"))


def test_that_a_script_ends_in_one_newline_with_no_trailing_spaces() -> None:
    for impl in fitcore.IMPLEMENTATIONS:
        script = export_script(RunConfig.notebook("quadratic-bias", impl=impl, steps=5))
        assert script.endswith(")\n") and not script.endswith("\n\n")
        assert not [line for line in script.splitlines() if line != line.rstrip()], impl
        assert "\n\n\n\n" not in script, impl


def test_that_import_fitcore_does_not_load_jinja2_until_the_first_export() -> None:
    code = ("import sys, fitcore\nbefore = 'jinja2' in sys.modules\n"
            "fitcore.export_script(fitcore.RunConfig.notebook('linear-2x'))\nprint(before, 'jinja2' in sys.modules)")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=120, check=True)
    assert done.stdout.split() == ["False", "True"]
