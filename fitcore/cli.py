"""``python -m fitcore``: list the demos, run one, or export it as a standalone script.

Every setting defaults to the notebook's (``RunConfig.notebook``). A bad command line of any kind
ends with exit code 2 and exactly one line on stderr saying what is wrong and what would work;
no input produces a traceback.
"""
from __future__ import annotations

import argparse
import io
import json
import math
import os
import sys
from typing import Any, NoReturn, Sequence

import numpy as np

from . import impl as implementations  # looked up at call time, so a missing framework can be faked
from .config import ConfigError, RunConfig, StopConditions
from .csvfile import check_size, read_csv
from .device import DEVICE_LABELS, DEVICES, device_status, resolve_device
from .custom import CUSTOM_ID, CustomSource, DataSourceError, csv_source, custom_problem, function_source
from .engine import Run, train
from .notebook_log import notebook_summary
from .export import export_script
from .optim import OPTIMIZER_LABELS, OPTIMIZERS, SCHEDULE_LABELS, SCHEDULES, Schedule
from .problems import DTYPES, PROBLEMS, REDUCTIONS, get_problem
from .settings import (FIELD, FIELDS, MAX_DEGREE, MIN_DEGREE, SCHEDULE_FIELDS, SOURCE_FIELDS, Field,
                       schedule_settings)
from .settings import flag as _flag

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
# The choices an option lists in --help (a demo's variants depend on the demo: checked after parsing).
CLI_CHOICES = {"impl": tuple(implementations.IMPLEMENTATIONS), "optimizer": tuple(OPTIMIZERS),
               "reduction": tuple(REDUCTIONS), "dtype": tuple(DTYPES), "device": tuple(DEVICES),
               "schedule": tuple(SCHEDULES)}
PROG = "python -m fitcore"
TEXT_METAVARS = {"expression": "EXPR", "file": "FILE"}   # a column is a NAME


class UsageError(Exception):
    """A bad command line; the message says what is wrong and what would work."""


class _Parser(argparse.ArgumentParser):
    """argparse, except that an error raises instead of printing usage and exiting."""

    def error(self, message: str) -> NoReturn:
        if message.endswith("expected one argument"):
            message += "; write a value that starts with '-' as --option=VALUE, e.g. --lr=-1"
        raise UsageError(f"{message} (`{self.prog} --help` lists the options)")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    try:
        args = _parser().parse_args(args_list)
        code = args.handler(args)
        sys.stdout.flush()  # a full disk or a closed pipe shows here, not at exit after the status is set
        return code
    except UsageError as error:
        return _fail(str(error))
    except SystemExit as done:  # --help printed its text
        return done.code if isinstance(done.code, int) else EXIT_OK
    except BrokenPipeError:  # stdout closed early (| head): nothing left to say
        _drop_stdout()
        return EXIT_OK
    except OSError as error:  # stdout cannot be written (> /dev/full); files read are checked where opened
        _drop_stdout()
        return _fail(f"could not write the output: {error.strerror or error}", EXIT_FAILED)
    except KeyboardInterrupt:
        return _fail("interrupted", EXIT_FAILED)
    except Exception as error:  # a bug, not bad input: still one line, never a traceback
        return _fail(f"internal error: {type(error).__name__}: {error}", EXIT_FAILED)


def _drop_stdout() -> None:
    """Point stdout at /dev/null, so the interpreter's flush at exit cannot fail a second time and print
    a traceback of its own (what the Python docs advise for SIGPIPE)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError, io.UnsupportedOperation):  # not a real file (tests)
        pass


def _fail(message: str, code: int = EXIT_USAGE) -> int:
    # One line whatever the input: every line break (\n, \r, \x85, \u2028, …) is whitespace to
    # split(), and unpaired surrogates from undecodable arguments are escaped.
    line = " ".join(f"fitcore: {message}".split())
    print(line.encode("utf-8", "backslashreplace").decode("utf-8"), file=sys.stderr)
    return code


# --- the parser --------------------------------------------------------------------------------

def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number such as 0.01, got {text!r}") from None


def _numbers(text: str) -> tuple[float, ...]:
    try:
        return tuple(float(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected numbers separated by commas such as 0.5,-2, got {text!r}") \
            from None


def _whole(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number such as 200, got {text!r}") from None


def _parser() -> _Parser:
    parser = _Parser(prog=PROG, allow_abbrev=False,
                     description="The four gradient-descent notebooks, and your own data, runnable from the "
                                 "command line.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="{list,run,export}",
                                     parser_class=_Parser)
    listing = commands.add_parser("list", allow_abbrev=False,
                                  help="demos and their notebook variants, implementations, optimizers, schedules")
    listing.set_defaults(handler=_list)
    run = commands.add_parser("run", allow_abbrev=False, help="train one demo and print what the notebook printed")
    _add_run_options(run)
    run.add_argument("--json", action="store_true", help="print the whole run as one JSON object instead")
    run.set_defaults(handler=_run)
    export = commands.add_parser("export", allow_abbrev=False,
                                 help="print a standalone script that reproduces the run")
    _add_run_options(export)
    export.set_defaults(handler=_export)
    return parser


def _add_run_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("demo", choices=[*PROBLEMS, CUSTOM_ID], metavar="DEMO",
                        help=", ".join(PROBLEMS) + f", or {CUSTOM_ID} (your own data: {_flag('expression')} or "
                             f"{_flag('file')})")
    for field in FIELDS:
        parser.add_argument(field.flag, dest=field.name, **_option(field))
    own = parser.add_argument_group(f"your own data ({CUSTOM_ID} only)")
    for field in SOURCE_FIELDS:
        if field.flag is not None:  # the source's kind is which of --function and --csv is given
            own.add_argument(field.flag, dest=field.name, **_option(field))


def _option(field: Field) -> dict[str, Any]:
    """argparse's keywords for one setting of ``fitcore.settings``: its type, choices and help."""
    if field.kind == "bool":
        return {"action": "store_true", "help": field.full_help}
    if field.kind == "choice":
        listed = CLI_CHOICES.get(field.name)
        if listed is None:  # a demo's notebook variants: checked once the demo is known
            return {"metavar": "KEY", "help": field.full_help}
        return {"choices": listed, "metavar": "NAME", "help": f"{field.full_help}: {', '.join(listed)}"}
    if field.kind == "optional-floats":
        return {"type": _numbers, "metavar": "F,F,…", "help": field.full_help}
    if field.kind == "text":
        return {"metavar": TEXT_METAVARS.get(field.name, "NAME"), "help": field.full_help}
    return {"type": _whole if field.whole else _number, "metavar": "N" if field.whole else "F", "help": field.full_help}


# --- from arguments to a RunConfig ----------------------------------------------------------------

RUN_FIELDS = tuple(f.name for f in FIELDS if f.part is None and f.name != "variant")


def config_from_args(args: argparse.Namespace) -> RunConfig:
    """The notebook's settings for the demo and variant, with every given option applied."""
    source = _custom_source(args)
    problem = custom_problem(source) if source is not None else get_problem(args.demo)
    variants = [v.key for v in problem.variants]
    if args.variant is not None and args.variant not in variants:
        raise UsageError(f"{problem.id} has no notebook variant {args.variant!r}; choose one of: "
                         f"{', '.join(variants)}")
    given = {name: getattr(args, name) for name in RUN_FIELDS}
    overrides: dict[str, Any] = {name: value for name, value in given.items() if value is not None and value is not False}
    schedule = _schedule(args)
    if schedule is not None:
        overrides["schedule"] = schedule
    stop = _stop(args)
    if stop is not None:
        overrides["stop"] = stop
    if source is not None:
        overrides["custom"] = source
    return RunConfig.notebook(problem.id, args.variant, **overrides)


SOURCE_OPTIONS = tuple(f.name for f in SOURCE_FIELDS if f.flag is not None)
KIND_OPTIONS = {"function": "expression", "csv": "file"}   # the option that chooses the source's kind
# The options each kind of source refuses: the other kind's own (a file also fixes its points and takes no noise).
ONLY_FOR = {kind: tuple(f.name for f in SOURCE_FIELDS if f.only == kind and f.name != option)
            for kind, option in KIND_OPTIONS.items()}
REFUSED_BY = {"function": ONLY_FOR["csv"], "csv": (*ONLY_FOR["function"], "points", "noise")}


def _given(args: argparse.Namespace, name: str) -> bool:
    value = getattr(args, name)
    return value is not None and value is not False


def _custom_source(args: argparse.Namespace) -> CustomSource | None:
    """--function or --csv, with the range, columns and degree, for ``run custom``; None for a demo."""
    if args.demo != CUSTOM_ID:
        given = [_flag(name) for name in SOURCE_OPTIONS if _given(args, name)]
        if given:
            raise UsageError(f"{given[0]} applies to {CUSTOM_ID} (your own data), not to the {args.demo} demo")
        return None
    function, csv = _flag(KIND_OPTIONS["function"]), _flag(KIND_OPTIONS["csv"])
    if _given(args, KIND_OPTIONS["function"]) == _given(args, KIND_OPTIONS["csv"]):
        raise UsageError(f"{CUSTOM_ID} needs one data source: {function} \"0.5*x**3 - sin(2*x)\" or {csv} FILE"
                         if not _given(args, KIND_OPTIONS["function"]) else f"give {function} or {csv}, not both")
    kind = "function" if _given(args, KIND_OPTIONS["function"]) else "csv"
    for name in REFUSED_BY[kind]:
        if _given(args, name):
            raise UsageError(f"{_flag(name)} applies to {csv if kind == 'function' else function} data, "
                             f"not to {_flag(KIND_OPTIONS[kind])}" + (" (a file fixes its points and takes no noise)"
                                                                      if name in ("points", "noise") else ""))
    defaults = CustomSource(kind)
    degree = args.degree if args.degree is not None else defaults.degree
    try:
        if kind == "function":
            return function_source(args.expression, args.x_min if args.x_min is not None else defaults.x_min,
                                   args.x_max if args.x_max is not None else defaults.x_max, degree,
                                   args.standardise)
        table = read_csv(_file_bytes(args.file), args.file)
        return csv_source(table, _column(table, args.x_column, _flag("x_column")),
                          _column(table, args.y_column, _flag("y_column")), degree, args.standardise)
    except DataSourceError as error:
        raise UsageError(str(error)) from None


def _file_bytes(path: str) -> bytes:
    try:
        with open(path, "rb") as file:
            check_size(os.fstat(file.fileno()).st_size, path)
            return file.read()
    except FileNotFoundError:
        raise UsageError(f"there is no file {path!r}") from None
    except IsADirectoryError:
        raise UsageError(f"{path!r} is a folder; give a CSV file") from None
    except OSError as error:
        raise UsageError(f"{path!r} cannot be read: {error.strerror or error}") from None


def _column(table: Any, wanted: str | None, flag: str) -> int | None:
    """A column by its header name (exactly, then ignoring case) or its number from 1."""
    if wanted is None:
        return None
    names = list(table.names)
    for candidates in (names, [n.lower() for n in names]):
        key = wanted if candidates is names else wanted.lower()
        if key in candidates:
            return candidates.index(key)
    text = wanted.strip()
    if text.isdigit() and 1 <= int(text) <= len(names):
        return int(text) - 1
    raise UsageError(f"{flag} {wanted!r} is not a column of {table.name}: give a name ({', '.join(names)}) or a "
                     f"number from 1 to {len(names)}")


def _schedule(args: argparse.Namespace) -> Schedule | None:
    kind = args.schedule or "constant"
    for name in SCHEDULE_FIELDS:   # the kind's own row names no schedules: it is never refused here
        kinds = FIELD[name].schedules
        if kinds and getattr(args, name) is not None and kind not in kinds:
            raise UsageError(f"{_flag(name)} applies to {_flag('schedule')} {' or '.join(kinds)}, not to the {kind} "
                             "schedule")
    if args.schedule is None:
        return None
    values = {name: getattr(args, name) for name in schedule_settings(kind) if getattr(args, name) is not None}
    return Schedule(kind, **values)


def _stop(args: argparse.Namespace) -> StopConditions | None:
    if args.plateau_window is not None and args.plateau_tol is None:
        window, tol = _flag("plateau_window"), _flag("plateau_tol")
        raise UsageError(f"{window} needs {tol} (e.g. {tol} 1e-6 {window} 100)")
    if args.loss_below is None and args.plateau_tol is None:
        return None
    values: dict[str, Any] = {"loss_below": args.loss_below, "plateau_tol": args.plateau_tol}
    if args.plateau_window is not None:
        values["plateau_window"] = args.plateau_window
    return StopConditions(**values)


def _checked_config(args: argparse.Namespace) -> RunConfig:
    try:
        return config_from_args(args)
    except (ConfigError, ValueError, KeyError) as error:
        # ConfigError names the setting and its range (a schedule's too); KeyError a choice.
        raise UsageError(error.args[0] if error.args else str(error)) from None


# --- the commands -----------------------------------------------------------------------------------

def _list(args: argparse.Namespace) -> int:
    print("\n".join(listing_lines()))
    return EXIT_OK


def listing_lines() -> list[str]:
    """What ``list`` prints: demos with their notebook variants, implementations, optimizers, schedules."""
    lines = [f"Demos ({PROG} run DEMO [{_flag('variant')} KEY]; * marks the default variant)"]
    for problem in PROBLEMS.values():
        lines.append(f"  {problem.id:<20}{problem.title}: {problem.formula_code}  "
                     f"({problem.default_points} points, noise {problem.default_noise:g})")
        for variant in problem.variants:
            mark = "*" if variant is problem.default_variant else " "
            s = variant.settings
            lines.append(f"    {mark} {variant.key:<21}{variant.label}: {s['impl']}, {s['optimizer']}, lr {s['lr']:g}, "
                         f"{s['steps']:,} steps, {s['reduction']}, {s['dtype']}")
    lines.append(f"  {CUSTOM_ID:<20}Your own data: a polynomial of degree {MIN_DEGREE} to {MAX_DEGREE} fitted to "
                 f"{_flag('expression')} EXPR (with {_flag('x_min')}, {_flag('x_max')}) or {_flag('file')} FILE")
    lines += ["", f"Implementations ({_flag('impl')})"]
    for impl in implementations.IMPLEMENTATIONS.values():
        state = "installed" if implementations.is_available(impl.id) else f"not installed: {impl.pip_command}"
        if state == "installed" and implementations.compiled_unavailable(impl.id) is not None:
            state += f"; no {_flag('compiled')} here: no working C++ compiler for torch.compile"
        lines.append(f"  {impl.id:<16}{impl.label}  [{state}]")
    lines += ["", f"Devices ({_flag('device')}; PyTorch implementations only)"]
    for device in DEVICES:
        status = device_status(device) if device not in ("auto",) else None
        state = "" if status is None else "  [available]" if status.available else f"  [not here: {status.reason}]"
        lines.append(f"  {device:<16}{DEVICE_LABELS[device]}{state}")
    lines += ["", f"Optimizers ({_flag('optimizer')})"]
    lines += [f"  {name:<16}{OPTIMIZER_LABELS[name]}" for name in OPTIMIZERS]
    lines += ["", f"Schedules ({_flag('schedule')})"]
    for kind in SCHEDULES:
        options = [f"{_flag(name)} {_option(FIELD[name])['metavar']}" for name in schedule_settings(kind)]
        lines.append(f"  {kind:<16}{SCHEDULE_LABELS[kind]}" + ("  " + " ".join(options) if options else ""))
    return lines


def _run(args: argparse.Namespace) -> int:
    config = _checked_config(args)
    if config.compiled and implementations.is_available(config.impl):
        device = resolve_device(config.device) if config.device != "cpu" else "cpu"
        reason = implementations.compiled_unavailable(config.impl, device)
        if reason is not None:
            compiled = _flag("compiled")
            raise UsageError(f"{compiled} with {config.impl}: {reason}; or drop {compiled} to run eagerly")
    try:
        run = train(config)
    except implementations.FrameworkMissing as error:
        raise UsageError(f"{error} (or pick {_flag('impl')} numpy)") from None
    except implementations.CompileFailed as error:
        return _fail(str(error), EXIT_FAILED)
    if args.json:
        print(json.dumps(json_ready(run.result()), allow_nan=False))
    else:
        print("\n".join(_summary_lines(run)))
    return EXIT_OK


def _export(args: argparse.Namespace) -> int:
    # The script is text: exporting needs no framework here, only where it will run.
    print(export_script(_checked_config(args)), end="")
    return EXIT_OK


def json_ready(value: Any) -> Any:
    """Plain JSON values: non-finite floats become null, NumPy scalars and tuples plain Python."""
    if isinstance(value, dict):
        return {str(key): json_ready(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_ready(item) for item in value]
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):
        return json_ready(value.tolist())  # NumPy arrays and scalars
    if isinstance(value, bool) or value is None or isinstance(value, (int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    return str(value)


def gap_text(loss: float, optimum: float, dtype: str) -> str:
    """How far the final loss is above the least-squares optimum. The optimum is the minimum, so a loss
    below it, or above it by a few units in the last place of the run's dtype, is rounding: "at the
    optimum" then, never a negative gap (linear-2x reaches 0 where the computed optimum is 7.3e-30)."""
    if not math.isfinite(loss):
        return "no gap: the loss is not a finite number"
    gap = loss - optimum
    if gap <= 8 * float(np.finfo(dtype).eps) * max(abs(loss), abs(optimum)):
        return "at the optimum, within rounding"
    return f"gap {gap:.3g}"


def _summary_lines(run: Run) -> list[str]:
    snap = run.snapshot()
    quad = run.quad
    names = run.problem.param_names
    params = ", ".join(f"{n} = {v:.6g}" for n, v in zip(names, snap.params))
    optimum = ", ".join(f"{n} = {v:.6g}" for n, v in zip(names, quad.optimum))
    rate = f"{snap.steps_per_second:,.0f} steps/s" if snap.steps_per_second else "no steps timed"
    compile_note = f", compiling took {snap.compile_seconds:.2f} s" if snap.compile_seconds >= 0.01 else ""
    return [line.text for line in run.log] + [
        "",
        f"status      {snap.status}" + (f" ({snap.reason})" if snap.reason else "") + f": {snap.message}",
        f"final loss  {snap.loss:.10g} at step {snap.step:,}; least-squares optimum {quad.optimum_loss:.10g} "
        f"({gap_text(snap.loss, quad.optimum_loss, run.config.dtype)})",
        f"parameters  {params}",
        f"optimum     {optimum}",
        f"time        {snap.elapsed:.3g} s, {rate}{compile_note}",
        f"notebook    {notebook_summary(run.config, run.variant, run.against_notebook())['verdict']}",
    ]

