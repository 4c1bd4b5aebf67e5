"""The parameter panels: stacked, each with its own y scale, their labels clear of the next panel's."""
import numpy as np
import pytest

from ui.charts import live_frame_for
from ui.charts.progress import PANEL_EDGE, params_spec


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
