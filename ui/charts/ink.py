"""The colours of every word a chart draws, one per theme: readable (WCAG AA) on the light page and the dark.

A spec is built once on the server, which does not know the theme a viewer sees (their system's, or the
one they pick in the menu, live). Streamlit sets each chart's ``background`` to its theme's page colour,
and Vega knows it as a signal: a word's colour is an expression choosing the light theme's ink on a light
background and the dark theme's on a dark one. No single colour could serve both: 4.5:1 against white
needs a luminance under 0.18, and 4.5:1 against the dark page (#171614) one over 0.21.
tests/test_charts_contrast.py checks every text colour of every spec against both backgrounds.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

# The page's background in each theme: Streamlit 1.67's, which .streamlit/config.toml leaves as they are
# (measured in Chromium: the .stApp element's background-color).
BACKGROUNDS = {"light": "#FFFFFF", "dark": "#171614"}
_CHOICE = "luminance(background) > 0.5 ? '{light}' : '{dark}'"
_CHOSEN = re.compile(r"^luminance\(background\) > 0\.5 \? '(#[0-9A-Fa-f]{6})' : '(#[0-9A-Fa-f]{6})'$")


@dataclass(frozen=True)
class Ink:
    """A text colour for each theme, chosen once per chart by a signal of its own (``param``) that every
    word in that colour names: the spec travels with every live redraw, so its words carry a name, not
    the choice (issue 11's budget for a redraw's bytes)."""

    name: str
    light: str
    dark: str

    @property
    def value(self) -> dict[str, str]:
        """The colour in a spec: the ink's signal, which ``themed_text`` defines."""
        return {"expr": self.name}

    @property
    def param(self) -> dict[str, str]:
        """The signal: the light theme's ink on a light background, the dark theme's on a dark one."""
        return {"name": self.name, "expr": _CHOICE.format(light=self.light, dark=self.dark)}


def ink_in(colour: Any, theme: str, spec: dict[str, Any]) -> str | None:
    """What a colour in ``spec`` (a fixed colour, or an ink's signal that the spec defines) is in
    ``theme``; None for an expression of another kind."""
    if isinstance(colour, str):
        return colour
    if isinstance(colour, dict) and isinstance(colour.get("expr"), str):
        for param in spec.get("params", []):
            chosen = _CHOSEN.match(param.get("expr", "")) if param.get("name") == colour["expr"] else None
            if chosen:
                return chosen.group(1) if theme == "light" else chosen.group(2)
    return None


# Words: the labels and titles of axes and legends, notes. (Streamlit's own grey for axis labels, #808495,
# gives 3.7:1 on white.)
TEXT = Ink("text_ink", "#555867", "#E6EAF1")
# A parameter's name in its panel: the blue of its line, deeper on white and lighter on the dark page.
PARAMETER = Ink("parameter_ink", "#3A6A9E", "#8DB5F5")
# Words about the optimum and its limits: the red of their dashed lines, likewise.
WARNING = Ink("warning_ink", "#C23B3B", "#F28B82")

INKS = (TEXT, PARAMETER, WARNING)


def themed_text(spec: dict[str, Any]) -> dict[str, Any]:
    """``spec`` with its guides' words (axes, legends, a facet's headers, text marks without a colour of their
    own) in the theme's ink, and the signal of every ink it names. Streamlit's theme colours guides too, but
    a spec's own config wins. (Its titles keep Streamlit's heading colour, which reads on both pages.)"""
    config = spec.setdefault("config", {})
    for guide in ("axis", "legend", "header") if "facet" in spec else ("axis", "legend"):
        config.setdefault(guide, {}).update({"labelColor": TEXT.value, "titleColor": TEXT.value})
    config.setdefault("text", {})["color"] = TEXT.value
    named = json.dumps(spec)
    params = spec.setdefault("params", [])
    for ink in INKS:
        if json.dumps(ink.value) in named and ink.param not in params:
            params.append(ink.param)
    return spec
