"""The notebooks' printed lines, kept as data in fitcore, against the seed files themselves."""
from __future__ import annotations

import pytest

from fitcore import PROBLEMS
from fitcore.notebook_prints import CELLS, RECOVERY_Y, RECOVERY_YHAT

from conftest import seed_file


def _seed_lines(name: str) -> list[str]:
    return [" ".join(line.split()) for line in seed_file(name[:3]).read_text(encoding="utf-8").splitlines()]


@pytest.mark.parametrize("cell", CELLS, ids=lambda cell: cell.key)
def test_that_every_printed_line_stands_in_its_seed_file_in_the_same_order(cell) -> None:
    lines = _seed_lines(cell.seed_file)
    position = 0
    for text in cell.lines:
        wanted = " ".join(text.split())
        assert wanted in lines[position:], f"{text!r} is not in {cell.seed_file} after line {position}"
        position = lines.index(wanted, position) + 1


def test_that_seed_002s_printed_data_and_predictions_are_the_seed_files_numbers() -> None:
    text = " ".join(seed_file("002").read_text(encoding="utf-8").split())
    y_block = text.split("(tensor([", 1)[1].split("])", 1)[0]
    yhat_block = text.split("yhat yhat tensor([", 1)[1].split("],", 1)[0]
    assert tuple(float(v) for v in y_block.split(",")) == RECOVERY_Y
    assert tuple(float(v) for v in yhat_block.split(",")) == RECOVERY_YHAT


def test_that_every_cell_belongs_to_a_variant_and_every_seed_file_is_a_demos() -> None:
    variants = [v for problem in PROBLEMS.values() for v in problem.variants]
    assert {cell.key for cell in CELLS} == {v.cell.key for v in variants if v.cell is not None}
    for variant in variants:
        if variant.cell is not None:
            assert variant.cell.seed_file == variant.seed_file


@pytest.mark.parametrize("cell", CELLS, ids=lambda cell: cell.key)
def test_that_a_cells_steps_are_those_of_its_loop_lines(cell) -> None:
    variant = next(v for p in PROBLEMS.values() for v in p.variants if v.cell is cell and
                   v.settings["steps"] == cell.steps)
    assert len(variant.printed_steps) == len(cell.loop)
    assert variant.printed_steps[-1] < cell.steps <= variant.printed_steps[-1] + variant.log_every
