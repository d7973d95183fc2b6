"""The package's import graph, read with ast: no circle between modules of src/insilico (imports
inside functions and under TYPE_CHECKING count too), no private name imported from another module,
and a branch imports another branch only where it analyses that branch's products (ALLOWED, the
same list as docs/architecture.md)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"
PACKAGE = SRC / "insilico"

# branch -> {branches it may import: why}. Everything else imports core/ and acquire/ only.
ALLOWED = {
    "mechanisms": {"retina": "dissects the retina CNNs (models, inference, the simulated circuit)"},
    "bottleneck": {"retina": "measures the simulated retina's ganglion cells as its reference"},
    "efficient_coding": {
        "retina": "codes the retina branch's natural movies and compares with its ganglion types"
    },
    "objectives": {
        "it": "trains the IT branch's CNN and scores it with the IT protocol (PLS, splits)",
        "geometry": "measures manifold capacity, radius and dimension with the geometry branch",
    },
    "learning_rules": {
        "it": "trains the IT branch's CNN on its task images and scores it with its V4/IT protocol"
    },
}
SHARED = {"core", "acquire"}  # below every branch


def module_name(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def imported(name: str, node: ast.AST) -> list[tuple[str, str | None]]:
    """(module, imported name or None) for each insilico import of one statement in module `name`."""
    package = name if MODULES[name].name == "__init__.py" else name.rpartition(".")[0]
    if isinstance(node, ast.Import):
        return [(alias.name, None) for alias in node.names if alias.name.startswith("insilico")]
    if not isinstance(node, ast.ImportFrom):
        return []
    base = node.module or ""
    if node.level:
        anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
        base = ".".join(anchor + ([base] if base else []))
    if not base.startswith("insilico"):
        return []
    return [
        (f"{base}.{alias.name}", None) if f"{base}.{alias.name}" in MODULES else (base, alias.name)
        for alias in node.names
    ]


def import_graph() -> dict[str, list[tuple[str, str | None]]]:
    graph = {}
    for name, path in MODULES.items():
        tree = ast.parse(path.read_text(), filename=str(path))
        graph[name] = [edge for node in ast.walk(tree) for edge in imported(name, node)]
    return graph


GRAPH = import_graph()


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected component with more than one module (Tarjan), as a sorted list."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in edges.get(node, ()):
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

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def module_edges(graph) -> dict[str, set[str]]:
    return {
        name: {target for target, _ in edges if target in MODULES} for name, edges in graph.items()
    }


def branch_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and (PACKAGE / parts[1]).is_dir() else None


def test_no_import_circle():
    assert cycles(module_edges(GRAPH)) == []


def test_no_private_name_from_another_module():
    private = [
        f"{name} imports {target}.{attr}"
        for name, edges in GRAPH.items()
        for target, attr in edges
        if attr and attr.startswith("_") and not attr.startswith("__") and target != name
    ]
    assert private == []


@pytest.mark.parametrize("branch", sorted({branch_of(name) for name in MODULES} - {None}))
def test_branch_imports_only_allowed_branches(branch):
    used = {
        branch_of(target)
        for name, edges in GRAPH.items()
        if branch_of(name) == branch
        for target, _ in edges
    }
    others = used - {branch, None} - SHARED - set(ALLOWED.get(branch, {}))
    assert not others, f"{branch} imports {sorted(others)}; allowed: {ALLOWED.get(branch, {})}"


def test_allowed_list_is_in_use():
    """An allowance nobody uses any more is removed, so the list stays the truth."""
    for branch, allowed in ALLOWED.items():
        used = {
            branch_of(t) for n, edges in GRAPH.items() if branch_of(n) == branch for t, _ in edges
        }
        assert set(allowed) <= used, f"{branch}: {sorted(set(allowed) - used)} unused"


def test_checks_catch_a_circle_and_an_unlisted_import():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []
    tree = ast.parse("from insilico.it.brain import _rng\nfrom . import plots\n")
    edges = [edge for node in ast.walk(tree) for edge in imported("insilico.retina.train", node)]
    assert ("insilico.it.brain", "_rng") in edges
    assert ("insilico.retina.plots", None) in edges
