"""The tree's limits (issue 9), checked on the source so a regression fails the suite.

No function over 100 lines, no module over 700, no click/tqdm or exit code constant in library
modules (only ``preflight/cli/`` and ``qa/cli.py`` map errors to exit codes), no private name
imported across modules, no import cycle among module-level imports.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("preflight", "qa")
MAX_FUNCTION_LINES = 100
MAX_MODULE_LINES = 700
C_EXTENSIONS = {"_ssimkernel", "_areakernel"}


def _modules() -> dict[str, Path]:
    out = {}
    for pkg in PACKAGES:
        for path in sorted((ROOT / pkg).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            out[name] = path
    return out


MODULES = _modules()
TREES = {name: ast.parse(path.read_text(encoding="utf-8")) for name, path in MODULES.items()}


def _is_cli(name: str) -> bool:
    return name.startswith("preflight.cli") or name == "qa.cli"


def _import_targets(name: str, node: ast.ImportFrom | ast.Import) -> list[tuple[str, str]]:
    """(module, imported name) pairs of one import statement, relative imports resolved."""
    if isinstance(node, ast.Import):
        return [(a.name, "") for a in node.names]
    package = name if MODULES[name].name == "__init__.py" else name.rpartition(".")[0]
    if node.level:
        base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
        module = ".".join([*base, *([node.module] if node.module else [])])
    else:
        module = node.module or ""
    return [(module, a.name) for a in node.names]


def test_the_checker_sees_the_packages() -> None:
    assert {"preflight.check.analyze", "qa.score", "preflight.cli.common"} <= MODULES.keys()


@pytest.mark.parametrize("name", sorted(MODULES))
def test_limits_of_one_module(name: str) -> None:
    lines = MODULES[name].read_text(encoding="utf-8").count("\n")
    assert lines <= MAX_MODULE_LINES, f"{name}: {lines} lines"
    for node in ast.walk(TREES[name]):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            length = node.end_lineno - node.lineno + 1
            assert length <= MAX_FUNCTION_LINES, f"{name}.{node.name}: {length} lines"
        if isinstance(node, ast.Import | ast.ImportFrom):
            for module, imported in _import_targets(name, node):
                top = module.partition(".")[0]
                if not _is_cli(name):
                    assert top not in ("click", "tqdm"), f"{name} imports {module}"
                    assert not imported.startswith("EXIT_"), f"{name} imports exit code {imported}"
                if top in PACKAGES and imported.startswith("_") and not imported.startswith("__"):
                    assert imported in C_EXTENSIONS, f"{name} imports private {module}.{imported}"


def test_no_import_cycle() -> None:
    """Module-level imports only (imports inside functions or under TYPE_CHECKING are lazy)."""
    graph: dict[str, set[str]] = {name: set() for name in MODULES}
    for name, tree in TREES.items():
        for node in tree.body:
            if not isinstance(node, ast.Import | ast.ImportFrom):
                continue
            for module, imported in _import_targets(name, node):
                for target in (module, f"{module}.{imported}"):
                    if target in MODULES and target != name:
                        graph[name].add(target)
    state: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycle = [*path[path.index(nxt):], nxt]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            if nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
