"""fitcore: the four teaching demos, six implementations that agree, and one training engine.

``import fitcore`` imports neither torch nor tensorflow: an implementation imports its framework
only when a run is built with it.
"""
from .analytic import AnalyticUnsupported, QuadraticLoss, exact_params, quadratic_loss
from .config import MAX_LR, MAX_STEPS, ConfigError, RunConfig, StopConditions
from .engine import HISTORY_CAP, History, Limits, LogLine, Run, Snapshot, iterate, record_steps, train
from .impl import (FRAMEWORK_NAMES, IMPLEMENTATIONS, FrameworkMissing, Implementation, framework_available,
                   get_implementation, is_available, missing_message)
from .optim import OPTIMIZER_LABELS, OPTIMIZERS, SCHEDULE_LABELS, SCHEDULES, Schedule
from .problems import DTYPES, PROBLEMS, REDUCTIONS, Dataset, Problem, get_problem, make_dataset

__all__ = [
    "AnalyticUnsupported", "QuadraticLoss", "exact_params", "quadratic_loss",
    "MAX_LR", "MAX_STEPS", "ConfigError", "RunConfig", "StopConditions",
    "HISTORY_CAP", "History", "Limits", "LogLine", "Run", "Snapshot", "iterate", "record_steps", "train",
    "FRAMEWORK_NAMES", "IMPLEMENTATIONS", "FrameworkMissing", "Implementation", "framework_available",
    "get_implementation", "is_available", "missing_message",
    "OPTIMIZER_LABELS", "OPTIMIZERS", "SCHEDULE_LABELS", "SCHEDULES", "Schedule",
    "DTYPES", "PROBLEMS", "REDUCTIONS", "Dataset", "Problem", "get_problem", "make_dataset",
]
