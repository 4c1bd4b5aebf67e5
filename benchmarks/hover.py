"""The pointer on the loss curve, measured from a real browser: `streamlit run dashboard.py` on 127.0.0.1 and
Debian's Chromium through Playwright (tests/browser/harness.py), after a run has completed.

- Pointer → caption: the pointer moves onto a new spot of the loss curve in one move and rests there; the time
  from the move (the page's own clock) to the moment the caption "Step N, under the pointer on the loss curve"
  names a new step (a MutationObserver in the page, same clock). Streamlit's frontend waits 150 ms of rest
  before it sends a pointer-over selection, so that much of it is by design; the rest is one rerun of the page
  on the server and the browser redrawing every chart at that step.
- Server CPU per hover: the Streamlit process's CPU seconds from the move until the page is idle again.
- Between hovers the pointer leaves the chart and the page settles, so each hover is measured alone.
"""
from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

from .live_ui import browser_section
from .stats import Section, stat

CAPTION = "under the pointer on the loss curve"
# Records every new text of the hover caption with the page's clock; read back by the benchmark.
OBSERVER = """
() => {
  window.__hover = [];
  let last = null;
  const read = () => {
    for (const element of document.querySelectorAll('[data-testid="stCaptionContainer"]')) {
      if (element.textContent.includes('%s')) return element.textContent;
    }
    return null;
  };
  new MutationObserver(() => {
    const text = read();
    if (text !== null && text !== last) window.__hover.push([performance.timeOrigin + performance.now(), text]);
    last = text;
  }).observe(document.body, {subtree: true, childList: true, characterData: true});
}
""" % CAPTION
NOW = "() => performance.timeOrigin + performance.now()"
PAGES = {  # path, query, what the run is
    "linear-2x": ({"impl": "numpy", "steps": "20"}, "linear-2x, NumPy, the notebook's 20 steps"),
    "quadratic-recovery": ({"impl": "numpy", "steps": "20000"}, "quadratic-recovery, NumPy, 20,000 steps"),
}
SPOTS = (0.25, 0.6, 0.4, 0.75, 0.3, 0.5, 0.65, 0.35)


def _loss_chart_box(page: Any) -> dict[str, float]:
    chart = page.page.locator('[data-testid="stVegaLiteChart"][aria-label^="Loss against step"]').first
    chart.scroll_into_view_if_needed()
    return chart.locator("canvas").first.bounding_box()


def _hover_once(page: Any, box: dict[str, float], share: float, server_pid: int) -> tuple[float, float]:
    """Seconds from the move to the caption naming a new step, and the server's CPU seconds for it."""
    from tests.browser.harness import stat_cpu_seconds

    seen = len(page.page.evaluate("() => window.__hover"))
    cpu_before = stat_cpu_seconds(Path(f"/proc/{server_pid}/stat"))
    moved = page.page.evaluate(NOW)
    page.page.mouse.move(box["x"] + share * box["width"], box["y"] + 0.5 * box["height"])
    deadline = time.monotonic() + 60
    shown = None
    while shown is None and time.monotonic() < deadline:
        for when, text in page.page.evaluate("() => window.__hover")[seen:]:
            if re.search(r"Step [\d,]+", text):
                shown = when
                break
        else:
            page.page.wait_for_timeout(10)
    if shown is None:
        raise TimeoutError("the hover caption did not appear within 60 s")
    page.wait_until_idle()
    cpu = stat_cpu_seconds(Path(f"/proc/{server_pid}/stat")) - cpu_before
    page.page.mouse.move(box["x"] + box["width"] / 2, max(box["y"] - 150, 1))  # off the chart: caption goes
    page.page.get_by_text(CAPTION).first.wait_for(state="detached", timeout=60_000)
    page.wait_until_idle()
    return (shown - moved) / 1000, cpu


def run_group(runs: int, smoke: bool) -> Section:
    section, measurable = browser_section("hover", "The pointer on the loss curve in a real browser", __doc__)
    if not measurable:
        return section
    from tests.browser.harness import ChromiumBrowser, StreamlitServer
    spots = SPOTS[:2] if smoke else SPOTS[:max(runs, 4)]
    pages = dict(list(PAGES.items())[:1]) if smoke else PAGES
    with StreamlitServer() as server, ChromiumBrowser() as browser:
        page = browser.dashboard(server)
        for path, (query, what) in pages.items():
            page.open(path, query)
            page.click("Run")
            page.wait_for_status("Completed", timeout=300)
            page.wait_until_idle()
            page.page.evaluate(OBSERVER)
            box = _loss_chart_box(page)
            measured = [_hover_once(page, box, share, server.process.pid) for share in spots]
            latency = stat([seconds for seconds, _ in measured], " s")
            section.add(f"{what}: pointer rests on the loss curve → that step's caption (s)", latency, "", None,
                        f"{len(measured)} hovers, 1440 × 900 light; the server's CPU per hover "
                        f"{stat([cpu for _, cpu in measured], ' s').text()} (Streamlit's frontend waits 150 ms "
                        "of rest before it sends the hover)")
            if page.exceptions():
                section.add(f"{what}: exceptions on the page", "; ".join(page.exceptions()), "none", False)
    return section


if __name__ == "__main__":
    from .report import terminal_table

    print(terminal_table([run_group(4, smoke=False)]))
