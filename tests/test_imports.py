"""The package's layers, read from its imports (every import, at module level or inside a function, but not those
under TYPE_CHECKING): the pure core imports nothing of the package's adapters, the ONNX and TensorRT adapters do
not import each other, `trt_network` takes only the core (plus Polygraphy and TensorRT), and no module reaches
back to itself through any chain of imports."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "polygraphy_deconv"


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """The package modules `path` imports, outside `if TYPE_CHECKING:` blocks."""
    tree = ast.parse(path.read_text())
    guarded = {
        id(inner)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
        for statement in node.body
        for inner in ast.walk(statement)
    }
    found = set()
    for node in ast.walk(tree):
        if id(node) in guarded:
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {name for name in found if name.startswith("polygraphy_deconv")}


def graph() -> dict[str, set[str]]:
    modules = {module_name(path): path for path in PACKAGE.rglob("*.py")}
    edges = {}
    for name, path in modules.items():
        # `from polygraphy_deconv.x import y` names module x.y where y is a module, else module x.
        edges[name] = {target for target in imports_of(path) if target in modules and target != name}
    return edges


def layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


# Leaf modules every layer may use: the version, the error type, the escaping of model strings (stdlib only).
SHARED = {"", "errors", "text"}


def top_level_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    names |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module and node.level == 0}
    return {name.split(".")[0] for name in names}


def test_core_imports_only_the_core_and_the_standard_library() -> None:
    for module, targets in graph().items():
        if layer(module) != "core":
            continue
        assert {layer(t) for t in targets} <= {"core"} | SHARED, (module, targets)
        path = PACKAGE / Path(*module.split(".")[1:]).with_suffix(".py")
        path = path if path.exists() else path.with_suffix("") / "__init__.py"
        assert top_level_imports(path) <= set(sys.stdlib_module_names) | {"__future__", "polygraphy_deconv"}, module


def test_adapters_do_not_import_each_other() -> None:
    for module, targets in graph().items():
        layers = {layer(t) for t in targets}
        if layer(module) == "onnx_model":
            assert "trt_network" not in layers, (module, targets)
        if layer(module) == "trt_network":
            assert layers <= {"core", "trt_network"} | SHARED, (module, targets)


def test_no_cycle() -> None:
    edges = graph()
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for target in sorted(edges[module]):
            if state.get(target) == 1:
                cycle = path[path.index(target):] + [target]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            if target not in state:
                visit(target, [*path, target])
        state[module] = 2

    for module in sorted(edges):
        if module not in state:
            visit(module, [module])


def test_the_check_sees_imports() -> None:
    """The graph is not empty by accident: the plugin's loader reaches the TensorRT adapter through its step."""
    edges = graph()
    assert "polygraphy_deconv.trt_network.patching" in edges["polygraphy_deconv.plugin.network_step"]
    assert "polygraphy_deconv.core.model" in edges["polygraphy_deconv.trt_network.comparison"]
