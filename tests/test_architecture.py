"""The package's layers: every import points down the list, and no module imports itself back.

ARCHITECTURE.md explains the layers. Function-level imports count too; imports under
`if TYPE_CHECKING:` do not (they never run).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "forecast"

# lowest first; a module may import from its own layer and the layers before it
LAYERS: list[tuple[str, ...]] = [
    ("forecast.errors", "forecast.timeaxis", "forecast.runs", "forecast.lazy", "forecast.safeio",
     "forecast.quiet"),
    ("forecast.data",),
    ("forecast.config",),
    ("forecast.core",),
    ("forecast.scenarios",),
    ("forecast.families",),
    ("forecast.fitting",),
    ("forecast.simulation", "forecast.ensemble", "forecast.checks", "forecast.outputs",
     "forecast.prior_dependence"),
    ("forecast.reporting",),
    ("forecast.evaluation",),
    ("forecast.workflows",),
    ("forecast.api",),
    ("forecast.cli",),
]


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer_of(module: str) -> int:
    for i, prefixes in enumerate(LAYERS):
        if any(module == p or module.startswith(p + ".") for p in prefixes):
            return i
    raise AssertionError(f"{module} is in no layer: add it to LAYERS and ARCHITECTURE.md")


def imports_of(path: Path) -> set[str]:
    """forecast.* modules imported by a file (skipping `if TYPE_CHECKING:` blocks)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            return
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("forecast"))
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("forecast"):
            found.add(node.module)
            # `from forecast.x import y` may import the submodule forecast.x.y
            for alias in node.names:
                candidate = f"{node.module}.{alias.name}"
                if (PACKAGE.parent / Path(*candidate.split("."))).with_suffix(".py").exists() or \
                        (PACKAGE.parent / Path(*candidate.split(".")) / "__init__.py").exists():
                    found.add(candidate)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def graph() -> dict[str, set[str]]:
    edges = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        name = module_name(path)
        if name == "forecast":       # the public API re-exports lazily; it is the top, not a layer
            continue
        edges[name] = {m for m in imports_of(path) if m != "forecast" and m != name}
    return edges


def test_every_import_points_down_the_layers():
    upward = [f"{src} (layer {layer_of(src)}) imports {dst} (layer {layer_of(dst)})"
              for src, targets in graph().items() for dst in targets if layer_of(dst) > layer_of(src)]
    assert not upward, "upward imports:\n" + "\n".join(sorted(upward))


def test_no_import_cycles():
    edges = graph()
    # a package's __init__ is imported by its submodules' imports; an edge to the package counts
    state: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def dfs(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                cycles.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                dfs(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            dfs(node)
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)


def test_the_checker_finds_an_upward_import_and_a_cycle(monkeypatch):
    """The two tests above can fail: a fake graph with one upward edge and one cycle."""
    fake = {"forecast.core.a": {"forecast.cli.b"}, "forecast.cli.b": {"forecast.core.a"}}
    monkeypatch.setattr(__import__(__name__, fromlist=["graph"]), "graph", lambda: fake)
    with pytest.raises(AssertionError, match="upward imports"):
        test_every_import_points_down_the_layers()
    with pytest.raises(AssertionError, match="import cycles"):
        test_no_import_cycles()


def test_no_code_outside_a_family_folder_names_a_family():
    """Family knowledge lives in its folder and the registry (no `== "latent_ar"` elsewhere)."""
    names = ("latent_ar", "hawkes", "hawkes_powerlaw")
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).as_posix()
        if rel.startswith("families/") or rel.startswith("cli/"):
            continue    # the registry and the families; the CLI's help texts name them
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Compare):
                consts = [c.value for c in ast.walk(node) if isinstance(c, ast.Constant)]
                if any(c in names for c in consts):
                    offenders.append(f"{rel}:{node.lineno}")
    assert not offenders, "branches on a family name: " + ", ".join(offenders)
