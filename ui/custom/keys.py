"""Widget keys and quoted text for the "Your own data" page: what its panel, lessons and page share."""
from __future__ import annotations

from fitcore.custom import CUSTOM_ID

from ui.page.state import widget_key

def key(name: str) -> str:
    return widget_key(CUSTOM_ID, name)


MARKDOWN_SPECIALS = set("\\`*_{}[]<>#+-!|~$:")


def literal(text: str) -> str:
    """Text shown exactly as it is inside Streamlit's Markdown: messages quote what was typed or uploaded
    (x**2 would otherwise turn italic, a file name with :material/…: into an icon)."""
    return "".join("\\" + char if char in MARKDOWN_SPECIALS else char for char in text)

