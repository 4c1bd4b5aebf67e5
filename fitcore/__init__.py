"""fitcore: the four teaching demos, your own data, six implementations that agree, and one training engine.

``import fitcore`` imports neither torch nor tensorflow: an implementation imports its framework
only when a run is built with it.
"""
from .analytic import AnalyticUnsupported, QuadraticLoss, exact_params, quadratic_loss
from .compare import Comparison, Plan, compare, plan_frameworks, plan_optimizers, plan_sweep
from .config import MAX_LR, MAX_STEPS, ConfigError, RunConfig, StopConditions
from .custom import (CUSTOM_ID, CsvError, CustomSource, DataSourceError, ParseError, csv_source, custom_problem,
                     function_source, parse_function, read_csv)
from .engine import Run, iterate, train
from .experiment import Experiment, experiment_of
from .history import HISTORY_CAP, History, record_steps
from .notebook_log import LogLine
from .readout import Snapshot
from .stopping import Limits
from .export import cli_arguments, export_script
from .impl import (FRAMEWORK_NAMES, IMPLEMENTATIONS, CompileFailed, CompilerMissing, FrameworkMissing, Implementation,
                   compiled_unavailable, framework_available, get_implementation, is_available, missing_message)
from .lessons import Lesson, lesson_config, lessons_for
from .optim import OPTIMIZER_LABELS, OPTIMIZERS, SCHEDULE_LABELS, SCHEDULES, Schedule
from .problems import DTYPES, PROBLEMS, REDUCTIONS, Dataset, PageHints, Problem, get_problem, make_dataset
from .workers import RemoteRun, WorkerError, WorkerPool, default_pool_size

__all__ = [
    "AnalyticUnsupported", "QuadraticLoss", "exact_params", "quadratic_loss",
    "Comparison", "Plan", "compare", "plan_frameworks", "plan_optimizers", "plan_sweep",
    "MAX_LR", "MAX_STEPS", "ConfigError", "RunConfig", "StopConditions",
    "CUSTOM_ID", "CsvError", "CustomSource", "DataSourceError", "ParseError", "csv_source", "custom_problem",
    "function_source", "parse_function", "read_csv",
    "HISTORY_CAP", "History", "Limits", "LogLine", "Run", "Snapshot", "iterate", "record_steps", "train",
    "Experiment", "experiment_of",
    "cli_arguments", "export_script",
    "FRAMEWORK_NAMES", "IMPLEMENTATIONS", "CompileFailed", "CompilerMissing", "FrameworkMissing", "Implementation",
    "compiled_unavailable", "framework_available",
    "get_implementation", "is_available", "missing_message",
    "Lesson", "lesson_config", "lessons_for",
    "OPTIMIZER_LABELS", "OPTIMIZERS", "SCHEDULE_LABELS", "SCHEDULES", "Schedule",
    "DTYPES", "PROBLEMS", "REDUCTIONS", "Dataset", "PageHints", "Problem", "get_problem", "make_dataset",
    "RemoteRun", "WorkerError", "WorkerPool", "default_pool_size",
]
