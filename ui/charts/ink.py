"""The colours of every word a chart draws, one per theme: readable (WCAG AA) on the light page and the dark.

A spec is built once on the server, which does not know the theme a viewer sees (their system's, or the
one they pick in the menu, live). Streamlit sets each chart's ``background`` to its theme's page colour,
and Vega knows it as a signal: a word's colour is an expression choosing the light theme's ink on a light
background and the dark theme's on a dark one. No single colour could serve both: 4.5:1 against white
needs a luminance under 0.18, and 4.5:1 against the dark page (#0E1117) one over 0.20.
tests/test_charts_contrast.py checks every text colour of every spec against both backgrounds.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

# The page's background in each theme: Streamlit's, which .streamlit/config.toml leaves as they are.
BACKGROUNDS = {"light": "#FFFFFF", "dark": "#0E1117"}
_CHOICE = "luminance(background) > 0.5 ? '{light}' : '{dark}'"
_CHOSEN = re.compile(r"^luminance\(background\) > 0\.5 \? '(#[0-9A-Fa-f]{6})' : '(#[0-9A-Fa-f]{6})'$")


@dataclass(frozen=True)
class Ink:
    """A text colour for each theme."""

    light: str
    dark: str

    @property
    def value(self) -> dict[str, str]:
        """The colour as a Vega-Lite expression that picks the theme's ink from the chart's background."""
        return {"expr": _CHOICE.format(light=self.light, dark=self.dark)}


def ink_in(colour: Any, theme: str) -> str | None:
    """What a spec's colour (a fixed colour or an ``Ink``'s expression) is in ``theme``; None for an
    expression of another kind."""
    if isinstance(colour, str):
        return colour
    if isinstance(colour, dict) and isinstance(colour.get("expr"), str):
        chosen = _CHOSEN.match(colour["expr"])
        if chosen:
            return chosen.group(1) if theme == "light" else chosen.group(2)
    return None


# Words: the labels and titles of axes and legends, notes. (Streamlit's own grey for axis labels, #808495,
# gives 3.8:1 on white.)
TEXT = Ink("#555867", "#E6EAF1")
# A chart's title: the page's own heading colours.
HEADING = Ink("#31333F", "#FAFAFA")
# A parameter's name in its panel: the blue of its line, deeper on white and lighter on the dark page.
PARAMETER = Ink("#3A6A9E", "#8DB5F5")
# Words about the optimum and its limits: the red of their dashed lines, likewise.
WARNING = Ink("#C23B3B", "#F28B82")


def themed_text(spec: dict[str, Any]) -> dict[str, Any]:
    """``spec`` with its guides' words (axes, legends, titles, facet headers, text marks without a colour
    of their own) in the theme's ink. Streamlit's theme sets them too, but its spec's config wins over them."""
    config = spec.setdefault("config", {})
    for guide in ("axis", "legend", "header"):
        config.setdefault(guide, {}).update({"labelColor": TEXT.value, "titleColor": TEXT.value})
    config.setdefault("title", {}).update({"color": HEADING.value, "subtitleColor": TEXT.value})
    config.setdefault("text", {})["color"] = TEXT.value
    return spec
