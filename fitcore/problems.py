"""The registry of demos: every demo by its id, as ``fitcore.demos`` defines them.

The types a definition fills in live in ``fitcore.demo`` (re-exported here, where most modules look for
them); the registry is the one place that lists the demos, and everything that offers a choice of demo
(the pages, the CLI's ``--demo``, the speed page, lessons, export) reads it at the time it asks.
"""
from __future__ import annotations

from typing import Mapping

from .demo import (CONSTANT, DTYPES, REDUCTIONS, X, X2, X3, Dataset, Feature, FeaturesAt, Lesson, Model,  # noqa: F401
                   NotebookVariant, PageHints, Problem, Sample, ScriptParts, make_dataset)
from .demos import DEMOS

PROBLEMS: Mapping[str, Problem] = {problem.id: problem for problem in DEMOS}


def get_problem(problem_id: str) -> Problem:
    try:
        return PROBLEMS[problem_id]
    except KeyError:
        raise KeyError(f"unknown demo {problem_id!r}; choose one of {', '.join(PROBLEMS)}") from None
