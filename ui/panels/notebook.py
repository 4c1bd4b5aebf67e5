"""Beside the run's printed lines, the notebook's own, with the digits that agree marked.

The comparison is fitcore's (``Run.against_notebook``); this module only spells it as Markdown:
green digits agree with this run, red ones differ, grey lines are not printed by this run (yet).
"""
from __future__ import annotations

import string
from typing import Any

import streamlit as st

from fitcore import Run
from fitcore.agreement import CellAgreement, LineAgreement
from fitcore.config import notebook_differences

COLOURS = {"agree": "green", "differ": "red"}
LINES_HEIGHT = 300
LEGEND = "Green digits agree with this run, red ones differ; grey lines are not printed by this run (yet)."


def escaped(text: str) -> str:
    """Text shown as it is: every ASCII punctuation mark backslash-escaped (CommonMark allows it for all)."""
    return "".join("\\" + char if char in string.punctuation else char for char in text)


def line_markdown(line: LineAgreement) -> str:
    if line.ours is None:
        return f":gray[{escaped(line.printed)}]"
    parts = []
    for segment in line.segments:
        text = escaped(segment.text)
        colour = COLOURS.get(segment.kind)
        parts.append(f":{colour}[{text}]" if colour and segment.text.strip() else text)
    return "".join(parts)


def agreement_markdown(compared: CellAgreement) -> str:
    """The notebook's lines, one per line, marked digit by digit."""
    return "  \n".join(line_markdown(line) for line in compared.lines)


def plain_markdown(lines: tuple[str, ...]) -> str:
    return "  \n".join(f":gray[{escaped(text)}]" for text in lines)


def draw_notebook_lines(slot: Any, run: Run) -> None:
    """The notebook cell's printed lines against this run's, with a verdict and where the start came from."""
    variant = run.variant
    cell = variant.cell
    with slot.container():
        if cell is None:
            st.caption(variant.start_note)
            return
        compared = run.against_notebook()
        st.caption(f"`{cell.seed_file}`, {cell.title}")
        if compared is not None:
            st.markdown(f"**Verdict:** {escaped(compared.verdict)}.")
            with st.container(height=LINES_HEIGHT):
                st.markdown(agreement_markdown(compared))
            st.caption(LEGEND)
        else:
            st.markdown("Not compared: this run differs from the notebook in "
                        f"{escaped(', '.join(notebook_differences(run.config)))}. "
                        "**Reset to the notebook's settings** in the sidebar to compare them line by line.")
            with st.container(height=LINES_HEIGHT):
                st.markdown(plain_markdown(cell.lines))
        st.caption(variant.start_note if run.config.seed is None else
                   f"This run's data and start are drawn from seed {run.config.seed}, not the notebook's own.")
