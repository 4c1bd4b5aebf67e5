"""One simulated workshop attendee: a websocket client that speaks Streamlit's own protocol, as the browser does.

It fetches ``/_stcore/health`` (which sets the ``_streamlit_xsrf`` cookie, as the page's first requests
do), opens ``/_stcore/stream`` with the subprotocols ``streamlit, <xsrf token>`` and an Origin header,
sends a ``rerun_script`` BackMsg whose ClientState carries the page and the link's query string, reads
the ForwardMsg deltas, and presses a button by sending another ``rerun_script`` whose widget states hold
that button's id with a trigger value. It keeps what the measurements need: when the first chart came,
when each chart was redrawn, and the "Step N of M" progress text with its arrival time.
"""
from __future__ import annotations

import asyncio
import re
import time
import urllib.parse
from dataclasses import dataclass, field

import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

CHART_TYPES = ("arrow_vega_lite_chart", "vega_lite_chart")
CONFIRM_KEY = "pace_anyway"  # the page's "Run anyway", under a run estimated over a minute
PROGRESS = re.compile(r"Step ([\d,]+) of ([\d,]+)")


@dataclass
class Attendee:
    """What one attendee saw; times are ``time.monotonic()``."""

    number: int
    opened_at: float = 0.0
    first_chart_at: float | None = None
    pressed_at: float | None = None
    chart_updates: dict[str, list[float]] = field(default_factory=dict)  # delta path -> arrival times
    steps: list[tuple[float, int]] = field(default_factory=list)
    buttons: dict[str, str] = field(default_factory=dict)  # the button's key -> its widget id
    page_hash: str = ""
    scripts_finished: int = 0
    statuses: list[str] = field(default_factory=list)
    error: str | None = None
    asked_at: float | None = None  # when the page asked for a second click (a run estimated over a minute)
    confirmed_at: float | None = None
    bytes_after_press: int = 0  # websocket payload received once Run was pressed
    messages_after_press: int = 0

    @property
    def first_chart_seconds(self) -> float | None:
        return None if self.first_chart_at is None else self.first_chart_at - self.opened_at

    def update_intervals(self) -> list[float]:
        """Gaps between redraws of the chart redrawn most often once the run was training (its first
        progress text came: the wait before it is the run's start, not an update)."""
        if self.pressed_at is None or not self.steps:
            return []
        after = [[t for t in times if t >= self.steps[0][0]] for times in self.chart_updates.values()]
        busiest = max(after, key=len, default=[])
        return [b - a for a, b in zip(busiest, busiest[1:])]

    def steps_per_second(self, start: float, end: float) -> float | None:
        """Steps trained between ``start`` and ``end``, from the progress texts received in that window."""
        inside = [(t, s) for t, s in self.steps if start <= t <= end]
        if len(inside) < 2 or inside[-1][0] <= inside[0][0]:
            return None
        return (inside[-1][1] - inside[0][1]) / (inside[-1][0] - inside[0][0])


def _xsrf_cookie(host: str, port: int, source: str) -> str:
    """The XSRF cookie's value, from a plain HTTP request (made from ``source``, as the websocket is)."""
    import http.client
    connection = http.client.HTTPConnection(host, port, timeout=30, source_address=(source, 0))
    try:
        connection.request("GET", "/_stcore/health")
        response = connection.getresponse()
        response.read()
        for name, value in response.getheaders():
            if name.lower() == "set-cookie" and value.startswith("_streamlit_xsrf="):
                return value.split(";", 1)[0].split("=", 1)[1]
    finally:
        connection.close()
    return ""


def rerun_message(query: str, page_name: str, page_hash: str, pressed: str | None = None) -> bytes:
    message = BackMsg()
    state = message.rerun_script
    state.query_string = query
    state.page_name = page_name
    state.page_script_hash = page_hash
    if pressed is not None:
        widget = state.widget_states.widgets.add()
        widget.id = pressed
        widget.trigger_value = True
    return message.SerializeToString()


def _delta_path(message: ForwardMsg) -> str:
    return ".".join(str(i) for i in message.metadata.delta_path)


def _read(attendee: Attendee, raw: bytes) -> None:
    message = ForwardMsg()
    message.ParseFromString(raw)
    kind = message.WhichOneof("type")
    now = time.monotonic()
    if kind == "new_session":
        attendee.page_hash = message.new_session.page_script_hash or attendee.page_hash
    elif kind == "page_info_changed" or kind == "navigation":
        page_hash = getattr(getattr(message, kind), "page_script_hash", "")
        attendee.page_hash = page_hash or attendee.page_hash
    elif kind == "script_finished":
        attendee.scripts_finished += 1
    elif kind == "delta" and message.delta.WhichOneof("type") == "new_element":
        element = message.delta.new_element
        element_kind = element.WhichOneof("type")
        if element_kind in CHART_TYPES:
            attendee.first_chart_at = attendee.first_chart_at or now
            attendee.chart_updates.setdefault(_delta_path(message), []).append(now)
        elif element_kind == "button":
            widget_id = element.button.id
            key = widget_id.split("-", 2)[-1]  # "$$ID-<hash>-<user key>"
            attendee.buttons[key] = widget_id
            if key.endswith(":" + CONFIRM_KEY) and attendee.pressed_at is not None and attendee.asked_at is None:
                attendee.asked_at = now
        elif element_kind == "progress":
            found = PROGRESS.search(element.progress.text)
            if found:
                attendee.steps.append((now, int(found.group(1).replace(",", ""))))
        elif element_kind == "alert":
            attendee.statuses.append(element.alert.body)


def button_id(attendee: Attendee, key: str) -> str | None:
    return attendee.buttons.get(key)


async def attend(attendee: Attendee, host: str, port: int, source: str, page: str, query: dict[str, str],
                 open_at: float, press_at: float, leave_at: float, press_key: str,
                 leave_after_progress: int | None = None) -> Attendee:
    """Open ``page`` at ``open_at``, press the button whose key is ``press_key`` at ``press_at`` (all
    monotonic times), read until ``leave_at`` (or once ``leave_after_progress`` progress texts came after
    the press), then close the connection."""
    await asyncio.sleep(max(0.0, open_at - time.monotonic()))
    attendee.opened_at = time.monotonic()
    query_string = urllib.parse.urlencode(query)
    try:
        cookie = await asyncio.to_thread(_xsrf_cookie, host, port, source)
        async with websockets.connect(
                f"ws://{host}:{port}/_stcore/stream", subprotocols=["streamlit", cookie] if cookie else ["streamlit"],
                origin=f"http://{host}:{port}", additional_headers={"Cookie": f"_streamlit_xsrf={cookie}"},
                local_addr=(source, 0), max_size=None, open_timeout=60, ping_interval=None) as socket:
            await socket.send(rerun_message(query_string, page, ""))
            while time.monotonic() < leave_at:
                if attendee.pressed_at is None and time.monotonic() >= press_at:
                    pressed = button_id(attendee, press_key)
                    if pressed is not None and attendee.scripts_finished:
                        await socket.send(rerun_message(query_string, page, attendee.page_hash, pressed))
                        attendee.pressed_at = time.monotonic()
                if attendee.asked_at is not None and attendee.confirmed_at is None and attendee.scripts_finished:
                    # An attendee told the run takes over a minute presses Run anyway, as the room was asked to.
                    confirm = button_id(attendee, press_key.rsplit(":", 1)[0] + ":" + CONFIRM_KEY)
                    if confirm is not None:
                        await socket.send(rerun_message(query_string, page, attendee.page_hash, confirm))
                        attendee.confirmed_at = time.monotonic()
                wait = max(0.01, min(leave_at, press_at if attendee.pressed_at is None else leave_at)
                           - time.monotonic())
                try:
                    raw = await asyncio.wait_for(socket.recv(), timeout=min(wait, 0.25))
                except asyncio.TimeoutError:
                    continue
                if isinstance(raw, bytes):
                    _read(attendee, raw)
                    if attendee.pressed_at is not None:
                        attendee.bytes_after_press += len(raw)
                        attendee.messages_after_press += 1
                if leave_after_progress is not None and len(attendee.steps) >= leave_after_progress:
                    break
            if attendee.pressed_at is None:
                attendee.error = "the page never drew its Run button"
    except (OSError, websockets.WebSocketException, asyncio.TimeoutError) as error:
        attendee.error = f"{type(error).__name__}: {error}"
    return attendee
