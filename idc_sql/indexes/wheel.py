"""What the installed idc-index-data wheel holds: for each IDC index, its parquet file (for
the few it ships), the BigQuery SQL IDC builds it with, and its schema JSON.

Everything is read from the wheel's folder when asked (the package itself is not imported:
importing it reads every schema and SQL file). The SQL stays IDC's: idc-sql reads it at run
time, never keeps a copy.
"""

from __future__ import annotations

import functools
import importlib.util
import json
from pathlib import Path
from typing import Any

from ..errors import Option, UsageError

INDEX_PACKAGE = "idc_index_data"
INDEX_DISTRIBUTION = "idc-index-data"
SCHEMA_SUFFIX = "_schema.json"


def _missing_index() -> UsageError:
    return UsageError(
        f"the local engine needs the {INDEX_DISTRIBUTION} package; install it with "
        f"`pip install {INDEX_DISTRIBUTION}`, or run with ",
        Option("engine", "bigquery"),
    )


def index_dir() -> Path:
    """Where the idc-index-data wheel keeps its files (found without importing the package)."""
    spec = importlib.util.find_spec(INDEX_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise _missing_index()
    return Path(next(iter(spec.submodule_search_locations)))


def index_release() -> tuple[int, str]:
    """(IDC release, package version) of the installed index, e.g. ``(25, "25.0.5")``."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        text = version(INDEX_DISTRIBUTION)
    except PackageNotFoundError:
        raise _missing_index() from None
    return int(text.split(".")[0]), text


def index_names(directory: Path | None = None) -> tuple[str, ...]:
    """Every index the wheel knows of (by its SQL, schema or parquet file), sorted."""
    folder = directory or index_dir()
    names = {p.stem for p in folder.glob("*.sql")}
    names |= {p.name[: -len(SCHEMA_SUFFIX)] for p in folder.glob(f"*{SCHEMA_SUFFIX}")}
    names |= {p.stem for p in folder.glob("*.parquet")}
    return tuple(sorted(names))


def sql_path(name: str, directory: Path | None = None) -> Path | None:
    """IDC's BigQuery SQL for index ``name``, if the wheel ships it."""
    path = (directory or index_dir()) / f"{name}.sql"
    return path if path.is_file() else None


def parquet_path(name: str, directory: Path | None = None) -> Path | None:
    path = (directory or index_dir()) / f"{name}.parquet"
    return path if path.is_file() else None


def schema(name: str, directory: Path | None = None) -> dict[str, Any] | None:
    """The wheel's schema JSON of index ``name``: ``table_description`` and ``columns``."""
    path = (directory or index_dir()) / f"{name}{SCHEMA_SUFFIX}"
    return _schema(str(path)) if path.is_file() else None


@functools.lru_cache(maxsize=64)
def _schema(path: str) -> dict[str, Any] | None:
    try:
        loaded = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return loaded if isinstance(loaded, dict) else None


def description(name: str, directory: Path | None = None) -> str:
    """The index's description, from its schema JSON (empty when the wheel has none)."""
    found = schema(name, directory) or {}
    text = found.get("table_description")
    return " ".join(text.split()) if isinstance(text, str) else ""
