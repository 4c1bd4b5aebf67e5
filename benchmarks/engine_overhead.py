"""Engine overhead: each eager implementation through fitcore's engine against the notebook's bare loop.

The engine's run is what the CLI's ``train(config)`` does: build the Run (data, least squares,
Hessian spectrum), import nothing new (the framework is warm), then ``advance()`` to the end with
history, notebook log lines, divergence checks and an extra loss per chunk. The bare loop is the
notebook's code (benchmarks/bare.py) on the same data. They run back to back, alternating order.
"""
from __future__ import annotations

import time
from typing import Callable

import numpy as np

from fitcore import Run

from .bare import CASES, BareCase
from .stats import Section, paired, ratios, stat, timed

TARGET = 1.10
BEST_OF = 3
AGREEMENT = {"torch-nn": 1e-2}  # RMSprop near its optimum: float32 x³ from torch.pow vs NumPy differ by an ulp


def _engine_run(case: BareCase, smoke: bool) -> Run:
    run = Run(case.config(smoke))
    run.advance()
    return run


def measure_case(case: BareCase, runs: int, smoke: bool) -> dict[str, object]:
    config = case.config(smoke)
    data = case.dataset(config)
    reference = case.loop(data, config.lr, config.steps)  # warm: imports, first-call allocations
    engine_params = _engine_run(case, smoke).current_params
    scale = max(float(np.abs(engine_params).max()), 1e-300)
    agreement = float(np.abs(reference - engine_params).max() / scale)
    cpu: dict[str, list[float]] = {"bare": [], "engine": []}

    def clocked(name: str, action: Callable[[], object]) -> float:
        # The fastest of a few back-to-back runs: other work on shared cores only ever adds time, and a
        # run of a quarter second is easily caught whole by a burst of it.
        best_wall, best_cpu = float("inf"), float("inf")
        for _ in range(BEST_OF):
            started = time.process_time()
            wall = timed(action)
            if wall < best_wall:
                best_wall, best_cpu = wall, time.process_time() - started
        cpu[name].append(best_cpu)
        return best_wall

    bare, engine = paired(lambda: clocked("bare", lambda: case.loop(data, config.lr, config.steps)),
                          lambda: clocked("engine", lambda: _engine_run(case, smoke)), runs)
    return {"steps": config.steps, "bare": stat(bare, "s"), "engine": stat(engine, "s"),
            "ratio": ratios(engine, bare), "cpu_ratio": ratios(cpu["engine"], cpu["bare"]), "agreement": agreement}


def run_group(runs: int, smoke: bool, only_available: bool = True) -> Section:
    from fitcore import is_available
    section = Section("engine", "Engine overhead against the notebooks' bare loops")
    section.notes.append(
        "Each implementation runs its own notebook's settings (the notebook that uses that framework) through "
        "`Run(config).advance()` — history, notebook log lines, divergence and stop checks, one extra loss per "
        "chunk — and through the notebook's loop as written (benchmarks/bare.py), on the same data, back to "
        f"back with the order alternating; each side of a pair is the fastest of {BEST_OF} back-to-back runs. The "
        "ratio is engine ÷ bare, taken pair by pair; below 1 the engine "
        "is faster than the notebook (NumPy's gradient is one Φᵀr product where the notebook sums four "
        "arrays). The target is judged on wall time; the process CPU-time ratio beside it shows how much of a "
        "miss is other work on the machine. 'agrees' is the largest parameter difference relative to ‖θ‖∞.")
    for case in CASES:
        if only_available and not is_available(case.impl):
            section.add(f"{case.impl}: engine ÷ bare", "framework not installed")
            continue
        result = measure_case(case, runs if smoke else runs + 2, smoke)  # short pairs: two more against noise
        ratio = result["ratio"]
        agrees = result["agreement"] <= AGREEMENT.get(case.impl, 1e-9)
        note = (f"{result['steps']:,} steps of {case.describe(smoke)}; bare {result['bare'].text()}, "
                f"engine {result['engine'].text()}; CPU-time ratio {result['cpu_ratio'].text()}; agrees to "
                f"{result['agreement']:.1e}"
                + ("" if agrees else " (MISMATCH)"))
        section.add(f"{case.impl}: engine ÷ bare notebook loop", ratio, f"≤ {TARGET:.2f}×",
                    ratio.median <= TARGET and agrees, note)
    return section
