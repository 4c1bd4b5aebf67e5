"""What every panel of a problem's page reads: a leaf module, so panels import it and nothing imports back."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fitcore import Problem, Run, RunConfig

from ui.page.state import DemoState


@dataclass
class PageContext:
    """What every tab of a demo page may read: the settings, the config they make, the run."""

    problem: Problem
    state: DemoState
    values: dict[str, Any]
    config: RunConfig | None
    run: Run | None
    stale: bool
