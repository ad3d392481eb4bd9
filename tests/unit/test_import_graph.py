"""The package's import graph, read with `ast`: no cycle, and no module importing another's private names.

Every import counts wherever it is written (module level, inside a function, under TYPE_CHECKING):
an import inside a function that closes a cycle still is one, only deferred. `from a import b`
is an edge to the module a.b when that is a module, to a otherwise; relative imports are resolved.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import dselab

PACKAGE_DIR = Path(dselab.__file__).resolve().parent


@dataclass(frozen=True)
class Import:
    source: str  # the importing module
    target: str  # the imported module
    name: str | None  # the name taken from it (`from target import name`), if any
    line: int


def module_names(package_dir: Path) -> dict[str, Path]:
    """Dotted module name -> file, for every module of the package (a package is its __init__.py)."""
    root = package_dir.name
    names = {}
    for path in sorted(package_dir.rglob("*.py")):
        parts = [root, *path.relative_to(package_dir).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        names[".".join(parts)] = path
    return names


def _base(module: str, path: Path, level: int) -> str:
    """The package a relative import of `level` dots in `module` starts from."""
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    return ".".join(package[: len(package) - (level - 1)])


def imports(module: str, path: Path, modules: dict[str, Path]) -> Iterator[Import]:
    """Every import of one module that names a module of the package."""
    root = next(iter(modules)).split(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in modules:
                    yield Import(module, alias.name, None, node.lineno)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = _base(module, path, node.level)
                target = f"{base}.{node.module}" if node.module else base
            else:
                target = node.module or ""
            if target.split(".")[0] != root:
                continue
            for alias in node.names:
                submodule = f"{target}.{alias.name}"
                if submodule in modules:
                    yield Import(module, submodule, None, node.lineno)
                else:
                    yield Import(module, target, alias.name, node.lineno)


def graph(package_dir: Path) -> tuple[dict[str, set[str]], list[Import]]:
    modules = module_names(package_dir)
    edges: dict[str, set[str]] = {name: set() for name in modules}
    found = []
    for name, path in modules.items():
        for imp in imports(name, path, modules):
            found.append(imp)
            if imp.target != name:
                edges[name].add(imp.target)
    return edges, found


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """One cycle (a -> b -> ... -> a) per strongly connected component of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(edges.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(component)

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return [_cycle_in(component, edges) for component in components]


def _cycle_in(component: set[str], edges: dict[str, set[str]]) -> list[str]:
    """A shortest path from the component's first module back to itself, inside the component."""
    start = min(component)
    paths = {start: [start]}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for nxt in sorted(edges[node] & component):
                if nxt == start:
                    return [*paths[node], start]
                if nxt not in paths:
                    paths[nxt] = [*paths[node], nxt]
                    following.append(nxt)
        frontier = following
    raise AssertionError(f"no cycle through {start}")  # a strongly connected component always has one


def private_imports(found: list[Import]) -> list[str]:
    return [f"{imp.source} (line {imp.line}): from {imp.target} import {imp.name}"
            for imp in found
            if imp.name and imp.name.startswith("_") and not imp.name.startswith("__") and imp.target != imp.source]


def test_the_package_has_no_import_cycle() -> None:
    edges, _ = graph(PACKAGE_DIR)
    assert len(edges) > 50  # the whole package was read
    found = cycles(edges)
    assert not found, "import cycles:\n" + "\n".join(" -> ".join(cycle) for cycle in found)


def test_no_module_imports_another_modules_private_names() -> None:
    _, found = graph(PACKAGE_DIR)
    problems = private_imports(found)
    assert not problems, "private names imported across modules:\n" + "\n".join(problems)


# -- the checker itself, on a made-up package -----------------------------------------------------


@pytest.fixture
def made_up(tmp_path: Path) -> Path:
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    files = {
        "__init__.py": "",
        "a.py": "from pkg import b\n",
        "b.py": "def later():\n    from .sub import c  # inside a function: still an edge\n",
        "sub/__init__.py": "from . import c as _c_module\n",
        "sub/c.py": "import pkg.a\nfrom ..d import _hidden, shown\nfrom .. import d\n",
        "d.py": "import os\n_hidden = shown = 1\n",
    }
    for name, text in files.items():
        (package / name).write_text(text)
    return package


def test_the_checker_finds_a_cycle_through_a_function_level_and_a_relative_import(made_up: Path) -> None:
    edges, _ = graph(made_up)
    assert edges["pkg.b"] == {"pkg.sub.c"} and edges["pkg.sub"] == {"pkg.sub.c"}
    assert edges["pkg.sub.c"] == {"pkg.a", "pkg.d"} and edges["pkg.d"] == set()
    assert cycles(edges) == [["pkg.a", "pkg.b", "pkg.sub.c", "pkg.a"]]


def test_the_checker_finds_a_private_import(made_up: Path) -> None:
    _, found = graph(made_up)
    assert private_imports(found) == ["pkg.sub.c (line 2): from pkg.d import _hidden"]
