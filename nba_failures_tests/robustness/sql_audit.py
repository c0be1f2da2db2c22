"""A static audit of the SQL the package sends: every string reaching `execute(`/`query(` may only be built
from constants and schema identifiers (`TableSpec`/`Column` attributes), never from a value.

How a SQL argument is judged, recursively:
- string/number constants, SQLAlchemy `text(...)` of an allowed argument (with `.bindparams(...)` or `.columns(...)`
  after it), and f-strings, `+` concatenations, `sep.join(...)`, conditional expressions and
  comprehensions whose every part is allowed;
- attributes that are identifiers of the schema (`IDENTIFIER_ATTRIBUTES`) and calls that render them
  (`IDENTIFIER_CALLS`);
- a local name, if every assignment to it in the function (including `+=` and `.append(...)`) is allowed,
  or it is unpacked from a call to a function of the same module whose returned list is allowed; a nested
  function's free name is judged in the function that encloses it;
- the index of an `enumerate(...)` loop (an int), and the parameters in `CONSTANT_PARAMETERS` (every call
  site must pass a constant: checked too).
Anything else — a loop variable over caller data, a parameter, `%` or `.format(...)` — is reported.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

SQL_METHODS = {"execute", "executemany", "query", "sql"}
# `catalog`: the name a DuckDB file is attached under in the process's instance (a counter's).
IDENTIFIER_ATTRIBUTES = {
    "name", "qualified_name", "dataset", "partition_column", "duckdb_type", "column_names", "project", "hex", "catalog",
}  # fmt: skip
# Calls whose result is an identifier: DDL from a TableSpec, a table's id, a random or hashed name suffix
# (`staging_prefix`: the table's name and a hex digest of the slice).
IDENTIFIER_CALLS = {"duckdb_ddl", "duckdb_definition", "_table_id", "uuid4", "staging_prefix"}
CONSTANT_PARAMETERS = {"alias"}


@dataclass(frozen=True)
class Finding:
    path: str
    line: int
    problem: str


class _Module:
    def __init__(self, path: str, source: str) -> None:
        self.path = path
        self.tree = ast.parse(source)
        self.functions = {
            node.name: node for node in ast.walk(self.tree) if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
        }
        self.parents: dict[ast.AST, ast.AST] = {}
        for parent in ast.walk(self.tree):
            for child in ast.iter_child_nodes(parent):
                self.parents[child] = parent

    def enclosing_function(self, node: ast.AST) -> ast.AST | None:
        while node in self.parents:
            node = self.parents[node]
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                return node
        return None


def audit_source(source: str, path: str = "<string>") -> list[Finding]:
    module = _Module(path, source)
    findings: list[Finding] = []
    for node in ast.walk(module.tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in SQL_METHODS and node.args:
            function = module.enclosing_function(node)
            for problem in _unsafe(module, function, node.args[0], set()):
                findings.append(Finding(path, node.lineno, problem))
        if isinstance(node, ast.Call):
            for keyword in node.keywords:
                if keyword.arg in CONSTANT_PARAMETERS and not isinstance(keyword.value, ast.Constant):
                    findings.append(
                        Finding(path, node.lineno, f"{keyword.arg}= must be a constant, got {ast.unparse(keyword.value)}")
                    )
    return findings


def audit_package(package_dir: Path) -> list[Finding]:
    findings: list[Finding] = []
    for path in sorted(package_dir.rglob("*.py")):
        findings += audit_source(path.read_text(), str(path.relative_to(package_dir.parent)))
    return findings


def sql_call_count(package_dir: Path) -> int:
    count = 0
    for path in package_dir.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in SQL_METHODS
                and node.args
            ):
                count += 1
    return count


def _unsafe(module: _Module, function: ast.AST | None, expr: ast.AST, seen: set) -> list[str]:
    """Why `expr` is not built only from constants and identifiers ([] when it is)."""
    match expr:
        case ast.Constant():
            return []
        case ast.JoinedStr():
            return [p for value in expr.values for p in _unsafe(module, function, value, seen)]
        case ast.FormattedValue():
            return _unsafe(module, function, expr.value, seen)
        case ast.BinOp(op=ast.Add()):
            return _unsafe(module, function, expr.left, seen) + _unsafe(module, function, expr.right, seen)
        case ast.IfExp():
            return _unsafe(module, function, expr.body, seen) + _unsafe(module, function, expr.orelse, seen)
        case ast.List() | ast.Tuple():
            return [p for element in expr.elts for p in _unsafe(module, function, element, seen)]
        case ast.GeneratorExp() | ast.ListComp():
            return _unsafe(module, function, expr.elt, seen)
        case ast.Subscript():
            return _unsafe(module, function, expr.value, seen)
        case ast.Attribute() if expr.attr in IDENTIFIER_ATTRIBUTES:
            return []
        case ast.Call(func=ast.Name(id="text")) if len(expr.args) == 1:
            # SQLAlchemy's text(): the statement is its argument.
            return _unsafe(module, function, expr.args[0], seen)
        case ast.Call(func=ast.Attribute(attr="bindparams" | "columns")):
            # Names bound parameters (their values go with execute) or result types: the statement is what it is called on.
            return _unsafe(module, function, expr.func.value, seen)
        case ast.Call(func=ast.Attribute(attr="join")):
            return [p for arg in expr.args for p in _unsafe(module, function, arg, seen)]
        case ast.Call(func=ast.Attribute(attr=attr)) | ast.Call(func=ast.Name(id=attr)) if attr in IDENTIFIER_CALLS:
            return []
        case ast.Name():
            return _unsafe_name(module, function, expr.id, seen)
    return [f"{ast.unparse(expr)!r} is not a constant or a schema identifier"]


def _unsafe_name(module: _Module, function: ast.AST | None, name: str, seen: set) -> list[str]:
    if (id(function), name) in seen:
        return []
    seen = seen | {(id(function), name)}
    if function is None:
        return [f"{name!r} is not a local built from identifiers"]
    if name in CONSTANT_PARAMETERS and name in {arg.arg for arg in function.args.args + function.args.kwonlyargs}:
        return []
    sources: list[ast.AST] = []
    problems: list[str] = []
    unpacked = False
    for node in ast.walk(function):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name) and target.id == name:
                    sources.append(node.value)
                elif isinstance(target, ast.Tuple) and any(isinstance(e, ast.Name) and e.id == name for e in target.elts):
                    position = next(i for i, e in enumerate(target.elts) if isinstance(e, ast.Name) and e.id == name)
                    problems += _unsafe_unpacked(module, node.value, position, name, seen)
                    unpacked = True
        elif (
            isinstance(node, (ast.AnnAssign, ast.AugAssign))
            and isinstance(node.target, ast.Name)
            and node.target.id == name
            and node.value is not None
        ):
            sources.append(node.value)
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("append", "extend")
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == name
        ):
            sources += node.args
        elif isinstance(node, (ast.For, ast.comprehension)) and _binds(node.target, name):
            if _is_enumerate_index(node, name):
                sources.append(ast.Constant(0))
            else:
                problems.append(f"{name!r} is a loop variable over {ast.unparse(node.iter)!r}, not an identifier")
    if not sources and not problems and not unpacked:
        arguments = function.args
        is_parameter = name in {arg.arg for arg in arguments.posonlyargs + arguments.args + arguments.kwonlyargs}
        outer = module.enclosing_function(function)
        if not is_parameter and outer is not None:
            # A closure's free variable: judged where it is assigned, in the enclosing function.
            return _unsafe_name(module, outer, name, seen)
        return [f"{name!r} is a parameter or is not assigned in {function.name}()"]
    for source in sources:
        problems += _unsafe(module, function, source, seen)
    return problems


def _unsafe_unpacked(module: _Module, value: ast.AST, position: int, name: str, seen: set) -> list[str]:
    """`a, b = helper(...)`: safe when `helper` is a function of this module whose returned element is safe."""
    if isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id in module.functions:
        helper = module.functions[value.func.id]
        problems = []
        for node in ast.walk(helper):
            if isinstance(node, ast.Return) and isinstance(node.value, ast.Tuple):
                problems += _unsafe(module, helper, node.value.elts[position], seen)
        return problems
    return [f"{name!r} comes from {ast.unparse(value)!r}, which cannot be checked"]


def _binds(target: ast.AST, name: str) -> bool:
    return any(isinstance(node, ast.Name) and node.id == name for node in ast.walk(target))


def _is_enumerate_index(loop: ast.AST, name: str) -> bool:
    return (
        isinstance(loop.iter, ast.Call) and isinstance(loop.iter.func, ast.Name) and loop.iter.func.id == "enumerate"
        and isinstance(loop.target, ast.Tuple) and isinstance(loop.target.elts[0], ast.Name) and loop.target.elts[0].id == name
    )  # fmt: skip
