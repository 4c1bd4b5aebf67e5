"""Every page at a phone's, a tablet's, a projector's and a desktop's width, light and dark: nothing cut
off, nothing overlapping, checked by geometry in the browser; screenshots in artifacts/screenshots/.

Each page loads once; the widths are set by resizing the window (Streamlit lays the page out again
and every chart redraws at its column's new width) and the theme by the system colour scheme, which
Streamlit follows live. That keeps 7 pages × 4 widths × 2 themes to seven page loads.

The charts draw on a canvas (ui/charts/base.py), whose text is no part of the page's DOM: a tree walk
over the page's text never sees a tick label. So the page records every ``fillText`` a canvas makes
(``CANVAS_TEXT``, installed before the app's scripts) with the box its glyphs cover, and the geometry
check counts those boxes with the page's own text, and asks more of them: two labels in charts, one
above the other, keep ``LABEL_GAP`` pixels of air between their glyphs, and the numbers of two axes stacked in one column (one panel's lowest label, the next panel's highest) keep
``STACKED_AXES_GAP`` apart: nearer, they read as one scale (0.5, 0.0, 1, 0, −1 down the panels' edge).
A canvas cuts what it draws at its edges, and Vega cuts a clipped mark (``clip=True``) at its plot's: the
recorder notes the rectangle each text was clipped to, and a text whose glyphs leave its canvas or that
rectangle is reported (the page would show it cut short). From ``ONE_ROW_BAR`` px wide the control bar's
buttons stand in one row.
"""
from __future__ import annotations

import time
from typing import Any

import pytest

from ui.style import CONTROL_BAR

from .harness import SCREENSHOTS, DashboardPage

pytestmark = pytest.mark.browser

PAGES = ("", "quadratic-bias", "linear-2x", "quadratic-recovery", "sine-cubic", "custom", "speed")
WIDTHS = (390, 768, 1280, 1440)
THEMES = ("light", "dark")
HEIGHT = 1800  # tall enough that a screenshot shows most of a page
SLACK = 1.0  # px: sub-pixel rounding of boxes
RESIZED, RETHEMED = 500, 300  # ms for the charts to redraw after a resize, after a change of theme
SETTLE_S = 5.0
LABEL_GAP = 3.0  # px of air between the glyphs of two chart labels stacked one above the other
# px between the numbers of two axes stacked in one column (the parameter panels'): two and a half label
# heights, farther than the labels of one short panel sit apart, so the two cannot read as one scale
STACKED_AXES_GAP = 28.0
ONE_ROW_BAR = 1280  # px from which the control bar (Run … Reset) fits one row, the sidebar open

# Installed before the app's scripts: every canvas remembers the text it shows, as boxes around the
# glyphs in canvas pixels. Vega renders a frame inside one save()/restore(): it clears the whole
# canvas (a full redraw: the list starts again) unless it clipped to a dirty region first (a partial
# redraw: the texts in that region are erased, and those it redraws there come back).
CANVAS_TEXT = """
(() => {
  const proto = CanvasRenderingContext2D.prototype;
  const states = new WeakMap();
  const stateOf = (context) => {
    let state = states.get(context);
    if (!state) {
      state = {depth: 0, clipped: false, cleared: false, item: 0, texts: [], clip: null, clips: [], path: null};
      states.set(context, state);
    }
    return state;
  };
  const wrap = (name, before) => {
    const native = proto[name];
    proto[name] = function (...args) { before(this, stateOf(this), args); return native.apply(this, args); };
  };
  wrap('save', (context, state) => {
    state.depth += 1;
    if (state.depth === 1) { state.clipped = false; state.cleared = false; state.region = null; state.clip = null; }
    state.clips.push(state.clip);
  });
  // Vega sets the font once per text mark it draws, then draws each of its lines: lines of one text are one box.
  const font = Object.getOwnPropertyDescriptor(proto, 'font');
  Object.defineProperty(proto, 'font', {configurable: true, get() { return font.get.call(this); },
    set(value) { stateOf(this).item += 1; font.set.call(this, value); }});
  wrap('restore', (context, state) => {
    state.depth = Math.max(0, state.depth - 1);
    state.clip = state.clips.length ? state.clips.pop() : null;
  });
  wrap('beginPath', (context, state) => { state.path = null; });
  // A rectangle in canvas pixels: the dirty region a partial redraw clips to, or a clipped mark's plot.
  wrap('rect', (context, state, [x, y, w, h]) => {
    const m = context.getTransform();
    const box = {left: m.a * x + m.e, right: m.a * (x + w) + m.e, top: m.d * y + m.f, bottom: m.d * (y + h) + m.f};
    state.path = state.path === null ? box : undefined;  // a path of more than one rectangle: no box to clip to
    if (state.depth === 1 && !state.cleared) state.region = box;
  });
  // Inside a frame Vega clips a mark (clip: true) or a group to its plot, a rectangle: the texts drawn then
  // are cut at that box. The frame's own clip (a partial redraw's dirty region) cuts nothing a whole redraw shows.
  wrap('clip', (context, state) => {
    if (state.depth === 1 && !state.cleared) { state.clipped = true; return; }
    const r = state.path, c = state.clip;
    if (r) state.clip = !c ? r : {left: Math.max(c.left, r.left), right: Math.min(c.right, r.right),
                                  top: Math.max(c.top, r.top), bottom: Math.min(c.bottom, r.bottom)};
  });
  wrap('clearRect', (context, state) => {
    if (state.depth === 1 && !state.cleared) {
      const r = state.region;
      // A full redraw starts the list again; a partial one erases what lay in its region, then redraws it.
      state.texts = !state.clipped || !r ? [] : state.texts.filter(
        (t) => t.right < r.left || t.left > r.right || t.bottom < r.top || t.top > r.bottom);
    }
    state.cleared = true;
  });
  wrap('fillText', (context, state, [text, x, y]) => {
    if (context.globalAlpha === 0 || !String(text).trim()) return;
    const metrics = context.measureText(text);
    const m = context.getTransform();
    const corners = [[x - metrics.actualBoundingBoxLeft, y - metrics.actualBoundingBoxAscent],
                     [x + metrics.actualBoundingBoxRight, y - metrics.actualBoundingBoxAscent],
                     [x - metrics.actualBoundingBoxLeft, y + metrics.actualBoundingBoxDescent],
                     [x + metrics.actualBoundingBoxRight, y + metrics.actualBoundingBoxDescent]]
      .map(([u, v]) => [m.a * u + m.c * v + m.e, m.b * u + m.d * v + m.f]);
    // One axis's labels share the transform of the group that draws them; another panel's axis has its own.
    const box = {item: state.item, group: `${m.e.toFixed(1)},${m.f.toFixed(1)}`, text: String(text), left: Math.min(...corners.map(c => c[0])),
                 right: Math.max(...corners.map(c => c[0])), top: Math.min(...corners.map(c => c[1])),
                 bottom: Math.max(...corners.map(c => c[1])), clip: state.clip};
    box.first = {text: box.text, left: box.left, top: box.top};
    const last = state.texts[state.texts.length - 1];
    if (state.skip === box.item) return;  // a text redrawn where it already was, line by line
    if (last && last.item === box.item) {  // the next line of the same text
      last.text += ' ' + box.text;
      last.left = Math.min(last.left, box.left); last.right = Math.max(last.right, box.right);
      last.top = Math.min(last.top, box.top); last.bottom = Math.max(last.bottom, box.bottom);
      return;
    }
    const same = (a) => a.first.text === box.text && Math.abs(a.first.left - box.left) < 0.5
      && Math.abs(a.first.top - box.top) < 0.5;
    if (state.texts.some(same)) state.skip = box.item;
    else state.texts.push(box);
  });
  window.__canvasTexts = (canvas) => {
    const state = states.get(canvas.getContext('2d'));
    return state ? state.texts : [];
  };
})();
"""

# In the page: every chart's drawing inside the viewport and inside its column; metric values and
# buttons inside the viewport and not cut short; no two pieces of text drawn over each other.
# Text is measured per line fragment (Range.getClientRects), so words flowing side by side in one
# paragraph never count as overlapping; typeset formulas (KaTeX stacks glyph boxes) are left out. A chart's
# labels come from CANVAS_TEXT, as glyph boxes: no two may touch, two stacked ones keep `gap` px apart, and
# none leaves its canvas or the plot its mark is clipped to. The control bar (`oneRowBar`, its selector, or
# null below ONE_ROW_BAR px) keeps its buttons in one row.
GEOMETRY = """
([slack, gap, stackedGap, oneRowBar]) => {
  const width = document.documentElement.clientWidth;
  const problems = [];
  const visible = (el) => {
    const box = el.getBoundingClientRect();
    const style = getComputedStyle(el);
    return box.width > 0 && box.height > 0 && style.visibility !== 'hidden' && box.right > 0 && box.left < width;
  };
  const name = (el) => (el.getAttribute('aria-label') || el.innerText || el.tagName).trim().slice(0, 60);
  const chartName = (chart) => (chart.getAttribute('aria-label')
    || chart.querySelector('[aria-label]')?.getAttribute('aria-label') || 'a chart').trim().slice(0, 30);
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
  for (const chart of main.querySelectorAll('[data-testid="stVegaLiteChart"]')) {
    if (!visible(chart) || !window.__canvasTexts) continue;
    for (const canvas of chart.querySelectorAll('canvas')) {
      // A chart drawn afresh (a new theme) may leave its former canvas behind, out of sight.
      if (!canvas.width || !canvas.height || !canvas.checkVisibility({opacityProperty: true, visibilityProperty: true}))
        continue;
      const own = canvas.getBoundingClientRect();
      if (own.width < 1 || own.height < 1) continue;
      const sx = own.width / canvas.width, sy = own.height / canvas.height;
      const clip = clipOf(canvas);
      for (const label of window.__canvasTexts(canvas)) {
        // A text is cut where it leaves its canvas or the plot its mark is clipped to (canvas pixels).
        const cut = (box) => label.left < box.left - slack / sx || label.right > box.right + slack / sx
          || label.top < box.top - slack / sy || label.bottom > box.bottom + slack / sy;
        if (cut({left: 0, right: canvas.width, top: 0, bottom: canvas.height}))
          problems.push(`text cut off at the chart's edge: "${label.text.slice(0, 30)}" (in ${chartName(chart)})`);
        else if (label.clip && cut(label.clip))
          problems.push(`text cut off at the plot's edge: "${label.text.slice(0, 30)}" (in ${chartName(chart)})`);
        if (label.text.endsWith('…'))  // Vega shortens a label longer than its labelLimit
          problems.push(`text cut short: "${label.text.slice(0, 30)}" (in ${chartName(chart)})`);
        const rect = {left: Math.max(own.left + label.left * sx, clip.left, own.left),
                      right: Math.min(own.left + label.right * sx, clip.right, own.right),
                      top: Math.max(own.top + label.top * sy, clip.top, own.top),
                      bottom: Math.min(own.top + label.bottom * sy, clip.bottom, own.bottom)};
        if (rect.right - rect.left < 0.5 || rect.bottom - rect.top < 0.5) continue;
        boxes.push({rect, node: {}, chart: true, group: `${chartName(chart)} ${label.group}`,
                    number: /^[−+-]?[0-9][0-9.,]*(e[−+-]?[0-9]+)?[kMGmµn%]?$/.test(label.text), text: `${label.text.slice(0, 30)} (in ${chartName(chart)})`});
      }
    }
  }
  for (let i = 0; i < boxes.length; i++) {
    for (let j = i + 1; j < boxes.length; j++) {
      if (boxes[i].node === boxes[j].node) continue;  // one text's own lines (tight line height)
      const a = boxes[i].rect, b = boxes[j].rect;
      const x = Math.min(a.right, b.right) - Math.max(a.left, b.left);
      const y = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
      if (boxes[i].chart && boxes[j].chart) {  // glyph boxes: tight, so any contact is a collision
        if (x > 0 && y <= -gap && y > -stackedGap && boxes[i].number && boxes[j].number
            && boxes[i].group !== boxes[j].group)
          problems.push(`two axes' labels stacked ${(-y).toFixed(1)} px apart read as one: "${boxes[i].text}" and "${boxes[j].text}"`);
        if (x > 0 && y > -gap) problems.push(y > 0 ? `label over label: "${boxes[i].text}" and "${boxes[j].text}"`
          : `labels crowded (${(-y).toFixed(1)} px apart): "${boxes[i].text}" and "${boxes[j].text}"`);
      } else if (x > 2 && y > 3) problems.push(`text over text: "${boxes[i].text}" and "${boxes[j].text}"`);
    }
  }
  const bar = oneRowBar && main.querySelector(oneRowBar);
  if (bar) {  // the control bar, where the screen is wide enough for it: one row of buttons
    const tops = [...bar.querySelectorAll("button")].filter(visible).map((b) => b.getBoundingClientRect().top);
    const rows = tops.filter((top, i) => tops.findIndex((other) => Math.abs(other - top) <= slack) === i).length;
    if (rows > 1) problems.push(`the control bar wraps onto ${rows} rows`);
  }
  return problems;
}
"""


def problems_once_settled(dashboard: DashboardPage, wait_ms: int, width: int) -> list[str]:
    """The geometry's problems once the page has laid itself out again: a resize or a theme change reruns
    no script, but every chart redraws (at its column's new width, in the theme's colours), which takes
    a loaded machine a while. Checked until clean or ``SETTLE_S`` seconds: a real overflow stays."""
    dashboard.page.mouse.move(1, 1)  # no tooltip over anything
    dashboard.page.wait_for_timeout(wait_ms)
    deadline = time.monotonic() + SETTLE_S
    while True:
        bar = f".st-key-{CONTROL_BAR}" if width >= ONE_ROW_BAR else None
        found = dashboard.page.evaluate(GEOMETRY, [SLACK, LABEL_GAP, STACKED_AXES_GAP, bar])
        if not found or time.monotonic() > deadline:
            return found
        dashboard.page.wait_for_timeout(250)


@pytest.mark.parametrize("path", PAGES, ids=[path or "home" for path in PAGES])
def test_that_every_page_fits_every_width_in_both_themes(dashboard: DashboardPage, measurements: dict[str, Any],
                                                         path: str) -> None:
    problems: list[str] = []
    shots: list[str] = []
    name = path or "home"
    dashboard.page.add_init_script(CANVAS_TEXT)
    dashboard.page.set_viewport_size({"width": WIDTHS[-1], "height": HEIGHT})
    dashboard.page.emulate_media(color_scheme=THEMES[0])
    dashboard.open(path)
    assert dashboard.exceptions() == [], name
    for width in WIDTHS:
        dashboard.page.set_viewport_size({"width": width, "height": HEIGHT})
        for theme in THEMES:
            dashboard.page.emulate_media(color_scheme=theme)
            found = problems_once_settled(dashboard, RESIZED if theme == THEMES[0] else RETHEMED, width)
            problems.extend(f"{name} at {width} px, {theme}: {problem}" for problem in found)
            target = SCREENSHOTS / f"layout-{name}-{width}-{theme}.png"
            target.parent.mkdir(parents=True, exist_ok=True)
            dashboard.page.screenshot(path=str(target))
            shots.append(str(target))
    measurements.setdefault("screenshots", []).extend(shots)
    assert not problems, "\n".join(problems)
