"""The package's layers: every module sits on one, and imports only from its own layer or those below.

Read from the source (every `import`, at module level or inside a function), so a lazy import that runs back
up a layer fails here as surely as one at the top of the file.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import nba_failures

PACKAGE = Path(nba_failures.__file__).parent

# Bottom to top. A module belongs to the first layer naming it or a package above it.
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("contract", (
        "settings", "event_log", "instance", "instance_postgres", "names", "progress", "frames", "warehouse", "landing",
        "tables",
    )),
    ("failure core", ("failures", "identity")),
    ("processor-asset factory", ("partitions", "resources", "processing")),
    ("phases", ("raw", "analytics", "precompute", "predictions")),
    ("classification, sensors, automation, dashboard", ("classified", "sensors", "automation", "dashboard")),
    ("definitions", ("definitions",)),
    ("commands", ("backfill", "reporting", "catalog", "scenarios", "cli")),
)  # fmt: skip
FAILURE_CORE = dict(LAYERS)["failure core"]


def _only_a_docstring(path: Path) -> bool:
    return all(isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) for node in ast.parse(path.read_text()).body)


def _modules() -> dict[str, Path]:
    modules = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        if name and not _only_a_docstring(path):  # such an __init__ marks a folder, on no layer of its own
            modules[name] = path
    return modules


def _layer(module: str) -> int:
    for level, (_, members) in enumerate(LAYERS):
        if any(module == member or module.startswith(member + ".") for member in members):
            return level
    raise AssertionError(f"nba_failures.{module} is on no layer: add it to LAYERS")


def _imports(path: Path, modules: dict[str, Path]) -> set[str]:
    """The package modules `path` imports (a `from package import module` counts as the module)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("nba_failures"):
            base = node.module.removeprefix("nba_failures").lstrip(".")
            for alias in node.names:
                child = f"{base}.{alias.name}".lstrip(".")
                found.add(child if child in modules else base)
        elif isinstance(node, ast.Import):
            found |= {alias.name.removeprefix("nba_failures.") for alias in node.names if alias.name.startswith("nba_failures.")}
    return {name for name in found if name}


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(path, modules) - {name} for name, path in modules.items()}


def test_every_import_runs_down_the_layers():
    upward = [
        f"{module} ({LAYERS[_layer(module)][0]}) imports {imported} ({LAYERS[_layer(imported)][0]})"
        for module, imported_modules in _graph().items()
        for imported in sorted(imported_modules)
        if _layer(imported) > _layer(module)
    ]
    assert upward == []


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    cycles, state = [], {}

    def visit(module: str, path: list[str]) -> None:
        state[module] = "open"
        for imported in sorted(graph[module]):
            if state.get(imported) == "open":
                cycles.append(path[path.index(imported) :] + [imported])
            elif imported not in state:
                visit(imported, [*path, imported])
        state[module] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    return cycles


def test_no_import_cycles():
    assert _cycles(_graph()) == []


def test_no_import_cycles_between_folders():
    """Seen a folder (or top-level module) at a time, the package reads bottom to top too: no folder imports
    one that imports it back."""
    folders: dict[str, set[str]] = {}
    for module, imported in _graph().items():
        folder = module.split(".")[0]
        folders.setdefault(folder, set()).update(name.split(".")[0] for name in imported if name.split(".")[0] != folder)
    assert _cycles(folders) == []


def test_the_failure_core_knows_no_dagster():
    graph_of_core = {module: path for module, path in _modules().items() if _layer(module) == 1}
    assert {member for member in FAILURE_CORE for module in graph_of_core if f"{module}.".startswith(f"{member}.")} == set(
        FAILURE_CORE
    )
    using_dagster = sorted(
        module
        for module, path in graph_of_core.items()
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Import | ast.ImportFrom)
        and any(
            name.split(".")[0] == "dagster"
            for name in ([node.module or ""] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names])
        )
    )
    assert using_dagster == []


def test_loading_the_code_location_imports_no_model_cloud_or_data_library():
    """No model library at all (the ridge is NumPy; scikit-learn is only the tests' reference), the Google client only
    with the BigQuery backend, and no frame, array, warehouse or chart library: the steps that use them import them,
    not every process that loads the code location (webserver, daemon, each run)."""
    libraries = ("sklearn", "google.cloud", "pandas", "numpy", "pyarrow", "duckdb", "plotly")
    probe = f"import sys, nba_failures.definitions; print(sorted(m for m in sys.modules if m.startswith({libraries!r})))"
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.strip()
    assert loaded == "[]"
