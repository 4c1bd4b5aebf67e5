"""What a script's template needs to know about a run, computed once from its settings.

Templates hold the script's text; this module holds the facts they cannot compute themselves: the
run's data-derived numbers (the log plan, the divergence limit, the notebook's own draws) and the
few structural choices (which parameters are nn.Linear's weights and which its bias).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..config import RunConfig
from ..custom import CUSTOM_ID, EMBED_LIMIT, parse_function, script_problem, standardisation
from ..experiment import experiment_of
from ..impl import IMPLEMENTATIONS, Implementation
from ..problems import NotebookVariant, Problem, Sample


@dataclass(frozen=True)
class _RunFacts:
    """What only the prepared experiment knows: the problem as built for these settings, and its log plan
    and divergence limit (both depend on the data)."""

    problem: Problem
    log_every: int
    log_phase: int
    diverged_above: float


def _run_facts(config: RunConfig) -> _RunFacts:
    """The one place export reads the prepared experiment (shared, built once per configuration; it
    imports no framework), for the facts that depend on the data."""
    experiment = experiment_of(config)
    return _RunFacts(experiment.problem, experiment.log_every, experiment.log_phase, experiment.divergence_limit)


def style_of(config: RunConfig) -> str:
    """The script's style: the implementation, or its compiled form where that reads differently."""
    if config.impl == "analytic":
        return "analytic"  # always exact: nothing to compile
    if config.compiled:
        return {"numpy": "numpy-gram", "tf-tape": "tf-xla"}.get(config.impl, "torch-compiled")
    return config.impl


@dataclass(frozen=True)
class ScriptFacts:
    """A run's settings and what follows from them for its script (the templates read it as ``s``)."""

    config: RunConfig
    problem: Problem   # a standardised custom run's problem fits plain powers of the standardised x
    style: str
    impl: Implementation
    framework: str     # numpy, torch or tensorflow: the one framework the script imports
    torch_data: bool   # quadratic-recovery in a torch script: drawn from torch's own generator
    variant: NotebookVariant
    log_every: int
    log_phase: int
    diverged_above: float

    @classmethod
    def of(cls, config: RunConfig) -> "ScriptFacts":
        run = _run_facts(config)
        impl = IMPLEMENTATIONS[config.impl]
        problem = script_problem(run.problem) if config.problem == CUSTOM_ID else run.problem
        return cls(config=config, problem=problem, style=style_of(config), impl=impl, framework=impl.framework,
                   torch_data=run.problem.rng == "torch" and impl.framework == "torch",
                   variant=run.problem.variant(config.variant), log_every=run.log_every, log_phase=run.log_phase,
                   diverged_above=run.diverged_above)

    @property
    def names(self) -> tuple[str, ...]:
        return self.problem.param_names

    @property
    def reads_file(self) -> bool:
        """A custom run on a file too long to write into the script: the script reads the file."""
        source = self.config.custom
        return source is not None and source.kind == "csv" and source.rows > EMBED_LIMIT

    @property
    def scheduled(self) -> bool:
        return self.config.schedule.kind != "constant"

    @property
    def own_schedule(self) -> bool:
        """The script computes the learning rate itself (the framework's scheduler does it otherwise)."""
        return self.scheduled and self.style not in ("torch-nn", "tf-tape")

    @property
    def lr(self) -> str:
        """The learning rate of the current step, as the loop names it."""
        return "lr" if self.scheduled else "LEARNING_RATE"

    def unpack(self, source: str) -> str:
        """``a, b, c = theta``; a lone parameter unpacks as ``(w,) = theta``."""
        names = self.names
        return f"{', '.join(names)} = {source}" if len(names) > 1 else f"({names[0]},) = {source}"

    def columns(self, codes: list[str] | None = None, ns: str = "np") -> str:
        """Features φ(x) as full columns (the constant feature becomes ones), every feature by default."""
        codes = [f.code for f in self.problem.features] if codes is None else codes
        return ", ".join(f"{ns}.ones_like(x)" if code == "1" else code for code in codes)

    @property
    def weights(self) -> list[int]:
        """The parameters nn.Linear holds as weights: those of the non-constant features."""
        return [i for i, f in enumerate(self.problem.features) if not f.is_constant]

    @property
    def weight_codes(self) -> list[str]:
        return [self.problem.features[i].code for i in self.weights]

    @property
    def bias(self) -> int | None:
        """The parameter nn.Linear holds as its bias: that of the constant feature, if there is one."""
        return next((i for i, f in enumerate(self.problem.features) if f.is_constant), None)

    @property
    def linear_order(self) -> list[str]:
        """θ in the problem's order as nn.Linear holds it: "bias", or "weights" for a run of weights
        (they sit together in every demo)."""
        order: list[str] = []
        for i in range(self.problem.n_params):
            part = "bias" if i == self.bias else "weights"
            if not order or part == "bias" or order[-1] != "weights":
                order.append(part)
        return order

    @property
    def prints_start(self) -> bool:
        """Whether the notebook cell printed lines before its loop: the demo's own (``intro_lines``, such as
        linear-2x's prediction before training) or the cell's."""
        variant, problem = self.variant, self.problem
        own = bool(problem.intro_lines(np.zeros(problem.n_params)))
        return variant.prints_intro and (own or variant.intro is not None)

    @property
    def intro(self) -> tuple[str, ...]:
        """The lines the notebook printed before training, where this cell prints its own."""
        variant = self.variant
        return tuple(variant.cell.intro) if variant.intro is not None and variant.cell is not None else ()

    @property
    def notebook_own(self) -> bool:
        """No seed, and the notebook printed enough to fix its own data or start."""
        return self.config.seed is None and (self.variant.start is not None or self.variant.data is not None)

    @property
    def variant_theta0(self) -> list[float]:
        """A notebook cell's own θ₀ for this seed (nn.Linear's initialisation)."""
        return [float(v) for v in self.variant.init(0 if self.config.seed is None else self.config.seed)]

    def sample(self) -> Sample:
        c = self.config
        return self.problem.sample(0 if c.seed is None else c.seed, c.points, c.noise)

    @property
    def function_code(self) -> str:
        """The typed function as NumPy code."""
        return parse_function(self.config.custom.expression).numpy_code()

    @property
    def standardisation(self) -> tuple[float, float]:
        return standardisation(self.config.custom)


def as_floats(values: np.ndarray) -> list[float]:
    return [float(v) for v in np.asarray(values)]
