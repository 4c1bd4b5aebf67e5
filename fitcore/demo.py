"""What a demo is: the types one definition fills in (``fitcore.demos``) and the data a run draws from it.

Every model is linear in its parameters: prediction = Σ θᵢ·φᵢ(x) + offset(x). The features φᵢ
are plain Python callables built from ``+ - * **`` only, so the same definition evaluates on
NumPy arrays, torch tensors and TensorFlow tensors.

A ``Problem`` is the whole of a demo: its data, model, printed lines, notebook settings, lessons, page
hints and the two template parts of its exported script. Nothing here imports a run's settings, so a
definition can hold its lessons and every module above reads the demo from it alone.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Literal, Mapping, Sequence

import numpy as np

from .data_source import CustomSource
from .notebook_prints import PrintedCell

REDUCTIONS: tuple[str, ...] = ("mean", "sum")
DTYPES: tuple[str, ...] = ("float32", "float64")


@dataclass(frozen=True)
class Feature:
    """One column φ(x) of the design matrix: as code, as LaTeX, and as a callable."""

    code: str
    latex: str
    fn: Callable[[Any], Any]

    @property
    def is_constant(self) -> bool:
        return self.code == "1"


CONSTANT = Feature("1", "1", lambda x: 1.0)
X = Feature("x", "x", lambda x: x)
X2 = Feature("x**2", "x^2", lambda x: x**2)
X3 = Feature("x**3", "x^3", lambda x: x**3)


@dataclass(frozen=True)
class NotebookVariant:
    """One run exactly as a notebook wrote it: its settings, how often it printed, and what it printed.

    With no seed (``RunConfig.seed is None``) a run uses the notebook's own data and start: ``data`` and
    ``start`` where the notebook printed enough to fix them, the demo's seed-0 draw elsewhere.
    """

    key: str
    label: str
    seed_file: str
    settings: Mapping[str, Any]
    log_every: int
    log_phase: int = 0  # the notebook prints when step % log_every == log_phase
    prints_intro: bool = True  # whether this notebook cell prints the demo's lines before training
    # θ₀ for a seed when this notebook starts elsewhere than the demo's own draw (nn.Linear's init)
    init: Callable[[int], np.ndarray] | None = None
    cell: PrintedCell | None = None  # what the notebook printed; None where it printed nothing
    start: Callable[[], np.ndarray] | None = None  # the notebook's own θ₀, computed from what it printed
    data: Callable[[], np.ndarray] | None = None   # the notebook's own y, where it printed them
    # the lines printed before training, where this cell prints its own: (θ₀, data, loss scale s) -> lines
    intro: Callable[[np.ndarray, "Dataset", float], list[str]] | None = None
    start_note: str = ""  # one line: where the notebook's start comes from, or why it cannot be had

    @property
    def printed_steps(self) -> list[int]:
        """The steps at which the notebook printed its loop's lines."""
        count = len(self.cell.loop) if self.cell is not None else 0
        return [self.log_phase + k * self.log_every for k in range(count)]


@dataclass(frozen=True)
class Sample:
    """What a seed draws: x, standard-normal noise draws z, and the initial parameters (float64)."""

    x: np.ndarray
    z: np.ndarray
    init: np.ndarray


@dataclass(frozen=True)
class FeaturesAt:
    """A problem's features at fixed x. An eager loop pays per step only for θᵢ·φᵢ and the sum (each
    φᵢ(x) is the same number predict() would recompute): 2–40 µs saved per operation in eager torch
    and TensorFlow."""

    values: tuple[Any, ...]   # φᵢ(x), or None for a constant feature
    offset: Any               # offset(x), or None

    def predict(self, params: Sequence[Any]) -> Any:
        """Σ θᵢ·φᵢ + offset, left to right in the notebook's order. A constant feature's term is its
        parameter as it stands: θ·1 is θ bit for bit, so the multiply is left out."""
        terms = [p if value is None else p * value for p, value in zip(params, self.values)]
        if self.offset is not None:
            terms.insert(0, self.offset)
        total = terms[0]
        for term in terms[1:]:
            total = total + term
        return total


@dataclass(frozen=True)
class PageHints:
    """How a demo's page shows it, beside the shared charts: pure data that the pages read, so a new
    demo needs no branch in ui/. Its page is ``app_pages/<id with underscores>.py`` at ``/<id>``."""

    icon: str = "show_chart"  # a Material Symbols name, for the navigation and the home page's link
    # the two parameters the landscape slices by default: the pair whose valley the lesson is about
    landscape_axes: tuple[int, int] = (0, 1)
    # how the page shows ``derived`` values: "before-after" (from θ₀ to the step shown), "versus-truth"
    # (beside the values the true parameters give), or "" (not at all)
    readout: Literal["", "before-after", "versus-truth"] = ""
    record_panels: bool = False  # one small fit per printed record, titled by ``derived`` (the notebook's plots)
    # "Fit it yourself first": a slider per parameter, few enough that a learner can reach the optimum by hand
    by_hand: bool = False


@dataclass(frozen=True)
class ScriptParts:
    """The two pieces of an exported script (``fitcore.export``) that are the demo's own, as Jinja2 templates:
    ``data`` draws x, y and theta0; ``printers`` defines print_progress (and print_start, print_final where the
    notebook printed them). Each is a template's name under fitcore/export/templates (ending ``.jinja``), or,
    for a demo defined in a few lines, the template's text itself."""

    data: str
    printers: str


PROMISES = ("completed", "diverged")
# Lessons whose numbers were measured on fresh data from seed 0 (the notebook's own start differs in
# quadratic recovery and the sine fit): loading one switches the page to that data.
SEED_0 = {"seed": 0}


@dataclass(frozen=True)
class Lesson:
    """A preset a presenter loads with one click, with what to look at and a question (``fitcore.lessons``)."""

    key: str
    title: str
    look: str                       # two sentences: what to look at
    question: str                   # something to think about before the answer
    answer: str                     # for the presenter
    promise: str                    # how the run ends: completed or diverged
    settings: Mapping[str, Any] = field(default_factory=dict)  # RunConfig fields over the notebook's
    variant: str | None = None      # which notebook's settings it starts from (the demo's first if None)
    # The implementations whose arithmetic the lesson is about; empty: every one that runs its settings.
    holds_on: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.promise not in PROMISES:
            raise ValueError(f"a lesson promises one of {PROMISES}, not {self.promise!r}")


@dataclass(frozen=True)
class Problem:
    id: str
    title: str
    teaches: str
    seed_files: tuple[str, ...]
    notebook_frameworks: tuple[str, ...]
    param_names: tuple[str, ...]
    features: tuple[Feature, ...]
    offset: Feature | None
    formula_code: str
    formula_latex: str
    data_latex: str
    true_params: tuple[float, ...] | None
    default_points: int
    points_range: tuple[int, int]
    default_noise: float
    rng: str  # "numpy" or "torch": whose generator the notebook seeded
    variants: tuple[NotebookVariant, ...]
    sample: Callable[[int, int, float], Sample]
    truth: Callable[[np.ndarray], np.ndarray]
    target: Callable[[np.ndarray, np.ndarray, float], np.ndarray]
    # (step, loss, mean squared error, θ after the step) -> the line the notebook printed
    log_line: Callable[[int, float, float, np.ndarray], str]
    script: ScriptParts  # its exported script's data and printed lines
    intro_lines: Callable[[np.ndarray], list[str]] = field(default=lambda params: [])
    final_lines: Callable[[np.ndarray], list[str]] = field(default=lambda params: [])
    derived: Callable[[np.ndarray], dict[str, float]] = field(default=lambda params: {})
    lessons: tuple[Lesson, ...] = ()  # in the order a presenter walks through them
    page: PageHints = PageHints()
    # whether its points may grow on an accelerator (config.ACCELERATED_MAX_POINTS): a demo about many
    # points; the others are about their few
    grows_on_accelerator: bool = False
    # What a problem built at run time came from (your own data); None for the demos.
    source: CustomSource | None = None

    @property
    def n_params(self) -> int:
        return len(self.param_names)

    @property
    def model(self) -> "Model":
        """The prediction formula as a cache key for compiled code (which depends on nothing else)."""
        key = (self.id, self.formula_code, *(f.code for f in self.features),
               self.offset.code if self.offset is not None else "")
        return Model(key, self)

    @property
    def default_variant(self) -> NotebookVariant:
        return self.variants[0]

    def variant(self, key: str) -> NotebookVariant:
        for variant in self.variants:
            if variant.key == key:
                return variant
        raise KeyError(f"{self.id} has no notebook variant {key!r}")

    def predict(self, x: Any, params: Sequence[Any]) -> Any:
        """Σ θᵢ·φᵢ(x) + offset(x), summed left to right in the notebook's order."""
        return self.features_at(x).predict(params)

    def features_at(self, x: Any) -> "FeaturesAt":
        """The features evaluated once at these x, for a loop that predicts at the same x every step."""
        return FeaturesAt(tuple(None if f.is_constant else f.fn(x) for f in self.features),
                          self.offset.fn(x) if self.offset is not None else None)

    def design(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The design matrix Φ (points × params) and the offset vector, in x's dtype."""
        columns = [np.broadcast_to(np.asarray(f.fn(x), dtype=x.dtype), x.shape) for f in self.features]
        offset = self.offset.fn(x) if self.offset is not None else np.zeros_like(x)
        return np.stack(columns, axis=1).astype(x.dtype), np.asarray(offset, dtype=x.dtype)


@dataclass(frozen=True)
class Model:
    """A problem's formula, hashable by its code alone: compiled chunks are cached per model, and two
    problems with the same features share them (the problem rides along, outside the comparison)."""

    key: tuple[str, ...]
    problem: Problem = field(compare=False, repr=False)


@dataclass(frozen=True)
class Dataset:
    """The data one run trains on, in the run's dtype, plus the problem it came from."""

    problem: Problem
    x: np.ndarray
    y: np.ndarray
    init: np.ndarray
    features: np.ndarray  # Φ, points × params
    offset: np.ndarray

    @property
    def dtype(self) -> np.dtype:
        return self.x.dtype

    def as_float64(self) -> "Dataset":
        if self.dtype == np.float64:
            return self
        return Dataset(self.problem, self.x.astype(np.float64), self.y.astype(np.float64),
                       self.init.astype(np.float64), self.features.astype(np.float64),
                       self.offset.astype(np.float64))


def make_dataset(problem: Problem, seed: int | None, points: int, noise: float, dtype: str,
                 variant: NotebookVariant | None = None) -> Dataset:
    """Draw the problem's data for one seed in the run's dtype (float32 is what the notebooks use).

    ``seed=None`` asks for the notebook's own data and start: the variant's printed ``data`` and
    rebuilt ``start`` where it has them, and the seed-0 draw (the notebooks' ``np.random.seed(0)``, or
    data with no randomness at all) for the rest. With a seed, a variant with its own starting rule
    (``variant.init``, nn.Linear's initialisation) replaces the drawn θ₀.
    """
    np_dtype = np.dtype(dtype)
    own = seed is None and variant is not None
    sample = problem.sample(0 if seed is None else seed, points, noise)
    x = sample.x.astype(np_dtype)
    if own and variant.data is not None:
        y = variant.data().astype(np_dtype)
    else:
        y = np.asarray(problem.target(x, sample.z, noise), dtype=np_dtype)
    features, offset = problem.design(x)
    if own and variant.start is not None:
        init = variant.start()
    elif variant is not None and variant.init is not None:
        init = variant.init(0 if seed is None else seed)
    else:
        init = sample.init
    return Dataset(problem, x, y, np.asarray(init, dtype=np.float64).astype(np_dtype), features, offset)
