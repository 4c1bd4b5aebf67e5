"""A run's printed lines against the notebook's, digit by digit.

Both sides print with the same format. A number agrees to d significant digits when their relative
difference is below 10⁻ᵈ (``61.3470`` against ``61.3567``: 1.6e-4, so 3); that many leading digits of the
notebook's number are marked as agreeing, the rest as differing. Text between numbers is compared with white space
folded, since the notebooks' scrape collapsed torch's column padding. Lines are paired by kind (before
the loop, in it, after it) and loop lines by the step they were printed at.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Sequence

from .notebook_prints import PrintedCell

NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")


@dataclass(frozen=True)
class Segment:
    """A piece of a printed line: plain text, or the digits of a number that agree or differ."""

    text: str
    kind: str  # "text", "agree" or "differ"


@dataclass(frozen=True)
class LineAgreement:
    printed: str
    ours: str | None                 # None: this run has not printed the line (yet)
    segments: tuple[Segment, ...]    # the printed line, marked
    digits: int | None               # significant digits of the worst number; None where every digit agrees

    @property
    def exact(self) -> bool:
        return self.ours is not None and self.digits is None


@dataclass(frozen=True)
class CellAgreement:
    cell: PrintedCell
    lines: tuple[LineAgreement, ...]
    verdict: str

    def as_dict(self) -> dict[str, object]:
        """The comparison as plain values (the CLI's --json)."""
        return {"seed_file": self.cell.seed_file, "cell": self.cell.title, "verdict": self.verdict,
                "lines": [{"notebook": line.printed, "run": line.ours, "every_digit": line.exact,
                           "digits": line.digits} for line in self.lines]}


@dataclass(frozen=True)
class PrintedLine:
    """One line a run printed, with its kind and, for loop lines, the step it was printed at."""

    kind: str  # "intro", "step" or "final"
    step: int
    text: str


def _agreeing_digits(printed: float, ours: float) -> int:
    """Significant digits to which ``ours`` matches ``printed``: −log₁₀ of their relative difference,
    rounded down (rounding both to d digits instead would call 12.845 and 12.850 two-digit neighbours)."""
    if printed == ours:
        return 17
    if printed == 0 or not math.isfinite(ours):
        return 0
    return max(0, min(17, math.floor(-math.log10(abs(printed - ours) / abs(printed)))))


def _split_after_significant(text: str, count: int) -> int:
    """The index in ``text`` just after its first ``count`` significant digits."""
    seen, started = 0, False
    for index, char in enumerate(text):
        if char.isdigit():
            started = started or char != "0"
            seen += started
            if seen == count:
                return index + 1
        elif char in "eE":
            break
    return len(text)


def _compare_number(printed: str, ours: str) -> tuple[list[Segment], int | None]:
    if printed == ours:
        return [Segment(printed, "agree")], None
    digits = _agreeing_digits(float(printed), float(ours))
    cut = _split_after_significant(printed, digits) if digits else 0
    agreed, rest = printed[:cut], printed[cut:]
    return ([Segment(agreed, "agree")] if agreed else []) + ([Segment(rest, "differ")] if rest else []), digits


def compare_line(printed: str, ours: str | None) -> LineAgreement:
    """Mark the printed line's numbers by how far this run's line agrees with them."""
    if ours is None:
        return LineAgreement(printed, None, (Segment(printed, "text"),), 0)
    printed_numbers, our_numbers = NUMBER.findall(printed), NUMBER.findall(ours)
    printed_text, our_text = NUMBER.split(printed), NUMBER.split(ours)
    same_shape = len(printed_numbers) == len(our_numbers) and \
        [" ".join(t.split()) for t in printed_text] == [" ".join(t.split()) for t in our_text]
    if not same_shape:
        return LineAgreement(printed, ours, (Segment(printed, "differ"),), 0)
    segments: list[Segment] = []
    worst: int | None = None
    for index, number in enumerate(printed_numbers):
        if printed_text[index]:
            segments.append(Segment(printed_text[index], "text"))
        marked, digits = _compare_number(number, our_numbers[index])
        segments.extend(marked)
        if digits is not None:
            worst = digits if worst is None else min(worst, digits)
    if printed_text[-1]:
        segments.append(Segment(printed_text[-1], "text"))
    return LineAgreement(printed, ours, tuple(segments), worst)


def pair_lines(cell: PrintedCell, printed_steps: Sequence[int], ours: Sequence[PrintedLine],
               final_due: bool) -> list[tuple[str, str | None]]:
    """(notebook line, this run's line or None) for every line the cell printed.

    ``printed_steps`` are the steps of the cell's loop lines; ``final_due`` says whether this run's
    closing lines correspond to the cell's (it ran the cell's number of steps).
    """
    intro = [line.text for line in ours if line.kind == "intro"]
    at_step = {line.step: line.text for line in ours if line.kind == "step"}
    final = [line.text for line in ours if line.kind == "final"] if final_due else []
    pairs = [(text, intro[i] if i < len(intro) else None) for i, text in enumerate(cell.intro)]
    pairs += [(text, at_step.get(step)) for text, step in zip(cell.loop, printed_steps)]
    pairs += [(text, final[i] if i < len(final) else None) for i, text in enumerate(cell.final)]
    return pairs


def agreement(cell: PrintedCell, printed_steps: Sequence[int], ours: Sequence[PrintedLine], total_steps: int,
              final_due: bool) -> CellAgreement:
    """Every line the cell printed, marked against this run's; lines printed after the steps this run
    takes (``total_steps``) are left unpaired and counted apart."""
    lines = tuple(compare_line(printed, mine) for printed, mine in pair_lines(cell, printed_steps, ours, final_due))
    beyond = sum(step >= total_steps for step in printed_steps) + (len(cell.final) if total_steps < cell.steps else 0)
    return CellAgreement(cell, lines, verdict(cell, lines, beyond))


def verdict(cell: PrintedCell, lines: Sequence[LineAgreement], beyond: int = 0) -> str:
    """One sentence: how many lines agree to every printed digit, and how far the others do."""
    reachable = len(lines) - beyond
    present = [line for line in lines if line.ours is not None]
    exact = sum(line.exact for line in present)
    worst = min((line.digits for line in present if line.digits is not None), default=None)
    why = f": {cell.limit}" if cell.limit and worst is not None else ""
    rest = f"; this run stops before the notebook's last {beyond} line{'s' if beyond != 1 else ''}" if beyond else ""
    if not present:
        return f"the notebook printed {len(lines)} lines; this run has printed none of them yet{rest}"
    so_far = "" if len(present) >= reachable else f" (so far {len(present)} of {reachable})"
    plural = "s" if worst != 1 else ""
    if exact == len(present):
        head = f"all {len(present)} lines agree to every printed digit" if not so_far else \
            f"every line so far agrees to every printed digit{so_far}"
    elif exact == 0:
        head = f"the lines agree to {worst} significant digit{plural}{so_far}"
    else:
        head = (f"{exact} of {len(present)} lines agree to every printed digit, the others to {worst} significant "
                f"digit{plural} or more{so_far}")
    return head + rest + why
