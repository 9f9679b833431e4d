"""Templates compiled once and run again without compiling: the command line's cache (kept
here, replayed by :mod:`.rerun`).

Before a template's query runs, ``idc-sql template run`` loads what reads and translates it
(sqlglot alone takes 0.1-0.2 s, longer than many reports take to run). So when a run on the
local engine has written a report (rows that are not series) as csv, tsv or parquet, the
command keeps what it ran: the DuckDB statements, rendered from their sqlglot trees; the
template's parameters and their types; and what the file's provenance says. The next run of
the same request (the same template, templates folders, index folder, release and format; any
parameter values) replays those statements with DuckDB alone, the new values bound as
parameters.

First, every input the compilation depended on is checked: the template's text, the folders
templates are looked up in, the index files and folders the relations come from, the
environment variables that name folders, idc-sql's own files and the installed sqlglot and
DuckDB. Any difference, any option the replay does not handle (only ``-o``, ``--format``,
``-p``, ``--idc-version``, ``--templates``, ``--index-dir`` and ``--engine local``), a value the
ordinary path would refuse, or any error before the output is in place sends the request down
the ordinary path, which compiles anew, reports as ever and keeps a new entry. Written files
are the same either way (a test compares them), apart from the time they were written.

Entries are small JSON files in ``templates/`` of the cache folder (``IDC_SQL_CACHE_DIR``, else
``$XDG_CACHE_HOME/idc-sql``, else ``~/.cache/idc-sql``); removing them is always safe. The
Python API compiles every time: in a notebook the libraries are loaded once anyway.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import json
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..engines.local import LocalEngine
    from .model import Template
    from .result import TemplateResult

#: the entries' layout; an entry of another is not read
LAYOUT = 1
#: the entries kept at most: the least recently used beyond are removed
KEEP = 256
#: the formats replayed, by the suffixes that imply them
SUFFIXES = {".csv": "csv", ".tsv": "tsv", ".parquet": "parquet"}
#: the options replayed, each with the request's field it fills
OPTIONS = {
    "-o": "output",
    "--output": "output",
    "--format": "format",
    "-p": "param",
    "--param": "param",
    "--idc-version": "idc_version",
    "--templates": "templates",
    "--index-dir": "index_dir",
    "--engine": "engine",
}
#: environment variables that name where templates and indices are found
ENVIRONMENT = ("IDC_SQL_TEMPLATES", "IDC_SQL_INDEX_DIR", "XDG_DATA_HOME", "HOME")
#: the file of idc-sql's own that idc-sql's code is fingerprinted from (every .py and .sql)
PACKAGE = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Request:
    """A ``template run`` as the command line gave it (the options the cache handles)."""

    template: str
    templates: tuple[str, ...] = ()
    index_dir: str | None = None
    idc_version: int | None = None
    output: str | None = None
    format: str | None = None
    params: tuple[str, ...] = ()

    @property
    def fmt(self) -> str | None:
        """The format written, when it is one the cache replays (None: it is not, or the
        ordinary path decides, or refuses the request)."""
        if self.output is None:
            return self.format or "csv"  # a report's default
        implied = SUFFIXES.get(Path(self.output).suffix.lower())
        if implied is None or self.format not in (None, implied):
            return None
        return implied

    def key(self, fmt: str) -> str:
        """The entry's name: what the compiled statements depend on, hashed."""
        what = {
            "layout": LAYOUT,
            "template": self.template,
            "templates": self.templates,
            "index_dir": self.index_dir,
            "idc_version": self.idc_version,
            "format": fmt,
            "cwd": os.getcwd(),
            "environment": {name: os.environ.get(name) for name in ENVIRONMENT},
            "code": _code(),
        }
        return hashlib.sha256(json.dumps(what, sort_keys=True).encode()).hexdigest()[:32]


def parse(argv: Sequence[str]) -> Request | None:
    """The request ``argv`` makes, when it is a ``template run`` (or ``run FILE.sql``) given
    only options the cache handles, each spelt in full; else None."""
    if list(argv[:2]) == ["template", "run"]:
        rest, sql_only = list(argv[2:]), False
    elif list(argv[:1]) == ["run"]:
        rest, sql_only = list(argv[1:]), True
    else:
        return None
    positional: list[str] = []
    found: dict[str, Any] = {"param": [], "templates": []}
    i = 0
    while i < len(rest):
        arg = rest[i]
        i += 1
        if not arg.startswith("-") or arg == "-":
            positional.append(arg)
            continue
        name, equals, value = arg.partition("=") if arg.startswith("--") else (arg, "", "")
        if name not in OPTIONS:
            return None
        if not equals:
            if i >= len(rest) or rest[i].startswith("-"):
                return None
            value = rest[i]
            i += 1
        field = OPTIONS[name]
        if field in ("param", "templates"):
            found[field].append(value)
        elif field in found:  # given twice: the ordinary path says what it makes of it
            return None
        else:
            found[field] = value
    if len(positional) != 1 or found.get("engine", "local") != "local":
        return None
    template = positional[0]
    if sql_only and not template.lower().endswith(".sql"):
        return None
    try:
        version = int(found["idc_version"]) if "idc_version" in found else None
    except ValueError:
        return None
    if found.get("output") == "-" or found.get("format", "csv") not in SUFFIXES.values():
        return None
    return Request(
        template,
        tuple(found["templates"]),
        found.get("index_dir"),
        version,
        found.get("output"),
        found.get("format"),
        tuple(found["param"]),
    )


def from_args(args: Any) -> Request | None:
    """The request of ``template run``'s parsed arguments, when the cache handles it."""
    ours = {"output", "format", "param", "idc_version", "templates", "index_dir", "engine"}
    ours |= {"template", "spec", "command", "action", "handler"}
    others = {k: v for k, v in vars(args).items() if k not in ours}
    if any(v not in (None, False, []) for v in others.values()) or args.engine != "local":
        return None
    if args.output == "-":
        return None
    return Request(
        args.template,
        tuple(args.templates or ()),
        args.index_dir,
        args.idc_version,
        args.output,
        args.format,
        tuple(args.param),
    )


# ---- keeping an entry (after the ordinary path has written the file)


def remember(
    request: Request,
    fmt: str,
    template: Template,
    engine: Any,
    outcome: TemplateResult,
    *,
    quiet: bool,
) -> bool:
    """Keep what ``outcome`` ran, when it can be replayed; whether it was kept.

    ``quiet``: nothing was reported while it ran (a notice would not be shown again)."""
    from sqlglot import exp

    from ..engines.local import CONNECTION_CONFIG, LocalEngine
    from ..outputs.provenance import jsonable
    from ..writers.copying import METADATA_PARAM, OUTPUT_PARAM, copy_statement
    from ..writers.tables import table_options
    from .library import folders

    if not (quiet and isinstance(engine, LocalEngine) and fmt in SUFFIXES.values()):
        return False
    if outcome.is_series or outcome.warnings or engine._lists.stored:
        return False  # a series' summary, a list stored as a table: not replayed
    if template.source not in ("file", "folder", "queries"):
        return False
    try:
        if template.path.read_text(encoding="utf-8") != template.text:
            return False
    except (OSError, UnicodeDecodeError):
        return False
    params = []
    for p in template.params.values():
        default = None if p.default is None else jsonable(p.default)
        if default is not None and p.type.convert(default) != p.default:
            return False  # a default JSON cannot hold as it is
        params.append([p.name, p.type.name, p.required, default])
    statement = copy_statement(outcome.select(), table_options(fmt))
    count = outcome.count_query()
    ours = {OUTPUT_PARAM, METADATA_PARAM}
    bound = sorted({n.name for n in statement.find_all(exp.Placeholder)} - ours)
    made = outcome.provenance
    watched = _watched(request, template, engine, folders(request.templates or None))
    entry = {
        "layout": LAYOUT,
        "name": template.name,
        "template": {"path": str(template.path), "sha256": sha256(template.text)},
        "watched": watched,
        "config": dict(CONNECTION_CONFIG),
        "setup": list(engine.setup),
        "copy": statement.sql(dialect="duckdb"),
        "bound": bound,
        "output_param": OUTPUT_PARAM,
        # parquet: the rows are counted first, for the record the COPY binds
        "count": count.sql(dialect="duckdb"),
        "count_bound": sorted({n.name for n in count.find_all(exp.Placeholder)}),
        "metadata_param": METADATA_PARAM,
        "params": params,
        "columns": list(outcome.columns),
        "provenance": {
            "cohort": made.cohort,
            "engine": made.engine,
            "settled": asdict(made.settled),
            "source": made.source,
            "digest": made.digest,
            "sql": made.sql,
        },
    }
    return _store(request.key(fmt), entry)


def _watched(
    request: Request, template: Template, engine: LocalEngine, searched: list[tuple[Path, str]]
) -> dict[str, Any]:
    """Fingerprints of what the compiled statements were made from (see :func:`fingerprints`)."""
    paths: list[str] = [request.template]  # a name that becomes a file's is a path then
    folders = [str(folder) for folder, _ in searched] if template.source != "file" else []
    for folder in [*engine.index_folders, engine.directory]:
        folders.append(str(folder))
        folders += [str(sub) for sub in Path(folder).glob("idc_v*")]
    return fingerprints({"files": paths, "folders": folders})


def fingerprints(watched: Mapping[str, Any]) -> dict[str, Any]:
    """Each file's and folder's fingerprint now: size and time of change (a folder: of each
    file in it), None when it is not there."""
    files = {p: _stat(p) for p in watched["files"]}
    folders = {f: _listing(f) for f in watched["folders"]}
    return {"files": files, "folders": folders}


def _stat(path: str) -> list[int] | None:
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return None
    return [st.st_mode, st.st_size, st.st_mtime_ns]


def _listing(folder: str) -> list[Any] | None:
    try:
        with os.scandir(folder) as entries:
            found = [[e.name, *(_stat(e.path) or [])] for e in entries]
    except (OSError, ValueError):
        return None
    return sorted(found)


def _code() -> list[Any]:
    """idc-sql's own files, and the sqlglot and DuckDB installed: what renders the SQL."""
    mine = []
    for folder, dirs, files in os.walk(PACKAGE):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(files):
            if name.endswith((".py", ".sql")):
                mine.append(
                    [os.path.join(folder, name), *(_stat(os.path.join(folder, name)) or [])]
                )
    theirs = []
    for library in ("sqlglot", "duckdb"):
        spec = importlib.util.find_spec(library)
        origin = spec.origin if spec is not None else None
        theirs.append([library, origin, _stat(origin) if origin else None])
    return [sys.version, mine, theirs]


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def entries_folder() -> Path:
    from ..settings import default_cache_dir

    return default_cache_dir(os.environ) / "templates"


def _store(key: str, entry: Mapping[str, Any]) -> bool:
    """Write the entry atomically (a temporary file, then a rename); False when it cannot be
    (a cache is no reason for a command to fail)."""
    folder = entries_folder()
    tmp = folder / f".{key}.{os.getpid()}.tmp"
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp.write_text(json.dumps(entry), encoding="utf-8")
        os.replace(tmp, folder / f"{key}.json")
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        return False
    with contextlib.suppress(OSError):
        _prune(folder)
    return True


def _prune(folder: Path) -> None:
    """Remove the least recently used entries beyond :data:`KEEP` (a replay marks its use)."""
    entries = list(folder.glob("*.json"))
    if len(entries) > KEEP:
        entries.sort(key=lambda p: p.stat().st_mtime_ns, reverse=True)
        for old in entries[KEEP:]:
            old.unlink(missing_ok=True)


def trusted(path: Path) -> bool:
    """Whether the entry is the user's own and no one else may change it (its statements are
    run as they stand)."""
    st = path.stat()
    return not hasattr(os, "getuid") or (st.st_uid == os.getuid() and not st.st_mode & 0o022)
