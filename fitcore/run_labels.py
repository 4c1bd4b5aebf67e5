"""Short phrases for a run's settings: the legends of pinned runs and the lesson cards' settings lines."""
from __future__ import annotations

from typing import Mapping, Sequence

from .config import RunConfig, setting_values
from .optim import OPTIMIZER_LABELS
from .settings import FIELD

SHORT_NAMES: Mapping[str, str] = {
    "numpy": "NumPy",
    "torch-manual": "PyTorch by hand",
    "torch-autograd": "PyTorch autograd",
    "torch-nn": "PyTorch nn",
    "tf-tape": "TensorFlow",
    "analytic": "exact closed form",
}


def setting_phrases(config: RunConfig) -> dict[str, str]:
    """Each setting of a run as a short phrase, for legends."""
    stop = config.stop
    stops = []
    if stop.loss_below is not None:
        stops.append(f"stop at loss ≤ {stop.loss_below:g}")
    if stop.plateau_tol is not None:
        stops.append(f"stop on a plateau ({stop.plateau_tol:g} over {stop.plateau_window})")
    phrased = {name: FIELD[name].phrase.format(value) for name, value in setting_values(config).items()
               if FIELD[name].phrase is not None}
    return {
        "data": config.custom.describe() if config.custom is not None else "the demo's data",
        "impl": SHORT_NAMES[config.impl],
        "compiled": "compiled" if config.compiled else "eager",
        "optimizer": OPTIMIZER_LABELS[config.optimizer],
        "lr": phrased["lr"],
        "schedule": f"{config.schedule.describe()} lr" if not config.schedule.is_constant else "constant lr",
        **{name: phrased[name] for name in ("steps", "reduction", "dtype", "points", "noise", "seed")},
        "stop": ", ".join(stops) if stops else "no early stop",
    }


def differing_phrases(config: RunConfig, others: Sequence[RunConfig]) -> list[str]:
    """The phrases of ``config``'s settings that some config in ``others`` sets differently."""
    mine = setting_phrases(config)
    theirs = [setting_phrases(other) for other in others]
    return [phrase for key, phrase in mine.items() if any(t[key] != phrase for t in theirs)]


def pin_labels(configs: Sequence[RunConfig], numbers: Sequence[int], statuses: Sequence[str]) -> list[str]:
    """Legend labels for pinned runs: a number, then the settings that tell the runs apart.

    With one run (or runs whose settings are all equal), the settings that differ from its
    notebook's are shown instead; a run that did not complete says how it ended.
    """
    labels = []
    for index, (config, number, status) in enumerate(zip(configs, numbers, statuses)):
        others = [c for i, c in enumerate(configs) if i != index]
        phrases = differing_phrases(config, others) if others else []
        if not phrases:
            notebook = RunConfig.notebook(config.problem, config.variant, custom=config.custom)
            phrases = differing_phrases(config, [notebook])
        text = f"#{number} " + (", ".join(phrases) if phrases else "the notebook's settings")
        if status in ("diverged", "stopped"):
            text += f" ({status})"
        labels.append(text)
    return labels
