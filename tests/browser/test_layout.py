"""Every page at a phone's, a tablet's, a projector's and a desktop's width, light and dark: nothing cut
off, nothing overlapping, checked by geometry in the browser; screenshots in artifacts/screenshots/.

Each page loads once; the widths are set by resizing the window (Streamlit lays the page out again
and every chart redraws at its column's new width) and the theme by the system colour scheme, which
Streamlit follows live. That keeps 7 pages × 4 widths × 2 themes to seven page loads.
"""
from __future__ import annotations

import time
from typing import Any

import pytest

from .harness import SCREENSHOTS, DashboardPage

pytestmark = pytest.mark.browser

PAGES = ("", "quadratic-bias", "linear-2x", "quadratic-recovery", "sine-cubic", "custom", "speed")
WIDTHS = (390, 768, 1280, 1440)
THEMES = ("light", "dark")
HEIGHT = 1800  # tall enough that a screenshot shows most of a page
SLACK = 1.0  # px: sub-pixel rounding of boxes
RESIZED, RETHEMED = 500, 300  # ms for the charts to redraw after a resize, after a change of theme
SETTLE_S = 5.0

# In the page: every chart's drawing inside the viewport and inside its column; metric values and
# buttons inside the viewport and not cut short; no two pieces of text drawn over each other.
# Text is measured per line fragment (Range.getClientRects), so words flowing side by side in one
# paragraph never count as overlapping; typeset formulas (KaTeX stacks glyph boxes) are left out.
GEOMETRY = """
(slack) => {
  const width = document.documentElement.clientWidth;
  const problems = [];
  const visible = (el) => {
    const box = el.getBoundingClientRect();
    const style = getComputedStyle(el);
    return box.width > 0 && box.height > 0 && style.visibility !== 'hidden' && box.right > 0 && box.left < width;
  };
  const name = (el) => (el.getAttribute('aria-label') || el.innerText || el.tagName).trim().slice(0, 60);
  const main = document.querySelector('[data-testid="stMain"]');
  for (const chart of main.querySelectorAll('[data-testid="stVegaLiteChart"]')) {
    if (!visible(chart)) continue;
    const drawing = chart.querySelector('canvas, svg.marks') || chart;
    const box = drawing.getBoundingClientRect();
    const column = chart.closest('[data-testid="stColumn"]') || chart.closest('[data-testid="stMainBlockContainer"]');
    const limit = column.getBoundingClientRect();
    if (box.left < -slack || box.right > width + slack)
      problems.push(`chart outside the viewport: ${name(chart)} [${box.left.toFixed(0)}, ${box.right.toFixed(0)}] of ${width}`);
    if (box.left < limit.left - slack || box.right > limit.right + slack)
      problems.push(`chart wider than its column: ${name(chart)} [${box.left.toFixed(0)}, ${box.right.toFixed(0)}] in [${limit.left.toFixed(0)}, ${limit.right.toFixed(0)}]`);
  }
  for (const el of main.querySelectorAll('[data-testid="stMetricValue"], [data-testid="stMetricLabel"], button')) {
    if (!visible(el) || el.closest('[data-testid="stTabs"] [role="tablist"]')) continue;
    const box = el.getBoundingClientRect();
    if (box.left < -slack || box.right > width + slack)
      problems.push(`outside the viewport: ${name(el)} [${box.left.toFixed(0)}, ${box.right.toFixed(0)}] of ${width}`);
    const inner = el.querySelector('div, p') || el;
    if (el.matches('[data-testid="stMetricValue"]') && inner.scrollWidth > inner.clientWidth + slack)
      problems.push(`metric value cut short: ${name(el)}`);
  }
  const clips = new Map();
  const clipOf = (el) => {  // the box that el's overflow-clipping ancestors leave visible
    if (!el || el === main.parentElement) return {left: -1e9, right: 1e9, top: -1e9, bottom: 1e9};
    if (clips.has(el)) return clips.get(el);
    const outer = clipOf(el.parentElement);
    const style = getComputedStyle(el);
    let box = outer;
    if (style.overflowX !== 'visible' || style.overflowY !== 'visible') {
      const own = el.getBoundingClientRect();
      box = {left: Math.max(outer.left, own.left), right: Math.min(outer.right, own.right),
             top: Math.max(outer.top, own.top), bottom: Math.min(outer.bottom, own.bottom)};
    }
    clips.set(el, box);
    return box;
  };
  const boxes = [];
  const walker = document.createTreeWalker(main, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (!node.textContent.trim()) continue;
    const parent = node.parentElement;
    if (!parent || parent.closest('.katex, [data-testid="stTooltipContent"], [role="tooltip"], textarea, '
        + '[data-testid="stCode"], [data-baseweb="select"], [data-testid="stMultiSelect"], '
        + '[data-testid="stDataFrame"]')) continue;
    if (!visible(parent)) continue;
    const range = document.createRange();
    range.selectNodeContents(node);
    const clip = clipOf(parent);
    for (const whole of range.getClientRects()) {
      // Only the part a scrolling box (a long log, a code block) lets through is on screen.
      const rect = {left: Math.max(whole.left, clip.left), right: Math.min(whole.right, clip.right),
                    top: Math.max(whole.top, clip.top), bottom: Math.min(whole.bottom, clip.bottom)};
      if (rect.right - rect.left < 1 || rect.bottom - rect.top < 1 || rect.right <= 0 || rect.left >= width) continue;
      boxes.push({rect, node, text: node.textContent.trim().slice(0, 40)});
    }
  }
  for (let i = 0; i < boxes.length; i++) {
    for (let j = i + 1; j < boxes.length; j++) {
      if (boxes[i].node === boxes[j].node) continue;  // one text's own lines (tight line height)
      const a = boxes[i].rect, b = boxes[j].rect;
      const x = Math.min(a.right, b.right) - Math.max(a.left, b.left);
      const y = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
      if (x > 2 && y > 3) problems.push(`text over text: "${boxes[i].text}" and "${boxes[j].text}"`);
    }
  }
  return problems;
}
"""


def problems_once_settled(dashboard: DashboardPage, wait_ms: int) -> list[str]:
    """The geometry's problems once the page has laid itself out again: a resize or a theme change reruns
    no script, but every chart redraws (at its column's new width, in the theme's colours), which takes
    a loaded machine a while. Checked until clean or ``SETTLE_S`` seconds: a real overflow stays."""
    dashboard.page.mouse.move(1, 1)  # no tooltip over anything
    dashboard.page.wait_for_timeout(wait_ms)
    deadline = time.monotonic() + SETTLE_S
    while True:
        found = dashboard.page.evaluate(GEOMETRY, SLACK)
        if not found or time.monotonic() > deadline:
            return found
        dashboard.page.wait_for_timeout(250)


def test_that_every_page_fits_every_width_in_both_themes(dashboard: DashboardPage,
                                                         measurements: dict[str, Any]) -> None:
    problems: list[str] = []
    shots: list[str] = []
    for path in PAGES:
        name = path or "home"
        dashboard.page.set_viewport_size({"width": WIDTHS[-1], "height": HEIGHT})
        dashboard.page.emulate_media(color_scheme=THEMES[0])
        dashboard.open(path)
        assert dashboard.exceptions() == [], name
        for width in WIDTHS:
            dashboard.page.set_viewport_size({"width": width, "height": HEIGHT})
            for theme in THEMES:
                dashboard.page.emulate_media(color_scheme=theme)
                found = problems_once_settled(dashboard, RESIZED if theme == THEMES[0] else RETHEMED)
                problems.extend(f"{name} at {width} px, {theme}: {problem}" for problem in found)
                target = SCREENSHOTS / f"layout-{name}-{width}-{theme}.png"
                target.parent.mkdir(parents=True, exist_ok=True)
                dashboard.page.screenshot(path=str(target))
                shots.append(str(target))
    measurements.setdefault("screenshots", []).extend(shots)
    assert not problems, "\n".join(problems)
