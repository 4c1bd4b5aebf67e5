"""What every chart shares: specs cached by their shape, each run's own axis numbers filled in."""
from __future__ import annotations

from typing import Any

import numpy as np

from fitcore import Run, RunConfig
from ui import charts
from ui.charts import fit, landscape, progress
from ui.charts.base import numbers_filled_in


def frame_of(seed: int) -> charts.LiveFrame:
    run = Run(RunConfig.notebook("sine-cubic", impl="numpy", steps=9_000_000, seed=seed))
    truth = run.problem.true_params
    targets = np.asarray(truth if truth is not None else run.quad.optimum, dtype=np.float64)
    return charts.live_frame_for(run.total_steps, run.initial_loss, run.quad.optimum_loss,
                                 run.data.init.astype(np.float64), targets)


def test_that_every_runs_axes_give_the_spec_altair_builds_for_them() -> None:
    names = ("a", "b", "c", "d")
    for seed in range(3):
        frame = frame_of(seed)
        assert progress.params_spec(names, False, frame, True) == progress.params_spec.__wrapped__(names, False, frame,
                                                                                                   True)
        assert progress.loss_spec(True, False, frame, False, True) == progress.loss_spec.__wrapped__(True, False, frame,
                                                                                                     False, True)
        domain = ((-1.0 - seed, 2.5), (0.125, 3.0 + seed))
        assert landscape.landscape_2d_spec("a", "b", domain, False) == \
            landscape.landscape_2d_spec.__wrapped__("a", "b", domain, False)
        assert fit.fit_spec((-2.0, 1.0 + seed), True) == fit.fit_spec.__wrapped__((-2.0, 1.0 + seed), True)


def test_that_new_numbers_of_the_same_shape_do_not_build_the_spec_again() -> None:
    built: list[tuple[Any, ...]] = []

    @numbers_filled_in
    def spec(title: str, domain: tuple[float, float], steps: int, log: bool) -> dict[str, Any]:
        built.append((title, domain, steps, log))
        return {"title": title, "scale": {"domain": [0, steps]}, "y": {"domain": list(domain)}, "log": log}

    assert spec("x", (1.5, 2.5), 100, True) == {"title": "x", "scale": {"domain": [0, 100]},
                                                "y": {"domain": [1.5, 2.5]}, "log": True}
    assert spec("x", (-3.0, 7.0), 9_000_000, True) == {"title": "x", "scale": {"domain": [0, 9_000_000]},
                                                       "y": {"domain": [-3.0, 7.0]}, "log": True}
    assert len(built) == 1
    spec("y", (1.5, 2.5), 100, True)
    spec("x", (1.5, 2.5), 100, False)
    assert len(built) == 3  # another title or flag is another shape


def test_that_every_spec_shape_is_valid_vega_lite() -> None:
    """The builders skip Altair's own validation (a third of a build, on a fresh server's first page): the
    specs they build are checked against Vega-Lite's schema here instead, at rest and while training."""
    from altair.utils.schemapi import validate_jsonschema
    from altair.vegalite.v6.schema.core import load_schema

    from ui.charts import extras

    schema = load_schema()
    frame = frame_of(0)
    specs = [fit.fit_spec((-2.0, 1.0), True), fit.fit_spec((-2.0, 1.0), False),
             landscape.landscape_1d_spec("w", True), landscape.landscape_1d_spec("w", False),
             extras.panels_spec(3), extras.schedule_spec()]
    for at_rest in (True, False):
        axes = None if at_rest else frame
        specs += [progress.loss_spec(False, at_rest, axes, True, True), progress.loss_spec(True, at_rest, axes),
                  progress.params_spec(("a", "b", "c", "d"), at_rest, axes, True),
                  landscape.landscape_2d_spec("a", "b", ((-1.0, 2.5), (0.125, 3.0)), at_rest)]
    for spec in specs:
        validate_jsonschema(spec, schema)
