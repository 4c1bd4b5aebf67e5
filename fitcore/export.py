"""Settings → one standalone script, in the notebooks' style, that reproduces ``fitcore.train``.

The script imports NumPy and its implementation's framework, never fitcore. It prints the
notebook's lines (the same text as ``Run.log``) and, last, ``FINAL loss=… params=[…]``.

It is assembled from small parts: a header, the settings, the data (drawn as the notebook drew
them), the notebook's print statements and fitcore's stopping rules, then one part per
implementation style: how θ is held, one step, and how θ is read back. Every style computes with
the same operations, in the same order, as its ``fitcore.impl`` module, so the numbers agree to
the last bit wherever the framework is deterministic.
"""
from __future__ import annotations

import functools
import shlex
import textwrap
from dataclasses import dataclass
from typing import Callable, Mapping

import numpy as np

from .config import RunConfig
from .device import NOTEBOOK_LINE
from .custom import CUSTOM_ID, EMBED_LIMIT, parse_function, script_problem, standardisation
from .engine import Run
from .impl import IMPLEMENTATIONS
from .optim import ADAM_BETAS, EPS, MOMENTUM, OPTIMIZER_LABELS, RMS_ALPHA, SLOTS
from .problems import NotebookVariant, Problem

TORCH_UNROLL = 8     # fitcore.impl.torch_compiled.UNROLL: steps per compiled call
XLA_CAPACITY = 4096  # fitcore.impl.tf_tape.CAPACITY: steps per XLA call
RULE_WIDTH = 100


def export_script(config: RunConfig) -> str:
    """A runnable script that trains ``config`` exactly as ``fitcore.train(config)`` does."""
    spec = _Spec.of(config)
    style = STYLES[spec.style](spec)
    parts = [
        _header(spec) + "\n\n" + _imports(spec, style.imports),
        _settings(spec),
        _data(spec),
        _printing(spec),
        style.model,
        style.loop + "\n" + _report(spec),
    ]
    return _tidy("\n\n\n".join(part.strip("\n") for part in parts if part.strip()))


def cli_arguments(config: RunConfig) -> list[str]:
    """The ``python -m fitcore run|export`` arguments that rebuild ``config``."""
    c = config
    args = [c.problem, *_source_arguments(c), "--variant", c.variant, "--impl", c.impl, "--optimizer", c.optimizer,
            "--lr", _number(c.lr), "--steps", str(c.steps)]
    if c.seed is not None:  # without one, the notebook's own data and start
        args += ["--seed", str(c.seed)]
    args += ["--reduction", c.reduction, "--dtype", c.dtype]
    if c.custom is None or c.custom.kind == "function":  # a file fixes its points, and takes no noise
        args += ["--points", str(c.points), "--noise", _number(c.noise)]
    if c.compiled:
        args.append("--compile")
    if c.device != "cpu":
        args += ["--device", c.device]
    if c.start is not None:
        args += ["--start", ",".join(_number(v) for v in c.start)]
    s = c.schedule
    if s.kind != "constant":
        args += ["--schedule", s.kind]
        if s.kind in ("step", "exponential"):
            args += ["--gamma", _number(s.gamma)]
        if s.kind == "step":
            args += ["--step-size", str(s.step_size)]
        if s.kind == "cosine":
            args += ["--lr-min", _number(s.lr_min)]
    if c.stop.loss_below is not None:
        args += ["--loss-below", _number(c.stop.loss_below)]
    if c.stop.plateau_tol is not None:
        args += ["--plateau-tol", _number(c.stop.plateau_tol), "--plateau-window", str(c.stop.plateau_window)]
    return args


def _source_arguments(config: RunConfig) -> list[str]:
    """A custom run's data source and model as options: --function or --csv, the range, the degree."""
    source = config.custom
    if source is None:
        return []
    if source.kind == "function":
        args = ["--function", source.expression, "--x-min", _number(source.x_min), "--x-max", _number(source.x_max)]
    else:
        layout = source.layout
        args = ["--csv", source.file]
        if layout is not None and (layout.x_column, layout.y_column) != (0, 1):
            args += ["--x-column", _column_option(layout.x_name, layout.x_column, layout.header),
                     "--y-column", _column_option(layout.y_name, layout.y_column, layout.header)]
    args += ["--degree", str(source.degree)]
    return args + (["--standardise"] if source.standardise else [])


def _column_option(name: str, index: int, header: bool) -> str:
    return name if header else str(index + 1)


def _number(value: float) -> str:
    return repr(float(value))


# --- what every part needs ---------------------------------------------------------------------

@dataclass(frozen=True)
class _Spec:
    config: RunConfig
    problem: Problem
    style: str
    framework: str     # numpy, torch or tensorflow: the one framework the script imports
    torch_data: bool   # quadratic-recovery in a torch script: drawn from torch's own generator
    variant: NotebookVariant
    log_every: int
    log_phase: int
    diverged_above: float

    @classmethod
    def of(cls, config: RunConfig) -> "_Spec":
        run = Run(config)  # builds the data and the loss's spectrum; imports no framework
        framework = IMPLEMENTATIONS[config.impl].framework
        # A standardised custom run: the script standardises x itself, then fits plain powers of it.
        problem = script_problem(run.problem) if config.problem == CUSTOM_ID else run.problem
        return cls(config=config, problem=problem, style=_style_of(config), framework=framework,
                   torch_data=run.problem.rng == "torch" and framework == "torch",
                   variant=run.problem.variant(config.variant), log_every=run.log_every, log_phase=run.log_phase,
                   diverged_above=run.divergence_limit)

    @property
    def names(self) -> tuple[str, ...]:
        return self.problem.param_names

    @property
    def reads_file(self) -> bool:
        """A custom run on a file too long to write into the script: the script reads the file."""
        source = self.config.custom
        return source is not None and source.kind == "csv" and source.rows > EMBED_LIMIT

    def unpack(self, source: str) -> str:
        """``a, b, c = theta``; a lone parameter unpacks as ``(w,) = theta``."""
        names = self.names
        return f"{', '.join(names)} = {source}" if len(names) > 1 else f"({names[0]},) = {source}"

    @property
    def scheduled(self) -> bool:
        return self.config.schedule.kind != "constant"

    @property
    def lr(self) -> str:
        """The learning rate of the current step, as the loop names it."""
        return "lr" if self.scheduled else "LEARNING_RATE"

    def column(self, code: str, ns: str = "np") -> str:
        """A feature φ(x) as a full column (the constant feature becomes ones)."""
        return f"{ns}.ones_like(x)" if code == "1" else code


def _style_of(config: RunConfig) -> str:
    if config.impl == "analytic":
        return "analytic"  # always exact: nothing to compile
    if config.compiled:
        return {"numpy": "numpy-gram", "tf-tape": "tf-xla"}.get(config.impl, "torch-compiled")
    return config.impl


@dataclass(frozen=True)
class _Style:
    imports: tuple[str, ...]
    model: str
    loop: str


def _code(text: str, **values: object) -> str:
    """Dedent a template and fill it; ``{{`` and ``}}`` stay literal braces. A line holding only a
    placeholder whose value is empty disappears."""
    lines = [line for line in textwrap.dedent(text).splitlines()
             if not (line.strip().startswith("{") and line.strip().endswith("}")
                     and line.strip()[1:-1] in values and not str(values[line.strip()[1:-1]]).strip())]
    return "\n".join(lines).strip("\n").format(**values) + "\n"


def _tidy(text: str) -> str:
    """No trailing spaces, no blank line opening a block, at most two blank lines in a row."""
    out: list[str] = []
    for line in (line.rstrip() for line in text.splitlines()):
        if line.startswith("# --- "):  # section rules run to the full width
            line = (line + " ").ljust(RULE_WIDTH, "-")
        if not line and (not out or out[-1].endswith(":") or out[-2:] == ["", ""]):
            continue
        out.append(line)
    return "\n".join(out).strip("\n") + "\n"


def _wrap(head: str, args: list[str], tail: str = ")", width: int = 96) -> str:
    """``head`` + the arguments + ``tail`` on one line, or the arguments on indented lines below."""
    line = head + ", ".join(args) + tail
    if len(line) <= width:
        return line
    rows, current = [], ""
    for arg in args:
        if current and len(current) + len(arg) + 6 > width:
            rows.append(current + ",")
            current = ""
        current += (", " if current else "") + arg
    return head + "\n" + "\n".join("    " + row for row in rows + [current + tail])


def _indent(lines: str | list[str], spaces: int) -> str:
    text = "\n".join(lines) if isinstance(lines, list) else lines
    return textwrap.indent(textwrap.dedent(text).strip("\n"), " " * spaces).lstrip()


# --- header, imports, settings -------------------------------------------------------------------

def _header(spec: _Spec) -> str:
    c, p = spec.config, spec.problem
    impl = IMPLEMENTATIONS[c.impl]
    variant = p.variant(c.variant)
    stops = []
    if c.stop.loss_below is not None:
        stops.append(f"when the loss is ≤ {c.stop.loss_below:g}")
    if c.stop.plateau_tol is not None:
        stops.append(f"on a plateau (relative change ≤ {c.stop.plateau_tol:g} over {c.stop.plateau_window} steps)")
    lines = [
        f"{p.title}: fit {p.formula_code} by gradient descent, as `fitcore.train` runs it.",
        "",
        f"demo            {p.id}, notebook variant {variant.key}: {variant.label}",
        f"implementation  {impl.id}: {impl.label}",
        *([f"compiled        {impl.compiled_label}"] if c.compiled and c.impl != "analytic" else []),
        f"optimizer       {OPTIMIZER_LABELS[c.optimizer]}, learning rate {c.lr:g}, "
        f"{c.schedule.describe()} schedule",
        f"steps           {c.steps:,}" + (f"; stop early {' or '.join(stops)}" if stops else ""),
        f"loss            {'mean' if c.reduction == 'mean' else 'sum'} of squared errors, {c.dtype}",
        *_data_lines(c),
        "",
        "Regenerate this file with:",
        *_wrapped_command(["python", "-m", "fitcore", "export", *cli_arguments(c)]),
        "",
        "It prints the notebook's lines, then `FINAL loss=... params=[...]`: the final loss and",
        "parameters fitcore reports for these settings.",
    ]
    return "\n".join(("# " + line).rstrip() for line in lines)


def _data_lines(c: RunConfig) -> list[str]:
    source = c.custom
    if source is None:
        seed = f"seed {c.seed}" if c.seed is not None else "the notebook's own data and start"
        chosen = "" if c.start is None else ", started from a point chosen on the page"
        return [f"data            {c.points} points, noise {c.noise:g}, {seed}{chosen}"]
    model = f"model           polynomial of degree {source.degree}" + \
        (" in standardised x, z = (x - MU) / SIGMA" if source.standardise else "")
    if source.kind == "csv":
        columns = f" (x: {source.layout.x_name}, y: {source.layout.y_name})" if source.layout else ""
        where = "read from that file, which must sit in the working directory" if source.rows > EMBED_LIMIT \
            else "written out below"
        return [f"data            the {source.rows:,} rows of {source.file}{columns}, {where}", model]
    return [f"data            y = {source.expression} at {c.points} evenly spaced x in [{source.x_min:g}, "
            f"{source.x_max:g}], noise {c.noise:g}, seed {c.seed}", model]


def _wrapped_command(words: list[str], width: int = 92) -> list[str]:
    """A shell command over several lines, continued with backslashes so it still pastes; a flag
    stays on the line of its value."""
    units: list[str] = []
    for word in (shlex.quote(w) for w in words):
        if units and units[-1].startswith("--") and " " not in units[-1] and not word.startswith("--"):
            units[-1] += " " + word
        else:
            units.append(word)
    lines, current = [], "   "
    for unit in units:
        if len(current) + len(unit) + 1 > width and current.strip():
            lines.append(current + " \\")
            current = "       "
        current += " " + unit
    return lines + [current]


def _imports(spec: _Spec, extra: tuple[str, ...]) -> str:
    csv = ["import csv"] if spec.reads_file else []
    if spec.framework != "tensorflow":
        return "\n".join([*csv, "import math", "import sys", "", "import numpy as np", *extra])
    return "\n".join([*csv, "import math", "import os", "import sys", "",
                      "# before TensorFlow loads: no C++ start-up chatter on stderr",
                      'os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")', "", "import numpy as np", *extra])


def _settings(spec: _Spec) -> str:
    c = spec.config
    dtype = f"torch.{c.dtype}" if spec.torch_data else f"np.{c.dtype}"
    scale = "1.0  # the loss sums the squared errors" if c.reduction == "sum" \
        else f"{1.0 / c.points!r}  # 1/POINTS: the loss is the mean squared error"
    lines = [
        "# --- settings",
        f"SEED = {c.seed}" if c.seed is not None else
        "SEED = 0  # draws as the notebook's code makes them; its own data and start replace them below",
        f"POINTS = {c.points}",
        f"NOISE = {_number(c.noise)}",
        f"DTYPE = {dtype}",
        f"LEARNING_RATE = {_number(c.lr)}",
        f"STEPS = {c.steps}",
        f"SCALE = {scale}",
    ]
    lines += _optimizer_constants(spec)
    lines += _schedule_constants(spec)
    lines += [
        f"LOG_EVERY, LOG_PHASE = {spec.log_every}, {spec.log_phase}  "
        "# print when step % LOG_EVERY == LOG_PHASE, as the notebook did",
        f"DIVERGED_ABOVE = {spec.diverged_above!r}  # fitcore's rule: 1e8 × the starting loss",
    ]
    if c.stop.loss_below is not None:
        lines.append(f"LOSS_BELOW = {_number(c.stop.loss_below)}  # stop once the loss is at most this")
    if c.stop.plateau_tol is not None:
        lines.append(f"PLATEAU_TOL, PLATEAU_WINDOW = {_number(c.stop.plateau_tol)}, {c.stop.plateau_window}  "
                     "# stop once the loss stalls (relative)")
    return "\n".join(lines)


def _optimizer_constants(spec: _Spec) -> list[str]:
    optimizer = spec.config.optimizer
    if spec.style in ("torch-nn", "tf-tape"):
        return []  # the framework's optimizer class gets these as arguments
    if optimizer == "momentum":
        return [f"MOMENTUM = {MOMENTUM!r}"]
    if optimizer == "rmsprop":
        return [f"ALPHA, EPS = {RMS_ALPHA!r}, {EPS!r}"]
    if optimizer == "adam":
        return [f"BETA1, BETA2, EPS = {ADAM_BETAS[0]!r}, {ADAM_BETAS[1]!r}, {EPS!r}"]
    return []


def _schedule_constants(spec: _Spec) -> list[str]:
    s = spec.config.schedule
    if s.kind in ("step", "exponential"):
        return [f"GAMMA = {_number(s.gamma)}"] + ([f"STEP_SIZE = {s.step_size}"] if s.kind == "step" else [])
    if s.kind == "cosine":
        return [f"LR_MIN = {_number(s.lr_min)}"]
    return []


# --- data ------------------------------------------------------------------------------------------

def _data(spec: _Spec) -> str:
    builder = DATA[spec.problem.id]
    return "# --- data\n" + builder(spec) + _variant_start(spec) + _chosen_start(spec)


def _chosen_start(spec: _Spec) -> str:
    """A start the learner chose on the page (a click on the loss landscape) replaces θ₀ above."""
    if spec.config.start is None:
        return ""
    values = ", ".join(_number(v) for v in spec.config.start)
    return f"\ntheta0 = {_as_array(spec, values)}  # chosen on the page\n"


def _variant_start(spec: _Spec) -> str:
    """A notebook cell that starts from its own θ₀: the draws above still happen (the noise follows
    them in the stream), then θ₀ (and, where the notebook printed them, y) is replaced."""
    variant, seed = spec.variant, spec.config.seed
    if seed is None and (variant.start is not None or variant.data is not None):
        return _notebook_own(spec)
    if variant.init is None:
        return ""
    values = ", ".join(_number(v) for v in variant.init(0 if seed is None else seed))
    theta0 = f"torch.tensor([{values}]).to(DTYPE)" if spec.torch_data else f"np.array([{values}]).astype(DTYPE)"
    return _code("""
        # The notebook cell "{label}" does not start from the draw above but from
        # its own θ₀ (an nn.Linear cell: the layer's initialisation after torch.manual_seed(SEED)).
        # fitcore replays that start without torch; these are its values, float32 as torch drew them.
        theta0 = {theta0}
        """, label=variant.label, theta0=theta0)


def _as_array(spec: _Spec, values: str) -> str:
    if spec.torch_data:
        return f"torch.tensor([{values}], dtype=torch.float64).to(DTYPE)"
    return f"np.array([{values}]).astype(DTYPE)"


def _notebook_own(spec: _Spec) -> str:
    """The notebook's own data and start, which fitcore computed from what the notebook printed."""
    variant = spec.variant
    note = textwrap.wrap(f"The notebook's own data and start ({variant.seed_file}): {variant.start_note}",
                         RULE_WIDTH - 2)
    lines = [""] + ["# " + line for line in note]
    if variant.data is not None:
        lines.append("y = " + _as_array(spec, "\n    " + _wrapped_floats(variant.data(), 5).replace("\n", "\n    ")
                                         + "\n"))
    if variant.start is not None:
        lines.append("theta0 = " + _as_array(spec, ", ".join(_number(v) for v in variant.start())))
    return "\n".join(lines) + "\n"


def _noise_line(spec: _Spec, draw: str) -> str:
    if spec.config.noise <= 0:
        return ""
    return f"y = y + (NOISE * {draw}).astype(DTYPE)  # Gaussian noise, NOISE standard deviations"


def _quadratic_bias_data(spec: _Spec) -> str:
    return _code("""
        rng = np.random.RandomState(SEED)  # the notebook's np.random.seed(SEED): the same stream
        x = rng.uniform(-10, 10, POINTS).astype(np.float32).astype(DTYPE)  # float32, as the notebook
        y = x**2 + 5.0
        {noise}
        theta0 = np.array([0.0], dtype=DTYPE)  # bias = 0.0
        """, noise=_noise_line(spec, "rng.standard_normal(POINTS)"))


def _linear_data(spec: _Spec) -> str:
    return _code("""
        x = np.arange(1, POINTS + 1).astype(DTYPE)  # 1, 2, 3, 4 in the notebook
        y = 2 * x
        {noise}
        theta0 = np.array([0.0], dtype=DTYPE)  # w = 0.0
        """, noise=_noise_line(spec, "np.random.RandomState(SEED).standard_normal(POINTS)"))


def _sine_data(spec: _Spec) -> str:
    return _code("""
        rng = np.random.RandomState(SEED)  # the notebook's unseeded np.random, made repeatable
        theta0 = rng.randn(4).astype(DTYPE)  # a, b, c, d = np.random.randn() four times
        x = np.linspace(-math.pi, math.pi, POINTS).astype(DTYPE)
        y = np.sin(x)
        {noise}
        """, noise=_noise_line(spec, "rng.standard_normal(POINTS)"))


def _recovery_data(spec: _Spec) -> str:
    if spec.torch_data:
        return _code("""
            torch.manual_seed(SEED)
            x = torch.arange(POINTS, dtype=DTYPE)  # 0, 1, ..., 19 in the notebook
            noise = 1 + torch.randn(POINTS).to(DTYPE) * NOISE  # the notebook: 1 + torch.randn(num_points)*3
            theta0 = torch.randn(3).to(DTYPE)  # params = torch.randn(3): drawn after the noise
            y = 0.75 * (x - 9.5) ** 2 + noise  # d·(x − e)² + noise with d = 0.75, e = 9.5
            """)
    c = spec.config
    sample = spec.problem.sample(0 if c.seed is None else c.seed, c.points, c.noise)
    return _code("""
        # The notebook draws the noise, then θ₀, from torch's generator: torch.manual_seed(SEED),
        # torch.randn(POINTS), torch.randn(3). This script does not import torch, so these are those
        # draws as fitcore replays them in NumPy (float32 values, written out in full).
        Z = [
            {z}
        ]
        THETA0 = [{init}]
        x = np.arange(POINTS).astype(DTYPE)  # 0, 1, ..., 19 in the notebook
        noise = (1 + np.array(Z).astype(DTYPE) * DTYPE(NOISE)).astype(DTYPE)
        theta0 = np.array(THETA0).astype(DTYPE)
        y = 0.75 * (x - 9.5) ** 2 + noise  # d·(x − e)² + noise with d = 0.75, e = 9.5
        """, z=_wrapped_floats(sample.z, 4), init=", ".join(_number(v) for v in sample.init))


def _wrapped_floats(values: np.ndarray, per_line: int) -> str:
    rows = [", ".join(_number(v) for v in values[i:i + per_line]) + ","
            for i in range(0, len(values), per_line)]
    return "\n    ".join(rows)


def _custom_data(spec: _Spec) -> str:
    """Your own data, as fitcore.custom builds them: the typed function written out as NumPy code, or
    the file's two columns (written out, or read from the file when it is long)."""
    source = spec.config.custom
    zeros = f"theta0 = np.zeros({len(spec.names)}, dtype=DTYPE)  # every coefficient starts at 0"
    if source.kind == "function":
        expression = parse_function(source.expression)
        data = _code("""
            X_MIN, X_MAX = {x_min}, {x_max}
            x = np.linspace(X_MIN, X_MAX, POINTS).astype(DTYPE)  # evenly spaced
            y = {code}  # the function you typed: {typed}
            {noise}
            y = y.astype(DTYPE)
            {zeros}
            """, x_min=_number(source.x_min), x_max=_number(source.x_max), code=expression.numpy_code(),
                     typed=source.expression, zeros=zeros,
                     noise=_noise_line(spec, "np.random.RandomState(SEED).standard_normal(POINTS)"))
    elif spec.reads_file:
        layout = source.layout
        data = _code('''
            DATA_FILE = {file}  # the file you gave: keep it in the working directory
            DELIMITER, HEADER, DECIMAL_COMMA = {delimiter}, {header}, {comma}
            X_COLUMN, Y_COLUMN = {x_column}, {y_column}  # {x_name!r} and {y_name!r}, counting from 0


            def read_columns(path: str) -> tuple[np.ndarray, np.ndarray]:
                """The x and y columns as fitcore read them: blank and # lines skipped, the header dropped."""
                with open(path, encoding="utf-8-sig", newline="") as file:
                    lines = [line for line in file.read().splitlines()
                             if line.strip() and not line.lstrip().startswith("#")]
                rows = [next(csv.reader([line], delimiter=DELIMITER), []) for line in lines[int(HEADER):]]

                def number(cell: str) -> float:
                    text = cell.strip()
                    return float(text.replace(",", ".") if DECIMAL_COMMA else text)
                return (np.array([number(row[X_COLUMN]) for row in rows]),
                        np.array([number(row[Y_COLUMN]) for row in rows]))


            x, y = read_columns(DATA_FILE)
            if len(x) != POINTS:
                sys.exit(f"{{DATA_FILE}} has {{len(x)}} rows; this script was made for {{POINTS}}")
            x, y = x.astype(DTYPE), y.astype(DTYPE)
            {zeros}
            ''', file=repr(source.file), delimiter=repr(layout.delimiter), header=layout.header,
                     comma=layout.decimal_comma, x_column=layout.x_column, y_column=layout.y_column,
                     x_name=layout.x_name, y_name=layout.y_name, zeros=zeros)
    else:
        data = _code("""
            X = [
                {x}
            ]
            Y = [
                {y}
            ]
            x, y = np.array(X).astype(DTYPE), np.array(Y).astype(DTYPE)
            {zeros}
            """, x=_wrapped_floats(np.asarray(source.x), 4), y=_wrapped_floats(np.asarray(source.y), 4),
                     zeros=zeros)
    if source.standardise:
        mu, sigma = standardisation(source)
        where = "of x spread uniformly over [X_MIN, X_MAX]" if source.kind == "function" \
            else "of the file's x column"
        data += "\n" + _code("""
            # Standardised x: the model's input is z = (x - MU) / SIGMA, MU and SIGMA the mean and
            # standard deviation {where}. From here on x holds z, and w0, w1, ...
            # are the coefficients of its powers.
            MU, SIGMA = {mu}, {sigma}
            x = (x - MU) / SIGMA
            """, where=where, mu=repr(mu), sigma=repr(sigma))
    return data


DATA: Mapping[str, Callable[[_Spec], str]] = {
    "quadratic-bias": _quadratic_bias_data,
    "linear-2x": _linear_data,
    "quadratic-recovery": _recovery_data,
    "sine-cubic": _sine_data,
    CUSTOM_ID: _custom_data,
}


# --- what the notebook printed, and fitcore's stopping rules ------------------------------------------

def _printing(spec: _Spec) -> str:
    header = "# --- what the notebook printed, and fitcore's rules"
    parts = [PRINTERS[spec.problem.id](spec), _learning_rate(spec), _why_stop(spec)]
    return header + "\n" + "\n\n\n".join(part.strip("\n") for part in parts if part.strip())


def _quadratic_bias_printer(spec: _Spec) -> str:
    return _code('''
        def print_progress(step: int, loss: float, theta: np.ndarray) -> None:
            """The notebook's line every 200 steps (seed 000)."""
            print(f"Step {{step}}, Loss: {{loss:.4f}}, Bias: {{theta[0]:.4f}}")


        def print_final(theta: np.ndarray) -> None:
            print(f"Training complete, fitted bias ≈ {{theta[0]:.4f}}, true bias = 5.0")
        ''')


def _linear_printer(spec: _Spec) -> str:
    mse = "loss / POINTS  # the notebook printed the mean even where it summed" \
        if spec.config.reduction == "sum" else "loss"
    start = _code('''
        def print_start(theta: np.ndarray) -> None:
            print(f"Prediction before training: f(5) = {{5 * theta[0]:.3f}}")
        ''') + "\n\n" if spec.variant.prints_intro else ""
    return start + _code('''
        def print_progress(step: int, loss: float, theta: np.ndarray) -> None:
            """The notebook's epoch line (seed 001): w after the step, the loss before it."""
            mse = {mse}
            print(f"Epoch {{step + 1}}: w = {{theta[0]:.3f}}, loss = {{mse:.8f}}")


        def print_final(theta: np.ndarray) -> None:
            print(f"Prediction after training: f(5) = {{5 * theta[0]:.3f}}")
        ''', mse=mse)


def _recovery_printer(spec: _Spec) -> str:
    backward = "MeanBackward0" if spec.config.reduction == "mean" else "SumBackward0"
    start = _code('''
        def print_start(theta: np.ndarray) -> None:
            """The notebook's `loss` and `params.grad` before its first step (seed 002)."""
            xs, ys = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
            features = np.stack([xs**2, xs, np.ones_like(xs)], axis=1)
            residual = features @ theta - ys
            print(f"tensor({{SCALE * (residual @ residual):.4f}}, grad_fn=<{backward}>)")
            print("tensor([" + ", ".join(f"{{g:.4f}}" for g in 2 * SCALE * (features.T @ residual)) + "])")
        ''', backward=backward) + "\n\n" if spec.variant.prints_intro and spec.variant.intro is not None else ""
    return start + _code('''
        def tensor_text(theta: np.ndarray) -> str:
            """θ as the notebook's print(params) showed it: tensor([...], requires_grad=True)."""
            cells = [f"{{v:.4f}}" for v in theta]
            width = max(len(cell) for cell in cells)
            return "tensor([" + ", ".join(cell.rjust(width) for cell in cells) + "], requires_grad=True)"


        def print_progress(step: int, loss: float, theta: np.ndarray) -> None:
            """The notebook's print(loss.item(), params): a float32 loss and θ after the step (seed 002)."""
            print(float(np.float32(loss)), tensor_text(theta))


        def print_final(theta: np.ndarray) -> None:
            """The notebook plots d̂ = a and ê = −b/2a here; it prints nothing more."""
        ''')


def _sine_printer(spec: _Spec) -> str:
    intro = spec.variant.cell.intro if spec.variant.intro is not None and spec.variant.cell is not None else ()
    start = ""
    if intro and intro[0].startswith("a = "):
        start = _code('''
            def print_start(theta: np.ndarray) -> None:
                """Seed 004's print of its random start."""
                a, b, c, d = theta.tolist()
                print(f"a = {{a!r}}, b = {{b!r}}, c = {{c!r}}, d = {{d!r}}")
            ''') + "\n\n"
    elif intro:
        start = _code('''
            def print_start(theta: np.ndarray) -> None:
                """Seed 003's PyTorch cell names its device first."""
                print("Using cpu device")
            ''') + "\n\n"
    return start + _code('''
        def print_progress(step: int, loss: float, theta: np.ndarray) -> None:
            """The notebook's print(t, loss) (seeds 003 and 004)."""
            print(step, loss)


        def print_final(theta: np.ndarray) -> None:
            a, b, c, d = theta.tolist()
            print(f"Result: y = {{a!r}} + {{b!r}} x + {{c!r}} x^2 + {{d!r}} x^3")
        ''')


def _custom_printer(spec: _Spec) -> str:
    return _code('''
        def print_progress(step: int, loss: float, theta: np.ndarray) -> None:
            """fitcore's progress line for your own data: the loss before the step."""
            print(f"step {{step:>7}}  loss {{loss:.6g}}")


        def print_final(theta: np.ndarray) -> None:
            print("Result: w = [" + ", ".join(f"{{float(v):.6g}}" for v in theta) + "]")
        ''')


PRINTERS: Mapping[str, Callable[[_Spec], str]] = {
    "quadratic-bias": _quadratic_bias_printer,
    "linear-2x": _linear_printer,
    "quadratic-recovery": _recovery_printer,
    "sine-cubic": _sine_printer,
    CUSTOM_ID: _custom_printer,
}


def _learning_rate(spec: _Spec) -> str:
    s = spec.config.schedule
    if not spec.scheduled or spec.style in ("torch-nn", "tf-tape"):
        return ""  # constant, or the framework's own scheduler does it
    formula, doc = {
        "step": ("LEARNING_RATE * np.power(GAMMA, np.floor(step / STEP_SIZE))",
                 "Step decay: × GAMMA every STEP_SIZE steps."),
        "exponential": ("LEARNING_RATE * np.power(GAMMA, float(step))", "Exponential decay: × GAMMA every step."),
        "cosine": ("LR_MIN + (LEARNING_RATE - LR_MIN) * (1 + np.cos(math.pi * progress)) / 2",
                   "Cosine from LEARNING_RATE down to LR_MIN over the STEPS steps."),
    }[s.kind]
    # NumPy's power and cos, as fitcore's Schedule evaluates them: Python's ** may differ in the last bit.
    return _code('''
        def learning_rate(step: int) -> float:
            """{doc}"""
            {progress}
            return float({formula})
        ''', doc=doc, formula=formula,
                 progress="progress = min(step, STEPS) / STEPS" if s.kind == "cosine" else "")


def _why_stop(spec: _Spec) -> str:
    stop = spec.config.stop
    rules = ['if not math.isfinite(loss) or loss > DIVERGED_ABOVE:', '    return "diverged"']
    memory = ""
    if stop.loss_below is not None:
        rules += ["if loss <= LOSS_BELOW:", '    return "loss_below"']
    if stop.plateau_tol is not None:
        memory = "recent_losses: list[float] = []  # the last PLATEAU_WINDOW losses\n\n\n"
        rules += [
            "before = recent_losses[0] if len(recent_losses) == PLATEAU_WINDOW else None",
            "recent_losses.append(loss)",
            "del recent_losses[:-PLATEAU_WINDOW]",
            "if before is not None and abs(loss - before) <= PLATEAU_TOL * abs(before):",
            '    return "plateau"',
        ]
    rules.append("return None")
    return memory + _code('''
        def why_stop(step: int, loss: float) -> str | None:
            """fitcore's rules, on the loss before each update: why the run ends here, or None."""
            {rules}
        ''', rules=_indent(rules, 4))


# --- the shared loops ---------------------------------------------------------------------------------

def _eager_loop(spec: _Spec, *, forward: str, update: str, parameters: str, final_forward: str | None = None) -> str:
    """The notebooks' loop: forward, fitcore's stopping rules, update, print. ``final_forward``
    computes the loss at the final θ (the forward pass unless given)."""
    lr_line = "lr = learning_rate(step)" if spec.scheduled and spec.style not in ("torch-nn", "tf-tape") else ""
    return _code('''
        def parameters() -> np.ndarray:
            """θ as float64, in the order {names}."""
            return {parameters}


        {start}
        ending, previous = None, None
        for step in range(STEPS):
            {lr_line}
            {forward}
            loss_value = {as_float}
            ending = why_stop(step, loss_value)
            if ending:
                break
            previous = loss_value, parameters()  # reported instead if the next step diverges
            {update}
            if step % LOG_EVERY == LOG_PHASE:
                print_progress(step, loss_value, parameters())

        if ending == "diverged":
            final_loss, final_theta = previous or (loss_value, parameters())
        elif ending:
            final_loss, final_theta = loss_value, parameters()  # stopped before this step's update
        else:  # the loss at the final θ
            {final_forward}
            final_loss, final_theta = {as_float}, parameters()
        ''', names=", ".join(spec.names), parameters=parameters, start=_start_line(spec), lr_line=lr_line,
                 # .item(), not float(): torch warns when float() meets a tensor that requires grad
                 as_float="loss.item()" if spec.framework == "torch" else "float(loss)",
                 forward=_indent(forward, 4), update=_indent(update, 4),
                 final_forward=_indent(final_forward or forward, 4))


def _start_line(spec: _Spec) -> str:
    printed = spec.variant.prints_intro and (spec.problem.id == "linear-2x" or spec.variant.intro is not None)
    return "print_start(np.asarray(theta0, dtype=np.float64))" if printed else ""


def _chunked_loop(spec: _Spec, *, chunk: str, call: str, parameters: str, final_forward: str) -> str:
    """Compiled styles run a chunk of steps per call; the rules then walk its recorded losses."""
    return _code('''
        def parameters() -> np.ndarray:
            """θ as float64, in the order {names}."""
            return {parameters}


        {start}
        step, ending, previous = 0, None, None
        while step < STEPS and not ending:
            count = min({chunk}, STEPS - step)
            lrs = np.zeros({chunk})  # this chunk's learning rates; the unused tail stays 0
            lrs[:count] = {lrs}
            {call}
            for i in range(count):  # trail[i] is θ after i steps of this chunk
                loss_value = float(losses[i])
                ending = why_stop(step, loss_value)
                if ending:
                    break
                previous = loss_value, trail[i]
                if step % LOG_EVERY == LOG_PHASE:
                    print_progress(step, loss_value, trail[i + 1])
                step += 1

        if ending == "diverged":
            final_loss, final_theta = previous or (loss_value, trail[i])
        elif ending:
            final_loss, final_theta = loss_value, trail[i]  # stopped before this step's update
        else:  # the loss at the final θ, evaluated eagerly
            {final_forward}
            final_loss, final_theta = float(loss), parameters()
        ''', names=", ".join(spec.names), parameters=parameters, start=_start_line(spec), chunk=chunk,
                 lrs=_chunk_lrs(spec), call=_indent(call, 4), final_forward=_indent(final_forward, 4))


def _chunk_lrs(spec: _Spec) -> str:
    return "[learning_rate(t) for t in range(step, step + count)]" if spec.scheduled else "LEARNING_RATE"


def _report(spec: _Spec) -> str:
    return _code('''
        if not ending:  # fitcore applies its rules to the loss after the last update too
            step, ending = STEPS, why_stop(STEPS, final_loss)
            if ending == "diverged":
                final_loss, final_theta = previous
        if ending:
            print(f"stopped at step {{step}}: {{ending}}", file=sys.stderr)
        if ending != "diverged":
            print_final(final_theta)
        print(f"FINAL loss={{final_loss!r}} params=[{{', '.join(repr(float(v)) for v in final_theta)}}]")
        ''')


# --- optimizer updates written out (fitcore.optim.update, operation for operation) ------------------

def _slot_zeros(spec: _Spec, zeros_like: str) -> str:
    names = SLOTS[spec.config.optimizer]
    if not names:
        return ""
    zeros = ", ".join(f"{zeros_like}(theta)" for _ in names)
    return f"# the optimizer's state starts at zero\n{', '.join(names)} = {zeros}"


def _update_lines(optimizer: str, *, lr: str, t: str, sqrt: str, new: str = "") -> tuple[list[str], str]:
    """The slot updates, then Δ for θ ← θ − Δ. ``new`` prefixes the names of the updated slots."""
    if optimizer == "sgd":
        return [], f"{lr} * grad"
    if optimizer == "momentum":
        return [f"{new}velocity = MOMENTUM * velocity + grad  # torch's buffer: v ← μv + g"], f"{lr} * {new}velocity"
    if optimizer == "rmsprop":
        return ([f"{new}square_avg = ALPHA * square_avg + (1 - ALPHA) * grad * grad"],
                f"{lr} * grad / ({sqrt}({new}square_avg) + EPS)")
    return ([f"{new}exp_avg = exp_avg + (1 - BETA1) * (grad - exp_avg)  # torch's lerp toward g",
             f"{new}exp_avg_sq = BETA2 * exp_avg_sq + (1 - BETA2) * grad * grad",
             f"correction1 = 1 - BETA1 ** ({t} + 1)  # bias corrections for the zero start",
             f"correction2 = 1 - BETA2 ** ({t} + 1)",
             f"denom = {sqrt}({new}exp_avg_sq) / correction2**0.5 + EPS"],
            f"({lr} / correction1) * {new}exp_avg / denom")


def _update(spec: _Spec, *, sqrt: str, lr: str | None = None, t: str = "step", in_place: bool = False) -> str:
    slots, delta = _update_lines(spec.config.optimizer, lr=lr or spec.lr, t=t, sqrt=sqrt)
    return "\n".join(slots + [f"theta -= {delta}" if in_place else f"theta = theta - {delta}"])


def _features(spec: _Spec, codes: list[str], ns: str = "np") -> str:
    return ", ".join(spec.column(code, ns) for code in codes)


# --- NumPy ---------------------------------------------------------------------------------------

def _numpy_theta() -> str:
    # fitcore.impl.numpy_manual keeps θ in float64, like the notebooks' Python-float parameters
    # (w = 0.0): the forward pass and the gradient run in the data's dtype, the update in float64.
    return "theta = theta0.astype(np.float64)  # θ is float64, like the notebook's Python floats"


def _numpy_slots(spec: _Spec) -> str:
    names = SLOTS[spec.config.optimizer]
    if not names:
        return ""
    zeros = ", ".join("np.zeros(theta.shape, DTYPE)" for _ in names)
    return f"# the optimizer's state starts at zero, in the data's dtype\n{', '.join(names)} = {zeros}"


def _numpy_style(spec: _Spec) -> _Style:
    reduce = "np.mean" if spec.config.reduction == "mean" else "np.sum"
    columns = _features(spec, [f.code for f in spec.problem.features])
    model = _code("""
        # --- model: the forward formula, and its gradient written beside it
        features = np.stack([{columns}], axis=1)  # Φ: column i is ∂ŷ/∂θᵢ = φᵢ(x)
        {theta}
        {slots}
        """, columns=columns, theta=_numpy_theta(), slots=_numpy_slots(spec))
    forward = _code("""
        {unpack}  # the forward pass in the data's dtype
        y_pred = {formula}
        residual = y_pred - y
        loss = {reduce}(residual**2)
        """, unpack=spec.unpack("theta.astype(DTYPE)"), formula=spec.problem.formula_code, reduce=reduce)
    update = _code("""
        # ∂loss/∂θᵢ = SCALE·Σ 2r·φᵢ(x), the chain rule through r², summed feature by feature as seed 004 does
        doubled = 2 * residual
        grad = SCALE * np.array([(doubled * column).sum() for column in features.T], dtype=DTYPE)
        {update}
        """, update=_update(spec, sqrt="np.sqrt"))
    return _Style((), model, _eager_loop(spec, forward=forward, update=update, parameters="theta.astype(np.float64)"))


def _gram_style(spec: _Spec) -> _Style:
    columns = _features(spec, [f.code for f in spec.problem.features])
    offset = f" - {spec.problem.offset.code}" if spec.problem.offset is not None else ""
    model = _code("""
        # --- model: the compiled path precomputes the Gram matrix
        # The loss is quadratic in θ, so ΦᵀΦ, Φᵀ(y − offset) and ‖y − offset‖² are all a step needs,
        # and a step costs the same whatever the number of points.
        features = np.stack([{columns}], axis=1)  # Φ: column i is ∂ŷ/∂θᵢ = φᵢ(x)
        phi, target = features.astype(np.float64), (y{offset}).astype(np.float64)
        gram, moment, target_sq = phi.T @ phi, phi.T @ target, float(target @ target)
        {theta}
        {slots}


        def quadratic(theta: np.ndarray) -> tuple[float, np.ndarray]:
            \"\"\"SCALE·‖Φθ − target‖² and its gradient 2·SCALE·(ΦᵀΦθ − Φᵀtarget), float64.\"\"\"
            theta = theta.astype(np.float64)
            gram_theta = gram @ theta
            loss = SCALE * (theta @ gram_theta - 2 * theta @ moment + target_sq)
            return loss, 2 * SCALE * (gram_theta - moment)
        """, columns=columns, offset=offset, theta=_numpy_theta(), slots=_numpy_slots(spec))
    update = _code("""
        grad = grad.astype(DTYPE)  # the gradient in the data's dtype, as the eager loop's
        {update}
        """, update=_update(spec, sqrt="np.sqrt"))
    loop = _eager_loop(spec, forward="loss, grad = quadratic(theta)", update=update,
                       parameters="theta.astype(np.float64)")
    return _Style((), model, loop)


def _analytic_style(spec: _Spec) -> _Style:
    c = spec.config
    columns = _features(spec, [f.code for f in spec.problem.features])
    offset = f" - ({spec.problem.offset.code}).astype(np.float64)" if spec.problem.offset is not None else ""
    constant_sgd = c.optimizer == "sgd" and not spec.scheduled
    model = _code("""
        # --- model: the closed form
        # loss(θ) = SCALE·‖Φθ − target‖² is quadratic: its Hessian H = 2·SCALE·ΦᵀΦ = V·diag(λ)·Vᵀ
        # is constant, so in the coordinates e = Vᵀ(θ − θ*) gradient descent moves each
        # eigen-direction on its own. All float64; Φ is built in the run's dtype, like the data.
        phi = np.stack([{columns}], axis=1).astype(np.float64)
        target = y.astype(np.float64){offset}
        optimum, *_ = np.linalg.lstsq(phi, target, rcond=None)  # θ*: the least-squares optimum
        residual = phi @ optimum - target
        optimum_loss = float(SCALE * residual @ residual)
        eigvals, eigvecs = np.linalg.eigh(2.0 * SCALE * (phi.T @ phi))
        eigvals = np.clip(eigvals, 0.0, None)  # ΦᵀΦ is positive semi-definite: clip round-off below 0
        error0 = (theta0.astype(np.float64) - optimum) @ eigvecs
        error = error0.copy()
        {state}
        """, columns=columns, offset=offset,
                  state="decay = 1 - LEARNING_RATE * eigvals  # each direction's factor per step" if constant_sgd
                  else "velocity = np.zeros_like(error)" if c.optimizer == "momentum" else "")
    forward = "loss = optimum_loss + 0.5 * np.sum(eigvals * error**2)  # loss* + ½·Σ λᵢ·eᵢ²"
    if constant_sgd:
        update = "error = decay ** (step + 1) * error0  # eᵢ(t) = (1 − ηλᵢ)ᵗ·eᵢ(0), at any t at once"
    elif c.optimizer == "sgd":
        update = "error = (1 - lr * eigvals) * error  # eᵢ ← (1 − ηₜλᵢ)·eᵢ"
    else:
        update = _code("""
            velocity = MOMENTUM * velocity + eigvals * error  # torch's buffer v ← μv + g, and g = λ·e here
            error = error - LEARNING_RATE * velocity
            """)
    return _Style((), model, _eager_loop(spec, forward=forward, update=update,
                                         parameters="optimum + error @ eigvecs.T"))


# --- PyTorch ---------------------------------------------------------------------------------------

def _device_line(spec: _Spec) -> str:
    """Where the script computes: the notebooks' accelerator line for ``auto``, else the device named."""
    if spec.config.device == "auto":
        return NOTEBOOK_LINE + "  # seeds 003/004"
    return f'device = "{spec.config.device}"'


def _torch_tensors(spec: _Spec, with_device: bool = True) -> str:
    """The data as tensors on the device: NumPy's arrays carry over value for value."""
    device = _device_line(spec) + "\n" if with_device else ""
    if spec.torch_data:
        return device + "x, y, theta0 = x.to(device), y.to(device), theta0.to(device)"
    return device + _code("""
        x = torch.tensor(x, device=device)  # the same values, as tensors on the device
        y = torch.tensor(y, device=device)
        theta0 = torch.tensor(theta0, device=device)
        """)


def _torch_forward(spec: _Spec) -> str:
    reduce = "mean" if spec.config.reduction == "mean" else "sum"
    return _code("""
        {unpack}
        y_pred = {formula}
        loss = (y_pred - y).pow(2).{reduce}()
        """, unpack=spec.unpack("theta"), formula=spec.problem.formula_code, reduce=reduce)


def _manual_gradient(spec: _Spec, scale: str) -> str:
    sums = [("grad_y_pred" if f.code == "1" else f"(grad_y_pred * {f.code})") + ".sum()"
            for f in spec.problem.features]
    return _code("""
        grad_y_pred = 2.0 * {scale} * (y_pred - y)  # ∂loss/∂ŷ
        # the chain rule: ∂loss/∂θᵢ = Σ ∂loss/∂ŷ · φᵢ(x)
        {stack}
        """, scale=scale, stack=_wrap("grad = torch.stack([", sums, "])"))


def _torch_manual_style(spec: _Spec) -> _Style:
    model = _code("""
        # --- model: tensors, the gradient still written by hand
        {tensors}
        theta = theta0.clone()
        {slots}
        """, tensors=_torch_tensors(spec), slots=_slot_zeros(spec, "torch.zeros_like"))
    update = _manual_gradient(spec, "SCALE") + _update(spec, sqrt="torch.sqrt")
    loop = _eager_loop(spec, forward=_torch_forward(spec), update=update,
                       parameters="theta.double().cpu().numpy().copy()")
    return _Style(("import torch",), model, loop)


def _torch_autograd_style(spec: _Spec) -> _Style:
    model = _code("""
        # --- model: autograd computes the gradient
        {tensors}
        theta = theta0.clone().requires_grad_()
        {slots}
        """, tensors=_torch_tensors(spec), slots=_slot_zeros(spec, "torch.zeros_like"))
    update = _code("""
        loss.backward()  # ∂loss/∂θ into theta.grad
        with torch.no_grad():  # the update itself is not part of the model
            grad = theta.grad
            {update}
        theta.grad = None
        """, update=_indent(_update(spec, sqrt="torch.sqrt", in_place=True), 4))
    loop = _eager_loop(spec, forward=_torch_forward(spec), update=update,
                       parameters="theta.detach().double().cpu().numpy().copy()")
    return _Style(("import torch",), model, loop)


def _torch_optimizer(optimizer: str) -> str:
    return {
        "sgd": "torch.optim.SGD({params}, lr=LEARNING_RATE)",
        "momentum": f"torch.optim.SGD({{params}}, lr=LEARNING_RATE, momentum={MOMENTUM!r})",
        "rmsprop": f"torch.optim.RMSprop({{params}}, lr=LEARNING_RATE, alpha={RMS_ALPHA!r}, eps={EPS!r})",
        "adam": f"torch.optim.Adam({{params}}, lr=LEARNING_RATE, betas={ADAM_BETAS!r}, eps={EPS!r})",
    }[optimizer]


def _torch_scheduler(spec: _Spec) -> str:
    return {
        "constant": "",
        "step": "scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=STEP_SIZE, gamma=GAMMA)",
        "exponential": "scheduler = torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=GAMMA)",
        "cosine": "scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=STEPS, eta_min=LR_MIN)",
    }[spec.config.schedule.kind]


def _torch_nn_style(spec: _Spec) -> _Style:
    p, c = spec.problem, spec.config
    weights = [i for i, f in enumerate(p.features) if not f.is_constant]
    bias = next((i for i, f in enumerate(p.features) if f.is_constant), None)
    loss_fn = f'loss_fn = torch.nn.MSELoss(reduction="{c.reduction}")'
    if not weights:
        # Only a bias to learn (seed 000's PyTorch notebook): a bare tensor, as the notebook had it.
        model = _code("""
            # --- model: one trainable tensor, nn.MSELoss and torch.optim
            {tensors}
            bias = theta0[{bias}].clone().requires_grad_()
            {loss_fn}
            optimizer = {optimizer}
            {scheduler}
            """, tensors=_torch_tensors(spec), bias=bias, loss_fn=loss_fn,
                      optimizer=_torch_optimizer(c.optimizer).format(params="[bias]"),
                      scheduler=_torch_scheduler(spec))
        forward = f"y_pred = {p.formula_code}\nloss = loss_fn(y_pred, y)"
        parameters = "np.array([bias.item()])"
    else:
        model = _nn_linear_model(spec, weights, bias, loss_fn)
        forward = "y_pred = model(inputs)" + (f" + {p.offset.code}" if p.offset is not None else "") \
            + "\nloss = loss_fn(y_pred, y)"
        parameters = _nn_parameters(spec, weights, bias)
    update = "optimizer.zero_grad()\nloss.backward()\noptimizer.step()" \
        + ("\nscheduler.step()" if spec.scheduled else "")
    return _Style(("import torch",), model, _eager_loop(spec, forward=forward, update=update, parameters=parameters))


def _nn_linear_model(spec: _Spec, weights: list[int], bias: int | None, loss_fn: str) -> str:
    p, c = spec.problem, spec.config
    codes = [p.features[i].code for i in weights]
    # Stacked as rows and transposed: the column-major layout of fitcore's Φ[:, weights], so that
    # nn.Linear's matrix product adds in the same order. NumPy builds them, as fitcore builds Φ.
    if spec.torch_data:
        inputs = f"torch.stack([{_features(spec, codes, 'torch')}]).T.to(device)"
    else:
        inputs = f"torch.tensor(np.stack([{_features(spec, codes)}]).T, device=device)"
    bias_copy = f"\n    linear.bias.copy_(theta0[[{bias}]])" if bias is not None else ""
    return _code("""
        # --- model: nn.Linear over the features, nn.MSELoss and torch.optim
        {device}
        inputs = {inputs}  # the layer's inputs, one column per weight
        {tensors}
        linear = torch.nn.Linear({n_in}, 1{bias_arg})
        model = torch.nn.Sequential(linear, torch.nn.Flatten(0, 1)).to(device, torch.{dtype})
        with torch.no_grad():  # start from θ₀ rather than the layer's random initialisation
            linear.weight.copy_(theta0[{weights}].reshape(1, -1)){bias_copy}
        {loss_fn}
        optimizer = {optimizer}
        {scheduler}
        """, inputs=inputs, device=_device_line(spec), tensors=_torch_tensors(spec, with_device=False),
                 n_in=len(weights),
                 bias_arg="" if bias is not None else ", bias=False", dtype=c.dtype, weights=weights,
                 bias_copy=bias_copy, loss_fn=loss_fn,
                 optimizer=_torch_optimizer(c.optimizer).format(params="model.parameters()"),
                 scheduler=_torch_scheduler(spec))


def _nn_parameters(spec: _Spec, weights: list[int], bias: int | None) -> str:
    """θ in the problem's order: the constant feature's parameter is the bias, the rest the weights."""
    order = ["bias" if i == bias else "weight" for i in range(spec.problem.n_params)]
    parts, i = [], 0
    while i < len(order):
        if order[i] == "bias":
            parts.append("linear.bias.item()")
            i += 1
        else:
            parts.append("*linear.weight[0].tolist()")
            i += order[i:].count("weight")  # the weights sit together in every demo
    return f"np.array([{', '.join(parts)}])"


def _torch_compiled_style(spec: _Spec) -> _Style:
    c = spec.config
    kind = c.impl.removeprefix("torch-")
    names = SLOTS[c.optimizer]
    adam = c.optimizer == "adam"
    slots, delta = _update_lines(c.optimizer, lr="lrs[i]", t="(t0 + i)", sqrt="torch.sqrt", new="new_")
    step_lines = ["grad, loss = gradient(theta, x, y, scale)"] + slots + [
        f"new_theta = theta - {delta}",
        "active = count > i  # steps past `count` leave θ and the state as they were",
        "theta = torch.where(active, new_theta, theta)",
    ] + [f"{n} = torch.where(active, new_{n}, {n})" for n in names] + [
        "losses.append(loss)",
        "trail.append(theta)",
    ]
    state = "".join(f"{n}, " for n in names)
    t0 = ", t0" if adam else ""
    model = _code('''
        # --- model: torch.compile over {unroll} steps per call
        # One compiled step still pays ~20 µs of Python and dispatch per call, so a call unrolls
        # UNROLL steps; {how}
        UNROLL = {unroll}
        {tensors}
        theta = theta0.clone()
        scale = torch.tensor(SCALE, dtype=theta.dtype, device=device)
        {slots}


        {gradient}


        @torch.compile(fullgraph=True, dynamic=False{mode})
        def train_chunk(theta, {state}x, y, scale, lrs{t0}, count):
            """UNROLL updates; returns θ, the optimizer's state, the losses and θ after each step."""
            losses, trail = [], [theta]
            for i in range(UNROLL):
                {step}
            return theta, {state}torch.stack(losses), torch.stack(trail)
        ''', unroll=TORCH_UNROLL, how=_compiled_how(kind), tensors=_torch_tensors(spec),
                  slots=_slot_zeros(spec, "torch.zeros_like"), gradient=_compiled_gradient(spec, kind),
                  state=state, t0=t0, step=_indent(step_lines, 8),
                  mode="" if c.device == "cpu" else ', mode="reduce-overhead" if device == "cuda" else "default"')
    arguments = ["theta", *names, "x", "y", "scale", "torch.tensor(lrs, dtype=theta.dtype, device=device)",
                 *(["torch.tensor(float(step), dtype=theta.dtype, device=device)"] if adam else []),
                 "torch.tensor(count, device=device)"]
    call = _wrap(f"theta, {state}losses, trail = train_chunk(", arguments) \
        + "\nlosses, trail = losses.double().cpu().numpy(), trail.double().cpu().numpy()"
    if c.device != "cpu":  # a CUDA graph's outputs live in memory its next replay reuses: keep copies
        copies = ", ".join(f"{n}.clone()" for n in ("theta", *names))
        call = ("if device == \"cuda\":\n    torch.compiler.cudagraph_mark_step_begin()\n" + call
                + f"\nif device == \"cuda\":\n    {', '.join(('theta', *names))} = {copies}")
    imports = ("import torch",) + (("import torch.nn.functional as F",) if kind == "nn" else ()) \
        + (("from torch.func import grad_and_value",) if kind != "manual" else ())
    loop = _chunked_loop(spec, chunk="UNROLL", call=call, parameters="theta.double().cpu().numpy().copy()",
                         final_forward="loss = gradient(theta, x, y, scale)[1]")
    return _Style(imports, model, loop)


def _compiled_how(kind: str) -> str:
    if kind == "manual":
        return "the gradient is the hand-written one."
    return "backward() would break the graph, so torch.func.grad_and_value takes the gradient."


def _compiled_gradient(spec: _Spec, kind: str) -> str:
    p = spec.problem
    reduce = "mean" if spec.config.reduction == "mean" else "sum"
    if kind == "manual":
        return _code('''
            def gradient(theta, x, y, scale):
                """(∂loss/∂θ, loss), the gradient written by hand."""
                {unpack}
                y_pred = {formula}
                {grad}
                return grad, (y_pred - y).pow(2).{reduce}()
            ''', unpack=spec.unpack("theta"), formula=p.formula_code,
                     grad=_indent(_manual_gradient(spec, "scale"), 4), reduce=reduce)
    if kind == "autograd":
        body = _code("""
            {unpack}
            y_pred = {formula}
            return (y_pred - y).pow(2).{reduce}()
            """, unpack=spec.unpack("theta"), formula=p.formula_code, reduce=reduce)
        doc = "The loss as a function of θ, so torch.func can differentiate it."
    else:
        weights = [i for i, f in enumerate(p.features) if not f.is_constant]
        bias = [i for i, f in enumerate(p.features) if f.is_constant]
        codes = [p.features[i].code for i in weights]
        inputs = f"torch.stack([{_features(spec, codes, 'torch')}], dim=1)" if weights \
            else "x.new_zeros((x.shape[0], 0))  # no weights: the layer is its bias alone"
        offset = f" + {p.offset.code}" if p.offset is not None else ""
        body = _code("""
            inputs = {inputs}
            y_pred = F.linear(inputs, theta[{weights}].reshape(1, -1), {bias}).flatten(){offset}
            return F.mse_loss(y_pred, y, reduction="{reduce}")
            """, inputs=inputs, weights=weights, bias=f"theta[{bias}]" if bias else "None", offset=offset,
                     reduce=reduce)
        doc = "nn.Linear and nn.MSELoss as a function of θ, so torch.func can differentiate them."
    return _code('''
        def loss_of(theta, x, y):
            """{doc}"""
            {body}


        def gradient(theta, x, y, scale):
            """(∂loss/∂θ, loss); scale is unused here (the manual style's gradient takes it)."""
            return grad_and_value(loss_of)(theta, x, y)
        ''', doc=doc, body=_indent(body, 4))


# --- TensorFlow -----------------------------------------------------------------------------------

def _tf_forward(spec: _Spec, theta: str = "theta") -> str:
    reduce = "tf.reduce_mean" if spec.config.reduction == "mean" else "tf.reduce_sum"
    return _code("""
        {unpack}
        y_pred = {formula}
        loss = {reduce}((y - y_pred) ** 2)
        """, unpack=spec.unpack(f"tf.unstack({theta})"), formula=spec.problem.formula_code, reduce=reduce)


def _keras_number(spec: _Spec, value: str) -> str:
    """A hyperparameter as fitcore.impl.tf_tape hands it to Keras: np.float64 in float64 runs."""
    return f"np.float64({value})" if spec.config.dtype == "float64" else value


def _keras_optimizer(spec: _Spec) -> str:
    h = functools.partial(_keras_number, spec)
    if spec.scheduled:
        lr = "schedule"
    elif spec.config.dtype == "float64":
        lr = "lambda: tf.constant(LEARNING_RATE, tf.float64)"
    else:
        lr = "LEARNING_RATE"
    name, extra = {
        "sgd": ("SGD", []),
        "momentum": ("SGD", [f"momentum={h(repr(MOMENTUM))}"]),
        # Keras adds ε under the square root: ε² there is within 1e-8 of torch's ε outside it.
        "rmsprop": ("RMSprop", [f"rho={h(repr(RMS_ALPHA))}", f"epsilon={h(repr(EPS**2))}"]),
        "adam": ("Adam", [f"beta_1={h(repr(ADAM_BETAS[0]))}", f"beta_2={h(repr(ADAM_BETAS[1]))}",
                          f"epsilon={h(repr(EPS))}"]),
    }[spec.config.optimizer]
    return _wrap(f"optimizer = keras.optimizers.{name}(", [f"learning_rate={lr}", *extra])


def _keras_schedule(spec: _Spec) -> str:
    h = functools.partial(_keras_number, spec)
    lr = h("LEARNING_RATE")
    kind = spec.config.schedule.kind
    if kind == "constant":
        return ""
    name, args = {
        "step": ("ExponentialDecay", [lr, "STEP_SIZE", h("GAMMA"), "staircase=True"]),
        "exponential": ("ExponentialDecay", [lr, "1", h("GAMMA")]),
        "cosine": ("CosineDecay", [lr, "STEPS", f"alpha={h(f'LR_MIN / {lr}')}"]),
    }[kind]
    return _wrap(f"schedule = keras.optimizers.schedules.{name}(", args)


def _keras_note(spec: _Spec) -> str:
    if spec.config.dtype != "float64":
        return ""
    return ("# Keras keeps a Python-float learning rate in a float32 variable and turns Python-float\n"
            "# hyperparameters into float32 tensors: a float64 run hands it float64 values instead.")


def _tf_tape_style(spec: _Spec) -> _Style:
    model = _code("""
        # --- model: a tf.Variable, GradientTape and a Keras optimizer
        x, y = tf.constant(x), tf.constant(y)
        theta = tf.Variable(theta0)
        {note}
        {schedule}
        {optimizer}
        """, note=_keras_note(spec), schedule=_keras_schedule(spec), optimizer=_keras_optimizer(spec))
    forward = "with tf.GradientTape() as tape:\n" + textwrap.indent(_tf_forward(spec).strip("\n"), "    ")
    update = "grads = tape.gradient(loss, [theta])\noptimizer.apply_gradients(zip(grads, [theta]))"
    loop = _eager_loop(spec, forward=forward, update=update, parameters="theta.numpy().astype(np.float64)",
                       final_forward=_tf_forward(spec))
    return _Style(("import keras", "import tensorflow as tf"), model, loop)


def _tf_xla_style(spec: _Spec) -> _Style:
    names = SLOTS[spec.config.optimizer]
    state = "".join(f"{n}, " for n in names)
    slots, delta = _update_lines(spec.config.optimizer, lr="lrs[i]", t="step", sqrt="tf.sqrt")
    body = ["with tf.GradientTape() as tape:", "    tape.watch(theta)"] \
        + ["    " + line for line in _tf_forward(spec).strip("\n").splitlines()] \
        + ["grad = tape.gradient(loss, theta)"] \
        + (["step = t0 + tf.cast(i, theta.dtype)  # for Adam's bias corrections"] if "adam" == spec.config.optimizer
           else []) + slots \
        + [f"theta = theta - {delta}",
           f"return i + 1, theta, {state}losses.write(i, loss), trail.write(i + 1, theta)"]
    model = _code('''
        # --- model: XLA, a whole chunk of steps in one compiled while loop
        # Keras optimizers keep Python-side state that cannot live inside the loop, so the update is
        # written out; buffers have a fixed CAPACITY so XLA compiles once.
        CAPACITY = {capacity}
        x, y = tf.constant(x), tf.constant(y)
        theta = tf.constant(theta0)
        {slots}


        @tf.function(jit_compile=True, reduce_retracing=True)
        def train_chunk(theta, {state}x, y, lrs, t0, count):
            """count ≤ CAPACITY updates: θ, the optimizer's state, the losses and θ after each step."""
            losses = tf.TensorArray(theta.dtype, size=CAPACITY)
            trail = tf.TensorArray(theta.dtype, size=CAPACITY + 1).write(0, theta)

            def body(i, theta, {state}losses, trail):
                {body}

            _, theta, {state}losses, trail = tf.while_loop(
                lambda i, *_: i < count, body, (tf.constant(0), theta, {state}losses, trail),
                maximum_iterations=CAPACITY)
            return theta, {state}losses.stack(), trail.stack()
        ''', capacity=XLA_CAPACITY, slots=_slot_zeros(spec, "tf.zeros_like"), state=state,
                  body=_indent(body, 8))
    arguments = ["theta", *names, "x", "y", "tf.constant(lrs, DTYPE)", "tf.constant(float(step), DTYPE)",
                 "tf.constant(count)"]
    call = _wrap(f"theta, {state}losses, trail = train_chunk(", arguments) \
        + "\nlosses, trail = losses.numpy().astype(np.float64), trail.numpy().astype(np.float64)"
    loop = _chunked_loop(spec, chunk="CAPACITY", call=call, parameters="theta.numpy().astype(np.float64)",
                         final_forward=_tf_forward(spec))
    return _Style(("import tensorflow as tf",), model, loop)


STYLES: Mapping[str, Callable[[_Spec], _Style]] = {
    "numpy": _numpy_style,
    "numpy-gram": _gram_style,
    "analytic": _analytic_style,
    "torch-manual": _torch_manual_style,
    "torch-autograd": _torch_autograd_style,
    "torch-nn": _torch_nn_style,
    "torch-compiled": _torch_compiled_style,
    "tf-tape": _tf_tape_style,
    "tf-xla": _tf_xla_style,
}
