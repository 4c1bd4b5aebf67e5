"""Single-shot: what one live redraw of a demo page costs the server, `python -m benchmarks.live_redraw`.

A quadratic-recovery TrainView (NumPy, 200,000 steps trained) is drawn inside AppTest as the live loop
draws it while training, once every 0.1 s (10 updates/s asked for), 60 times. Printed: the script
thread's CPU time per redraw (thread_time, so other work on a busy machine counts little), the bytes
sent per redraw (the ForwardMsgs as serialized) and the messages (deltas) per redraw, each of which the browser turns into a React commit of its own when they
arrive apart. The load average is printed beside them: absolute figures move with it, the comparison
of two versions of the code run back to back much less.
"""
from __future__ import annotations

import os
import statistics

from streamlit.testing.v1 import AppTest

DRAWS = 60


def _script() -> None:
    import time

    import streamlit as st
    from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

    from fitcore import Run, RunConfig
    from fitcore.landscape import SliceChoice
    from ui.page.view import TrainView, live_frame

    run = Run(RunConfig.notebook("quadratic-recovery", impl="numpy", steps=10_000_000))
    run.prepare()
    run.advance(max_steps=200_000)
    view = TrainView(run, lambda: SliceChoice(0, 1, False))
    view.draw(run, live_frame(run), (), False, training=True)
    ctx = get_script_run_ctx()
    sent, size, enqueue = [0], [0], ctx.enqueue

    def counting(message: object) -> None:
        sent[0] += 1
        size[0] += message.ByteSize()  # type: ignore[attr-defined]  # a ForwardMsg
        enqueue(message)
    ctx.enqueue = counting
    costs = []
    for _ in range(60):
        run.advance(max_steps=2000)
        began = time.thread_time()
        view.draw(run, live_frame(run), (), False, training=True)
        costs.append(time.thread_time() - began)
        time.sleep(0.1)
    st.session_state["costs"], st.session_state["sent"], st.session_state["bytes"] = costs, sent[0], size[0]


def main() -> None:
    at = AppTest.from_function(_script, default_timeout=300)
    at.run()
    if at.exception:
        raise SystemExit(str(at.exception))
    costs = sorted(at.session_state["costs"])
    print(f"quadratic-recovery live redraw: server CPU median {1000 * statistics.median(costs):.1f} ms "
          f"(p90 {1000 * costs[int(0.9 * len(costs))]:.1f} ms), {at.session_state['sent'] / len(costs):.1f} "
          f"messages and {at.session_state['bytes'] / len(costs) / 1024:.1f} kB per redraw; load average "
          f"{os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
