"""The live loop's schedule (ui.page.live.next_redraw): redraws keep the page's rate whatever each round
costs, and a late one moves the schedule on. The clock is the test's, so nothing here depends on the machine."""
from __future__ import annotations

import pytest

from ui.page import live


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    now = [100.0]
    monkeypatch.setattr(live.time, "perf_counter", lambda: now[0])
    return now


def test_that_each_redraw_is_due_one_interval_after_the_last_was_due_not_after_it_ended(clock) -> None:
    due = live.next_redraw(clock[0], 0.1)
    assert due == pytest.approx(100.1)
    for _ in range(49):
        clock[0] = due + 0.013  # drawing and reading progress take 13 ms after each redraw was due
        due = live.next_redraw(due, 0.1)
    assert due == pytest.approx(100.1 + 49 * 0.1), "the rate held: ten a second, no drift"


def test_that_a_redraw_that_ran_late_moves_the_schedule_on_and_training_still_gets_a_quarter_interval(clock) -> None:
    clock[0] = 100.5  # the last redraw, due at 100.1, ended 0.4 s late
    assert live.next_redraw(100.1, 0.1) == pytest.approx(100.5 + 0.025)
