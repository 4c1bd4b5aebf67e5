"""Every word a chart draws is readable on the light page and on the dark (WCAG AA: 4.5:1, large text 3:1),
worked out from the specs alone: each text colour (an axis's, a legend's, a title's, a text mark's) as the
spec or Streamlit's theme sets it, in each theme, through its opacity, against that theme's background."""
from __future__ import annotations

from typing import Any, Iterator

import numpy as np
import pytest

from ui.charts import compare, extras, fit, landscape, preview, progress
from ui.charts.ink import BACKGROUNDS, INKS, Ink, ink_in
from ui.speed.page import speed_spec
from ui.speed.sweep import sweep_spec

THEMES = tuple(BACKGROUNDS)
# What Streamlit 1.67's theme gives the words a spec leaves uncoloured (its CustomTheme and opacities
# chunks): guides in grey (gray70 on light, gray30 on dark), titles in the page's text colour (as measured
# in Chromium), marks in the first categorical colour (blue80, blue40).
STREAMLIT_INK = {"light": {"guide": "#808495", "title": "#2F2D2B", "mark": "#0068C9"},
                 "dark": {"guide": "#E6EAF1", "title": "#EDEBE8", "mark": "#83C9FF"}}
GUIDES = ("axis", "legend", "header")
DEFAULT_FONT_SIZE = 11  # Vega's text mark


def relative_luminance(colour: str) -> float:
    """WCAG 2's relative luminance of a #RRGGBB colour."""
    channels = np.array([int(colour[i:i + 2], 16) for i in (1, 3, 5)]) / 255.0
    linear = np.where(channels <= 0.04045, channels / 12.92, ((channels + 0.055) / 1.055) ** 2.4)
    return float(linear @ np.array([0.2126, 0.7152, 0.0722]))


def contrast(first: str, second: str) -> float:
    light, dark = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def blended(colour: str, opacity: float, backdrop: str) -> str:
    """``colour`` painted at ``opacity`` over ``backdrop``: what the eye sees."""
    ink = np.array([int(colour[i:i + 2], 16) for i in (1, 3, 5)], dtype=np.float64)
    under = np.array([int(backdrop[i:i + 2], 16) for i in (1, 3, 5)], dtype=np.float64)
    return "#" + "".join(f"{round(v):02X}" for v in opacity * ink + (1 - opacity) * under)


def needed(size: float, bold: bool) -> float:
    """AA's minimum: 3:1 for large text (18 pt, or 14 pt bold: 24 px, 18.67 px bold), 4.5:1 otherwise."""
    return 3.0 if size >= 24 or (bold and size >= 18.66) else 4.5


def every_spec() -> dict[str, dict[str, Any]]:
    frame = progress.live_frame_for(1000, 100.0, 1.0, np.zeros(4), np.ones(4))
    ticks = tuple(progress.panel_ticks(0.0, 1.0, 80) for _ in range(4))
    specs = {"fit": fit.fit_spec((-2.0, 1.0), True), "fit live": fit.fit_spec((-2.0, 1.0), False),
             "landscape 1d": landscape.landscape_1d_spec("w", True),
             "landscape 2d": landscape.landscape_2d_spec("a", "b", ((-1.0, 2.5), (0.125, 3.0)), True),
             "landscape 2d live": landscape.landscape_2d_spec("a", "b", ((-1.0, 2.5), (0.125, 3.0)), False),
             "loss": progress.loss_spec(False, True, None, True, True), "loss live": progress.loss_spec(True, False, frame),
             "parameters": progress.params_spec(("a", "b", "c", "d"), True, None, False, ticks),
             "parameters live": progress.params_spec(("a", "b", "c", "d"), False, frame, True),
             "small multiples": extras.panels_spec(3), "schedule": extras.schedule_spec(),
             "compare curves": compare.curves_spec(("one", "two"), "Loss", False),
             "compare differences": compare.differences_spec(("one", "two")), "sweep": compare.sweep_spec(),
             "home preview": preview.preview_spec(), "speed": speed_spec(("numpy", "torch")),
             "speed sweep": sweep_spec(True)}
    return specs


def layers(spec: Any) -> Iterator[tuple[dict[str, Any], list[Any]]]:
    """Every unit chart in ``spec`` with the list of layers it stands in (its siblings), depth first."""
    if isinstance(spec, dict):
        if "mark" in spec:
            yield spec, []
        for key, value in spec.items():
            if key in ("layer", "vconcat", "hconcat", "concat") and isinstance(value, list):
                for child in value:
                    for unit, siblings in layers(child):
                        yield unit, siblings or value
            elif key == "spec":
                yield from layers(value)


def words(spec: dict[str, Any], theme: str) -> Iterator[tuple[str, str, str, float, bool]]:
    """(what, colour, backdrop, size, bold) for every kind of word the spec draws, in ``theme``."""
    config = spec.get("config", {})
    page = BACKGROUNDS[theme]
    theirs = STREAMLIT_INK[theme]

    def colour_of(value: Any, fallback: str, what: str) -> str:
        found = ink_in(value, theme, spec) if value is not None else fallback
        assert found is not None, f"{what}: a colour this test cannot read: {value}"
        return found

    for guide in GUIDES if "facet" in spec else GUIDES[:2]:  # headers label a facet's panels
        settings = config.get(guide, {})
        for part, size in (("label", 12), ("title", 14)):
            colour = colour_of(settings.get(f"{part}Color"), theirs["guide"], f"{guide} {part}")
            yield f"{guide} {part}s", colour, page, size, False
    title = config.get("title", {})
    yield "the title", colour_of(title.get("color"), theirs["title"], "title"), page, 16, True
    for node in walk(spec):  # an axis or legend of one encoding may set its own colour or opacity
        for guide in ("axis", "legend"):
            settings = node.get(guide)
            if isinstance(settings, dict):
                for part in ("label", "title"):
                    colour = colour_of(settings.get(f"{part}Color", config.get(guide, {}).get(f"{part}Color")),
                                       theirs["guide"], f"{guide} {part}")
                    opacity = settings.get(f"{part}Opacity", 1.0)
                    yield f"an {guide}'s {part}s", blended(colour, opacity, page), page, 12, False
    for unit, siblings in layers(spec):
        mark = unit["mark"] if isinstance(unit["mark"], dict) else {"type": unit["mark"]}
        if mark["type"] != "text":
            continue
        assert "color" not in unit.get("encoding", {}), "a text mark coloured by data: not judged here"
        default = config.get("text", {}).get("color", config.get("mark", {}).get("color"))
        colour = colour_of(mark.get("fill", mark.get("color", default)), theirs["mark"], "a text mark")
        opacity = mark.get("opacity", 1.0) * mark.get("fillOpacity", 1.0)
        size, bold = mark.get("fontSize", DEFAULT_FONT_SIZE), mark.get("fontWeight") in ("bold", 700, 800, 900)
        halo = halo_under(unit, siblings)
        if halo is not None:  # drawn over the contours: the halo is its backdrop, whatever lies under that
            if halo is not unit:
                for under in ("#FFFFFF", "#000000"):
                    backdrop = blended(halo["mark"]["stroke"], halo["mark"].get("strokeOpacity", 1.0), under)
                    yield "a word on its halo", blended(colour, opacity, backdrop), backdrop, size, bold
            continue
        yield f"a text mark ({unit.get('encoding', {}).get('text', mark.get('text'))})", \
            blended(colour, opacity, page), page, size, bold


def halo_under(unit: dict[str, Any], siblings: list[Any]) -> dict[str, Any] | None:
    """The halo a text mark stands on: an earlier text layer of the same words drawn with a wide stroke
    (``unit`` itself when it is a halo); None for words on the page's background."""
    def is_halo(layer: Any) -> bool:
        mark = layer.get("mark") if isinstance(layer, dict) else None
        return isinstance(mark, dict) and mark.get("type") == "text" and mark.get("strokeWidth", 0) >= 2

    if is_halo(unit):
        return unit
    same = lambda layer: all(layer.get(k) == unit.get(k) for k in ("data", "transform", "encoding"))  # noqa: E731
    earlier = siblings[:next((i for i, layer in enumerate(siblings) if layer is unit), 0)]
    return next((layer for layer in reversed(earlier) if is_halo(layer) and same(layer)), None)


def walk(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from walk(value)


@pytest.mark.parametrize("name", list(every_spec()))
def test_that_every_word_a_chart_draws_reaches_wcag_aa_on_both_themes(name: str) -> None:
    spec = every_spec()[name]
    failures = []
    for theme in THEMES:
        for what, colour, backdrop, size, bold in words(spec, theme):
            ratio = contrast(colour, backdrop)
            if ratio < needed(size, bold):
                failures.append(f"{theme}: {what} {colour} on {backdrop}: {ratio:.2f}:1, needs {needed(size, bold)}:1")
    assert not failures, f"{name}:\n" + "\n".join(failures)


def test_that_each_ink_reaches_aa_for_small_text_on_its_own_theme() -> None:
    for ink in INKS:
        assert contrast(ink.light, BACKGROUNDS["light"]) >= 4.5 and contrast(ink.dark, BACKGROUNDS["dark"]) >= 4.5


def test_that_an_ink_reads_back_as_its_colour_in_each_theme_and_a_plain_colour_as_itself() -> None:
    ink = Ink("test_ink", "#123456", "#ABCDEF")
    spec = {"params": [ink.param]}
    assert (ink_in(ink.value, "light", spec), ink_in(ink.value, "dark", spec)) == ("#123456", "#ABCDEF")
    assert ink_in(ink.value, "light", {}) is None  # a signal the spec does not define
    assert ink_in("#4C78A8", "dark", spec) == "#4C78A8"
    assert ink_in({"expr": "width < 400 ? 'red' : 'blue'"}, "light", spec) is None

