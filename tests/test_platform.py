"""The platform's shape: imports that only go one way, small modules, engine knowledge kept in
the engine tables, and a library that never prints."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import idc_sql

PACKAGE = Path(idc_sql.__file__).resolve().parent
MODULES = sorted(PACKAGE.rglob("*.py"))
#: the longest a module may grow before it is split by job
MAX_LINES = 450
ENGINE_NAMES = {"local", "bigquery"}


def _name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _runtime_imports(path: Path) -> set[str]:
    """The idc_sql modules ``path`` imports when it runs (at import or in a function), not
    those imported for type checking only."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    here = _name(path)
    package = here if path.name == "__init__.py" else here.rpartition(".")[0]
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skip |= {id(n) for n in ast.walk(node)}
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("idc_sql")}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            if not module.startswith("idc_sql"):
                continue
            found.add(module)
            for alias in node.names:  # `from . import s5cmd` imports a module
                if f"{module}.{alias.name}" in NAMES:
                    found.add(f"{module}.{alias.name}")
    found.discard(here)
    return found


NAMES = {_name(p) for p in MODULES}


def test_imports_form_no_cycle() -> None:
    graph = {_name(p): _runtime_imports(p) & NAMES for p in MODULES}
    # the reader sees imports in functions and through `from . import module`
    assert "idc_sql.compiler" in graph["idc_sql.pipeline"]
    assert "idc_sql.writers.s5cmd" in graph["idc_sql.writers"]
    # a package's __init__ may gather its modules; the modules must not import it back
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if nxt == "idc_sql":  # the root only holds the version and lazy names
                continue
            if state.get(nxt) == 1:
                cycle = [*path[path.index(nxt) :], nxt]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if nxt not in state:
                visit(nxt)
        path.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_modules_stay_small(path: Path) -> None:
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{lines} lines: split it by job"


def _engine_comparisons(path: Path) -> list[str]:
    """Comparisons of a value with an engine's name: ``x == "local"``, ``x in ("bigquery",)``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Compare):
            continue
        operands = [node.left, *node.comparators]
        literals = set()
        for operand in operands:
            elements = operand.elts if isinstance(operand, ast.Tuple | ast.List | ast.Set) else []
            for value in [operand, *elements]:
                if isinstance(value, ast.Constant) and value.value in ENGINE_NAMES:
                    literals.add(value.value)
        if literals:
            found.append(f"{path.relative_to(PACKAGE)}:{node.lineno}")
    return found


def test_engine_knowledge_lives_in_the_engine_tables() -> None:
    found = [c for p in MODULES for c in _engine_comparisons(p)]
    assert len(found) <= 2, found


def test_the_library_prints_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = {"name": "nothing", "where": {"collection_id": "no_such_collection"}}
    result = idc_sql.run(spec)
    assert result.summary.series == 0
    assert result.empty_hints()  # said to the caller, not printed
    idc_sql.compile(spec, "bigquery")
    idc_sql.count({"name": "rider", "where": {"collection_id": "rider_pilot"}})
    result.write(str(tmp_path / "nothing.s5cmd"))
    with pytest.raises(idc_sql.IdcSqlError):
        idc_sql.run({"name": "x", "idc_version": 26})
    assert capsys.readouterr() == ("", "")


def test_the_command_line_starts_light() -> None:
    """The command line's parser and a download of a manifest, up to starting s5cmd, load no
    sqlglot, DuckDB or Pydantic: a download starts as soon as s5cmd can (the benchmark
    compares it with s5cmd alone)."""
    code = (
        "import sys\n"
        "import idc_sql.cli, idc_sql.downloads, idc_sql.manifests_in\n"
        "idc_sql.cli._parser()\n"
        "print(sorted(m for m in ('sqlglot', 'duckdb', 'pydantic', 'pyarrow') if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == "[]"


def test_the_format_names_are_the_writers() -> None:
    from idc_sql import formats, writers

    assert formats.FORMATS == writers.FORMATS
    assert writers.DEFAULT_LAYOUT == formats.DEFAULT_LAYOUT
