"""A run's printed lines against the notebook's, digit by digit."""
from __future__ import annotations

import pytest

from fitcore.agreement import PrintedLine, agreement, compare_line
from fitcore.notebook_prints import PrintedCell


def _marks(line) -> list[tuple[str, str]]:
    return [(segment.text, segment.kind) for segment in line.segments]


def test_that_identical_lines_agree_to_every_printed_digit() -> None:
    line = compare_line("Epoch 3: w = 1.872, loss = 0.76800019", "Epoch 3: w = 1.872, loss = 0.76800019")
    assert line.exact and line.digits is None
    assert ("1.872", "agree") in _marks(line) and ("0.76800019", "agree") in _marks(line)


def test_that_a_number_agrees_to_the_digits_its_relative_difference_allows_and_those_are_marked() -> None:
    # 61.3470 against 61.3567: relative difference 1.6e-4, so three significant digits
    line = compare_line("14.805198669433594 tensor([ 0.6891, -12.8450, 61.3470], requires_grad=True)",
                        "14.786705592658913 tensor([ 0.6894, -12.8501, 61.3567], requires_grad=True)")
    marks = _marks(line)
    assert ("61.3", "agree") in marks and ("470", "differ") in marks
    assert ("-12.8", "agree") in marks and ("450", "differ") in marks
    assert ("14", "agree") in marks and (".805198669433594", "differ") in marks
    assert line.digits == 2  # the worst number sets the line's agreement
    assert not line.exact


def test_that_spacing_inside_a_line_does_not_count_but_different_words_do() -> None:
    assert compare_line("tensor([ 0.5809, -10.3335])", "tensor([  0.5809, -10.3335])").exact
    assert compare_line("Step 1, Loss: 2.0", "Epoch 1: loss 2.0").digits == 0


def test_that_a_line_the_run_has_not_printed_is_neither_agreeing_nor_differing() -> None:
    line = compare_line("99 1617.7257491795092", None)
    assert line.ours is None and not line.exact
    assert _marks(line) == [("99 1617.7257491795092", "text")]


CELL = PrintedCell("test", "000_test.txt", "a test cell", 3, intro=("start 1.0",),
                   loop=("0 10.0", "1 5.0", "2 2.5"), final=("end 2.0",))


def _ours(*values: float, final: bool = False) -> list[PrintedLine]:
    lines = [PrintedLine("intro", 0, "start 1.0")]
    lines += [PrintedLine("step", t, f"{t} {v}") for t, v in enumerate(values)]
    return lines + ([PrintedLine("final", len(values), "end 2.0")] if final else [])


def test_that_all_lines_agreeing_says_so_with_the_count() -> None:
    compared = agreement(CELL, [0, 1, 2], _ours(10.0, 5.0, 2.5, final=True), 3, final_due=True)
    assert compared.verdict == "all 5 lines agree to every printed digit"


def test_that_a_run_in_progress_is_compared_so_far() -> None:
    compared = agreement(CELL, [0, 1, 2], _ours(10.0), 3, final_due=False)
    assert compared.verdict == "every line so far agrees to every printed digit (so far 2 of 5)"


def test_that_the_verdict_names_the_worst_agreement_and_why() -> None:
    cell = PrintedCell("t", "x.txt", "t", 3, intro=(), loop=("0 10.0", "1 5.0", "2 2.5"), final=(),
                       limit="float32 rounding")
    compared = agreement(cell, [0, 1, 2], [PrintedLine("step", 0, "0 10.0"), PrintedLine("step", 1, "1 5.001"),
                                           PrintedLine("step", 2, "2 2.5")], 3, final_due=True)
    assert compared.verdict == ("2 of 3 lines agree to every printed digit, the others to 3 significant digits or "
                                "more: float32 rounding")


def test_that_lines_after_a_shorter_runs_end_are_counted_apart_and_its_final_lines_not_paired() -> None:
    compared = agreement(CELL, [0, 1, 2], _ours(10.0, 5.0, final=True), 2, final_due=False)
    assert compared.lines[-1].ours is None
    assert compared.verdict == ("all 3 lines agree to every printed digit; this run stops before the notebook's "
                                "last 2 lines")


def test_that_the_comparison_as_json_carries_every_line() -> None:
    data = agreement(CELL, [0, 1, 2], _ours(10.0, 5.0, 2.5, final=True), 3, final_due=True).as_dict()
    assert data["seed_file"] == "000_test.txt" and len(data["lines"]) == 5
    assert data["lines"][1] == {"notebook": "0 10.0", "run": "0 10.0", "every_digit": True, "digits": None}


@pytest.mark.parametrize("printed, ours, digits", [("9.749544226693866", "9.749544226693867", 15),
                                                   ("0.00000001", "0.00000002", 0), ("-1.5", "1.5", 0)])
def test_that_agreement_counts_significant_digits(printed: str, ours: str, digits: int) -> None:
    assert compare_line(printed, ours).digits == digits
