"""The parameter panels: stacked, each with its own y scale, their labels clear of the next panel's."""
import numpy as np
import pytest

from ui.charts import live_frame_for
from ui.charts.progress import (LABEL_CLEARANCE, PANEL_EDGE, PX_PER_TICK, panel_height, panel_ticks, params_chart,
                                 params_spec)


def panel_axes(spec: dict) -> list[tuple[dict, dict]]:
    """(y scale, y axis) of every panel, top to bottom."""
    found = []
    for panel in spec["vconcat"]:
        y = next(layer["encoding"]["y"] for layer in panel["layer"] if "axis" in layer["encoding"].get("y", {}))
        found.append((y["scale"], y["axis"]))
    return found


@pytest.mark.parametrize("names", [("bias",), ("a", "b", "c"), ("a", "b", "c", "d"), tuple(f"w{k}" for k in range(7))])
@pytest.mark.parametrize("live", [False, True])
def test_that_every_panel_keeps_its_ends_free_and_its_end_labels_lean_inward(names: tuple[str, ...], live: bool):
    count = len(names)
    frame = live_frame_for(100, 10.0, 1.0, np.zeros(count), np.ones(count)) if live else None
    for scale, axis in panel_axes(params_spec(names, not live, frame)):
        assert scale["padding"] == PANEL_EDGE and scale["nice"] is False
        assert axis["labelFlush"] > PANEL_EDGE  # a label within the free end is drawn inside its panel


def test_that_short_panels_get_two_labels_and_tall_ones_three():
    def ticks(count: int) -> set[int]:
        return {axis["tickCount"] for _, axis in panel_axes(params_spec(tuple(f"w{k}" for k in range(count))))}
    assert ticks(1) == ticks(3) == {3}
    assert ticks(4) == ticks(7) == {2}


@pytest.mark.parametrize("low, high, height", [(0.0, 0.55, 82), (-1.05, 1.0, 82), (-0.03, 0.0, 82), (0.69, 61.3, 110),
                                               (3e-5, 7e-5, 64), (-1.13, 0.857, 64), (5.0, 5.0001, 330),
                                               (3e-9, 7e-9, 82), (1e7, 3e7, 82), (-12.85, 61.36, 300)])
def test_that_a_panel_labels_two_or_three_round_values_clear_of_its_ends(low: float, high: float, height: int):
    ticks = panel_ticks(low, high, height)
    assert 2 <= len(ticks.values) <= max(2, height // PX_PER_TICK)
    plotted = height - 2 * PANEL_EDGE  # the data's share of the panel
    for value in ticks.values:
        from_bottom = PANEL_EDGE + (value - low) / (high - low) * plotted
        assert LABEL_CLEARANCE <= from_bottom <= height - LABEL_CLEARANCE
    spacing = np.diff(ticks.values)
    np.testing.assert_allclose(spacing, spacing[0])
    # written with the digits that tell them apart, and no more than the step needs
    written = [format_like_d3(value, ticks.format) for value in ticks.values]
    assert len(set(written)) == len(written)


def format_like_d3(value: float, spec: str) -> str:
    """The two d3 formats panel_ticks writes (",.Nf" and ".Ne"), in Python."""
    return format(value, spec.replace("~", ""))


def test_that_a_panel_whose_value_never_moves_labels_that_value_once():
    ticks = panel_ticks(2.0, 2.0, 82)
    assert ticks.values == (2.0,)


def test_that_the_panels_chart_labels_the_values_it_chose_for_each_panel():
    steps = np.arange(0, 101, 10)
    path = np.column_stack([np.linspace(0.55, 0.0, len(steps)), np.linspace(-1.05, 1.0, len(steps))])
    chart = params_chart(("a", "b"), steps, path, np.array([0.0, 1.0]), "true", (100, path[-1]))
    height = panel_height(2)
    for (scale, axis), column in zip(panel_axes(chart.spec), path.T):
        expected = panel_ticks(float(column.min()), float(column.max()), height)
        assert tuple(axis["values"]) == expected.values and axis["format"] == expected.format
        assert axis["labelBaseline"] == "bottom"


def test_that_replaying_an_earlier_step_keeps_the_panels_spec_the_whole_runs():
    steps = np.arange(0, 101, 10)
    path = np.column_stack([np.linspace(0.55, 0.0, len(steps)), np.linspace(-1.05, 1.0, len(steps))])
    targets = np.array([0.0, 1.0])
    whole = params_chart(("a", "b"), steps, path, targets, "true", (100, path[-1]))
    for shown in (1, 4, 8):
        replayed = params_chart(("a", "b"), steps[:shown], path[:shown], targets, "true",
                                (int(steps[shown - 1]), path[shown - 1]), whole=path)
        assert replayed.spec == whole.spec
