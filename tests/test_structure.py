"""The shape of the product code: no import cycles, one composition root that only the
entry points import, a short top level, and modules a reader can hold in their head."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("devexbot", "handlers", "correlation")
COMPOSITION_ROOT = "devexbot.wiring"
ENTRY_POINTS = {"devexbot.app", "devexbot.cli", "devexbot.__main__"}
MAX_LOOSE_MODULES = 8  # in devexbot/, besides __init__.py
MAX_LINES = 400


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue  # Alembic loads these by path; nothing imports them
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(tree: ast.AST, module: str, is_package: bool,
             modules: frozenset[str] = frozenset()) -> Iterator[str]:
    """Every module named by an import, at any depth, except under `if TYPE_CHECKING:`.

    `from package import submodule` names the submodule, not the package's face."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.orelse:
                yield from _imports(child, module, is_package, modules)
            continue
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = module.split(".") if is_package else module.split(".")[:-1]
                package = package[: len(package) - (node.level - 1)]
                base = ".".join([*package, *([base] if base else [])])
            names = [f"{base}.{alias.name}" for alias in node.names]
            submodules = [name for name in names if name in modules]
            yield from submodules
            if len(submodules) < len(names):
                yield base
        yield from _imports(node, module, is_package, modules)


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    known = frozenset(modules)
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(), str(path))
        named = _imports(tree, name, path.name == "__init__.py", known)
        graph[name] = {target for target in named if target in modules and target != name}
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycles_between_product_modules() -> None:
    assert _cycles(_graph()) == []


def test_the_cycle_finder_sees_a_cycle_hidden_in_a_function() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycles(graph) == [["a", "b", "c"]]
    tree = ast.parse("def f():\n    from devexbot import wiring\n"
                     "if TYPE_CHECKING:\n    from devexbot import app\n")
    known = frozenset({"devexbot", "devexbot.wiring", "devexbot.app"})
    assert set(_imports(tree, "devexbot.x", False, known)) == {"devexbot.wiring"}


def test_only_the_entry_points_import_the_composition_root() -> None:
    graph = _graph()
    assert COMPOSITION_ROOT in graph
    importers = {name for name, targets in graph.items() if COMPOSITION_ROOT in targets}
    assert importers <= ENTRY_POINTS


def test_only_the_composition_root_imports_its_own_parts() -> None:
    graph = _graph()
    parts = {name for name in graph if name.startswith(COMPOSITION_ROOT + ".")}
    importers = {name for name, targets in graph.items() if targets & parts}
    assert importers <= {COMPOSITION_ROOT, *parts}


def test_devexbot_keeps_few_loose_modules() -> None:
    loose = sorted(p.name for p in (ROOT / "devexbot").glob("*.py") if p.name != "__init__.py")
    assert len(loose) <= MAX_LOOSE_MODULES, loose


def test_no_product_module_is_over_400_lines() -> None:
    long = {name: n for name, path in _modules().items()
            if (n := len(path.read_text().splitlines())) > MAX_LINES}
    assert long == {}
