"""The import structure that docs/architecture.md describes, checked on the source.

Layers: pdelang <- compiler <- runtime (a layer imports only layers to its left). No import
cycles, deferred imports included (imports under `if TYPE_CHECKING:` are annotations only
and do not count). A method's package never imports another method's package: runtime's fd,
odil and pinn are independent, and so are compiler's fd and pinn; compiler's odil is fd's
residual on the space-time grid and is the one package built on another (compiler.fd).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LAYERS = ("pdelang", "compiler", "runtime")
METHOD_PACKAGES = {
    "runtime": ("fd", "odil", "pinn"),
    "compiler": ("fd", "odil", "pinn"),
}
BUILT_ON = {("compiler.odil", "compiler.fd")}    # (importer, imported) allowed between methods
MOST_MODULES_PER_PACKAGE = 12


def _modules() -> dict[str, Path]:
    out = {}
    for layer in LAYERS:
        for path in sorted((ROOT / layer).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            out[name] = path
    return out


MODULES = _modules()


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _import_nodes(tree: ast.AST):
    """Every import statement, at any depth, except those under `if TYPE_CHECKING:`."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and _is_type_checking(node):
            yield from (n for child in node.orelse for n in _import_nodes_of(child))
            continue
        yield from _import_nodes_of(node)


def _import_nodes_of(node: ast.AST):
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        yield node
    else:
        yield from _import_nodes(node)


def _imports(name: str, path: Path) -> set[str]:
    """The modules of ours that module `name` imports."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in _import_nodes(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        else:
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            targets = [f"{source}.{alias.name}" if f"{source}.{alias.name}" in MODULES
                       else source for alias in node.names]
        found.update(t for t in targets if t in MODULES and t != name)
    return found


GRAPH = {name: _imports(name, path) for name, path in MODULES.items()}


def _layer(name: str) -> int:
    return LAYERS.index(name.split(".")[0])


def _method(name: str) -> str | None:
    parts = name.split(".")
    if len(parts) > 1 and parts[1] in METHOD_PACKAGES.get(parts[0], ()):
        return ".".join(parts[:2])
    return None


def test_the_modules_are_found():
    assert {"pdelang.ir", "compiler.fd.lower", "runtime.cli", "runtime.fd.forward"} <= set(MODULES)
    assert "compiler.common.stencils" in GRAPH["compiler.fd.ir"]        # ..common.stencils
    assert "pdelang.analysis" in GRAPH["pdelang.ir"]                       # deferred import


def test_layers_import_only_to_their_left():
    wrong = [(a, b) for a, targets in GRAPH.items() for b in targets if _layer(b) > _layer(a)]
    assert wrong == []


def test_no_method_package_imports_another():
    wrong = [(a, b) for a, targets in GRAPH.items() for b in targets
             if _method(a) and _method(b) and _method(a) != _method(b)
             and _method(a).split(".")[0] == _method(b).split(".")[0]
             and (_method(a), _method(b)) not in BUILT_ON]
    assert wrong == []


def test_no_import_cycles():
    """Tarjan's strongly connected components: every one a single module."""
    index, low, stack, on_stack, cycles = {}, {}, [], set(), []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in GRAPH[v]:
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
                cycles.append(sorted(component))

    for v in sorted(GRAPH):
        if v not in index:
            visit(v)
    assert cycles == []


@pytest.mark.parametrize("layer", ["compiler", "runtime"])
def test_packages_stay_small(layer):
    crowded = {}
    for folder in [ROOT / layer, *(p.parent for p in (ROOT / layer).rglob("*/__init__.py"))]:
        modules = [p for p in folder.glob("*.py") if p.name != "__init__.py"]
        if len(modules) > MOST_MODULES_PER_PACKAGE:
            crowded[str(folder.relative_to(ROOT))] = len(modules)
    assert crowded == {}
