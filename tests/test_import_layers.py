"""The package's layers hold: no module in fitcore/ or ui/ imports, directly or through others, one that imports
it back — counting every import statement, lazy and type-checking ones too, since each is a dependency a reader
must follow."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("fitcore", "ui")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path, known: set[str]) -> set[str]:
    """The project modules one file imports (``from a.b import c`` counts ``a.b.c`` when that is a module,
    else ``a.b``)."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            named = [f"{base}.{alias.name}" for alias in node.names]
            # ``from package import module`` depends on the module; the package counts only for names it defines
            targets = named + ([base] if any(target not in known for target in named) else [])
        else:
            continue
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def import_graph() -> dict[str, set[str]]:
    files = [path for package in PACKAGES for path in (ROOT / package).rglob("*.py")]
    known = {module_name(path) for path in files}
    return {module_name(path): imported_modules(path, known) for path in files}


def circle_through(graph: dict[str, set[str]], start: str) -> list[str] | None:
    """A path start → … → start, if there is one (depth-first)."""
    stack, seen = [(start, [start])], set()
    while stack:
        node, path = stack.pop()
        for nxt in graph.get(node, ()):
            if nxt == start:
                return path + [start]
            if nxt not in seen:
                seen.add(nxt)
                stack.append((nxt, path + [nxt]))
    return None


def test_that_the_graph_sees_the_imports_it_should():
    graph = import_graph()
    assert "ui.page.context" in graph["ui.panels.lessons"]
    assert "ui.panels.compare" in graph["ui.page.assembly"]
    assert "fitcore.engine" in graph["fitcore"]


@pytest.mark.parametrize("module", sorted(import_graph()))
def test_that_no_module_imports_one_that_imports_it_back(module):
    circle = circle_through(import_graph(), module)
    assert circle is None, " → ".join(circle)


def test_that_fitcore_imports_nothing_from_ui():
    graph = import_graph()
    upward = {name: sorted(m for m in deps if m.startswith("ui")) for name, deps in graph.items()
              if name.startswith("fitcore")}
    assert not any(upward.values()), upward
