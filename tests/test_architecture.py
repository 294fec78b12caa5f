"""The package map stays a map: no import cycle between the packages of ``webapp``.

The graph is computed from the source: every ``import`` of ``webapp.X`` inside package ``Y`` is an edge Y → X,
function-local imports included (they are how cycles hide). Imports under ``if TYPE_CHECKING:`` are left out:
they exist for the type checker only. The assembly modules (``webapp/__init__.py``, ``models.py``, ``cli.py``)
import every package by design and are not packages themselves.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

WEBAPP = Path(__file__).resolve().parents[1] / "webapp"
ASSEMBLY = {"__init__", "models", "cli", "worker"}


def _package_of(path: Path) -> str:
    return path.relative_to(WEBAPP).parts[0].removesuffix(".py")


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skip.update(id(n) for stmt in node.body for n in ast.walk(stmt))
    return skip


def package_graph() -> dict[str, dict[str, set[str]]]:
    """{package: {imported package: {files that import it}}}."""
    graph: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for path in sorted(WEBAPP.rglob("*.py")):
        me = _package_of(path)
        if me in ASSEMBLY:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skip = _type_checking_nodes(tree)
        for node in ast.walk(tree):
            if id(node) in skip:
                continue
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = [f"{node.module}.{a.name}" if node.module == "webapp" else node.module for a in node.names]
            for target in targets:
                parts = target.split(".")
                if parts[0] == "webapp" and len(parts) > 1 and parts[1] not in ASSEMBLY and parts[1] != me:
                    graph[me][parts[1]].add(str(path.relative_to(WEBAPP.parent)))
    return graph


def find_cycles(graph: dict[str, dict[str, set[str]]]) -> list[list[str]]:
    """The strongly connected components of more than one package (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, {}):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_the_cycle_finder_finds_a_cycle():
    graph = {"a": {"b": {"a.py"}}, "b": {"c": {"b.py"}}, "c": {"a": {"c.py"}}, "d": {"a": {"d.py"}}}
    assert find_cycles(graph) == [["a", "b", "c"]]


def test_no_import_cycle_between_packages():
    graph = package_graph()
    assert graph, "the graph was computed from the source"
    cycles = find_cycles(graph)
    detail = []
    for component in cycles:
        for a in component:
            for b in component:
                if b in graph.get(a, {}):
                    detail.append(f"{a} → {b}: {', '.join(sorted(graph[a][b]))}")
    assert not cycles, "import cycles between packages:\n" + "\n".join(detail)
