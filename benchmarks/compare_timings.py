"""How long each comparison takes at its default size, per demo (the notebook's own settings).

Run: .venv/bin/python benchmarks/compare_timings.py [demo ...]
Each demo runs in a fresh process, so "cold" includes importing PyTorch and TensorFlow and
compiling TensorFlow's XLA loop; "warm" repeats the comparison in the same process.
"""
from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def measure(problem_id: str) -> dict[str, float]:
    from fitcore import RunConfig
    from fitcore.compare import compare, plan_frameworks, plan_optimizers, plan_sweep

    config = RunConfig.notebook(problem_id)
    seconds: dict[str, float] = {}
    for name, planner in (("frameworks", plan_frameworks), ("optimizers", plan_optimizers), ("sweep", plan_sweep)):
        for attempt in ("cold", "warm"):
            started = time.perf_counter()
            result = compare(planner(config))
            seconds[f"{name} {attempt}"] = time.perf_counter() - started
        seconds[f"{name} runs"] = len(result.outcomes)
        seconds[f"{name} steps"] = result.plan.steps
    return seconds


def main(demos: list[str]) -> None:
    if len(demos) == 1 and demos[0].startswith("--child="):
        print(json.dumps(measure(demos[0].split("=", 1)[1])))
        return
    from fitcore import PROBLEMS
    for problem_id in demos or list(PROBLEMS):
        output = subprocess.run([sys.executable, __file__, f"--child={problem_id}"], capture_output=True, text=True,
                                cwd=REPO, env={"PYTHONPATH": str(REPO), "TF_CPP_MIN_LOG_LEVEL": "3"}, check=True)
        seconds = json.loads(output.stdout.strip().splitlines()[-1])
        parts = [f"{name} {int(seconds[name + ' runs'])}×{int(seconds[name + ' steps']):,} steps: "
                 f"{seconds[name + ' cold']:.2f} s cold, {seconds[name + ' warm']:.2f} s warm"
                 for name in ("frameworks", "optimizers", "sweep")]
        print(f"{problem_id}: " + "; ".join(parts), flush=True)


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    main(sys.argv[1:])
