"""The table printed to the terminal and the BENCHMARKS.md written at the repository root."""
from __future__ import annotations

import os
import platform
import subprocess
import sys
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Sequence

from .stats import Section

REPO = Path(__file__).resolve().parent.parent


def load_average() -> tuple[float, float, float]:
    try:
        return os.getloadavg()
    except OSError:
        return (float("nan"),) * 3


@dataclass
class Machine:
    description: str
    load_before: tuple[float, float, float]
    load_after: tuple[float, float, float] | None = None


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _memory_gb() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                return f"{int(line.split()[1]) / 1024**2:.1f} GB RAM"
    except OSError:
        pass
    return "RAM unknown"


def _version(module: str) -> str:
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version(module)
    except PackageNotFoundError:
        return "not installed"


def _gpus() -> str:
    """The NVIDIA GPUs nvidia-smi lists (without importing PyTorch), or that there is none."""
    try:
        out = subprocess.run(["nvidia-smi", "--query-gpu=name,memory.total", "--format=csv,noheader"],
                             capture_output=True, text=True, timeout=30)
        names = [line.strip() for line in out.stdout.splitlines() if line.strip()]
    except (OSError, subprocess.SubprocessError):
        names = []
    return f"GPU: {'; '.join(names)} (used by the device group only)" if names else "no GPU"


def describe_machine() -> Machine:
    packages = ", ".join(f"{name} {_version(name)}" for name in
                         ("numpy", "torch", "tensorflow-cpu", "streamlit", "altair"))
    text = (f"{os.cpu_count()} CPU cores ({_cpu_model()}), {_memory_gb()}, {_gpus()}; "
            f"{platform.system()} {platform.release()}; Python {platform.python_version()}; {packages}")
    return Machine(text, load_average())


def _git_revision() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True,
                             timeout=10)
        dirty = subprocess.run(["git", "status", "--porcelain"], cwd=REPO, capture_output=True, text=True,
                               timeout=10).stdout.strip()
        return out.stdout.strip() + (" with uncommitted changes" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def terminal_table(sections: Sequence[Section]) -> str:
    rows = [(s.name, r.name, r.value, r.target, r.verdict) for s in sections for r in s.rows]
    header = ("group", "measurement", "median [min–max]", "target", "verdict")
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(5)]
    widths[1] = min(widths[1], 60)
    widths[2] = min(widths[2], 48)
    lines = ["  ".join(str(v)[:w].ljust(w) for v, w in zip(header, widths))]
    lines.append("  ".join("-" * w for w in widths))
    for row in rows:
        lines.append("  ".join(str(v)[:w].ljust(w) if i < 4 else str(v) for i, (v, w) in enumerate(zip(row, widths))))
    return "\n".join(lines)


def markdown(sections: Sequence[Section], machine: Machine, command: str, runs: int, elapsed: float) -> str:
    load = machine.load_before
    after = machine.load_after
    lines = [
        "# Benchmarks",
        "",
        f"Written by `{command}` on {datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC')} "
        f"(revision {_git_revision()}), in {elapsed:.0f} s.",
        "",
        f"- **Machine**: {machine.description}.",
        f"- **Load average** (1, 5, 15 min) before: {load[0]:.2f}, {load[1]:.2f}, {load[2]:.2f}"
        + (f"; after: {after[0]:.2f}, {after[1]:.2f}, {after[2]:.2f}" if after else "")
        + ". Other work shares these cores, so every figure is the median [min–max] of "
          f"{runs} or more runs, and every ratio is taken pair by pair within one repetition (the two sides "
          "run back to back, alternating which goes first), never as a ratio of medians.",
        "- Reproduce: `.venv/bin/python -m benchmarks` (all groups), `--only GROUP` for one, `--smoke` for "
        "tiny sizes (CI checks that it runs; its numbers mean nothing).",
        "",
        "## Summary",
        "",
        "| group | measurement | median [min–max] | target | verdict |",
        "|---|---|---|---|---|",
    ]
    for section in sections:
        for row in section.rows:
            verdict = f"**{row.verdict}**" if row.verdict else ""
            lines.append(f"| {section.name} | {_cell(row.name)} | {_cell(row.value)} | {_cell(row.target)} | "
                         f"{verdict} |")
    for section in sections:
        lines += ["", f"## {section.title}", ""]
        for note in section.notes:
            lines += [note, ""]
        detailed = [row for row in section.rows if row.note]
        if detailed:
            lines += ["| measurement | details |", "|---|---|"]
            lines += [f"| {_cell(row.name)} | {_cell(row.note)} |" for row in detailed]
    return "\n".join(lines).rstrip() + "\n"


def python_command(argv: Sequence[str]) -> str:
    exe = Path(sys.executable)
    try:
        shown = str(exe.relative_to(REPO))
    except ValueError:
        shown = ".venv/bin/python" if ".venv" in exe.parts else "python"
    return " ".join([shown, "-m", "benchmarks", *argv])


def _parts(text: str) -> tuple[list[str], list[str], dict[str, list[str]]]:
    """(lines before the summary table's rows, summary rows, section title -> its lines) of a report."""
    lines = text.rstrip("\n").split("\n")
    first_section = next((i for i, line in enumerate(lines) if line.startswith("## ") and line != "## Summary"),
                         len(lines))
    head = [line for line in lines[:first_section] if not line.startswith("| ") or line.startswith("| group |")]
    rows = [line for line in lines[:first_section] if line.startswith("| ") and not line.startswith("| group |")]
    sections: dict[str, list[str]] = {}
    title = ""
    for line in lines[first_section:]:
        if line.startswith("## "):
            title = line
        sections.setdefault(title, []).append(line)
    return [line for line in head if line != "|---|---|---|---|---|"], rows, sections


def merge_report(existing: str, fresh: str, groups: Sequence[str]) -> str:
    """``existing`` with the rows and sections of ``groups`` taken from ``fresh`` (a run of only those groups),
    and a line saying when they were measured; every other group's figures stay as they were."""
    head, rows, sections = _parts(existing)
    fresh_head, fresh_rows, fresh_sections = _parts(fresh)
    ours = tuple(f"| {name} |" for name in groups)
    rows = [row for row in rows if not row.startswith(ours)]
    by_group = {name: [row for row in fresh_rows if row.startswith(f"| {name} |")] for name in groups}
    merged_rows = []
    for row in rows:
        merged_rows.append(row)
    for name in groups:
        merged_rows += by_group[name]
    sections.update(fresh_sections)
    written = next((line for line in fresh_head if line.startswith("Written by")), "")
    load = next((line for line in fresh_head if line.startswith("- **Load average**")), "")
    note = (f"- **{', '.join(groups)}** rewritten since: " + written.replace("Written by ", "by ", 1)
            + " " + load.replace("- **Load average** ", "Load average ").split(". Other work")[0] + ".")
    summary = head.index("## Summary")
    head = [line for line in head[:summary] if not line.startswith(f"- **{', '.join(groups)}** rewritten")]
    while head and head[-1] == "":
        head.pop()
    lines = head + [note, "", "## Summary", "", "| group | measurement | median [min–max] | target | verdict |",
                    "|---|---|---|---|---|"] + merged_rows
    for body in sections.values():
        lines += [""] + [line for line in body]
    text = "\n".join(lines)
    while "\n\n\n" in text:
        text = text.replace("\n\n\n", "\n\n")
    return text.rstrip() + "\n"
