"""Running a template from the command line's cache, without compiling it (see
:mod:`.compiled`, which keeps the entries and says when one may be replayed).

Only the standard library, DuckDB and idc-sql's light modules are loaded here: neither sqlglot
nor pydantic.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .compiled import LAYOUT, entries_folder, fingerprints, parse, sha256, trusted


def replay(argv: Sequence[str]) -> int | None:
    """Run ``argv`` from the cache: the exit status, or None when the ordinary path must (no
    entry, something changed, a value to refuse, an error before the output was in place)."""
    try:
        request = parse(argv)
        fmt = request.fmt if request is not None else None
        if request is None or fmt is None:
            return None
        path = entries_folder() / f"{request.key(fmt)}.json"
        if not trusted(path):
            return None
        entry = json.loads(path.read_text(encoding="utf-8"))
        if (
            entry.get("layout") != LAYOUT
            or fingerprints(_paths(entry["watched"])) != entry["watched"]
        ):
            return None
        template = entry["template"]
        if sha256(Path(template["path"]).read_text("utf-8")) != template["sha256"]:
            return None
        values = _values(entry["params"], request.params)
    except Exception:  # an entry unreadable, of another layout, damaged: compile anew
        return None
    if values is None:
        return None
    with contextlib.suppress(OSError):
        os.utime(path)  # used: the last to be removed
    return _write(entry, values, request.output or f"{entry['name']}.{fmt}", fmt)


def _paths(watched: Mapping[str, Any]) -> dict[str, Any]:
    return {"files": list(watched["files"]), "folders": list(watched["folders"])}


def _values(declared: list[list[Any]], given: Sequence[str]) -> dict[str, Any] | None:
    """Every parameter's value, as :meth:`Template.values` makes them; None where it would
    refuse them (the ordinary path then says why)."""
    from .types import TypeProblem, parse_type

    texts: dict[str, str] = {}
    for item in given:
        name, sep, value = item.partition("=")
        if not sep or not name or name in texts:
            return None
        texts[name] = value
    if set(texts) - {name for name, *_ in declared}:
        return None
    values: dict[str, Any] = {}
    for name, type_name, required, default in declared:
        kind = parse_type(type_name)
        try:
            if name in texts:
                value = kind.convert(texts[name])
            elif required:
                return None
            else:
                value = kind.convert(default)
        except TypeProblem:
            return None
        values[name] = [] if value is None and kind.array else value
    return values


def _write(entry: Mapping[str, Any], values: dict[str, Any], output: str, fmt: str) -> int | None:
    """Write the rows as the ordinary path does; the exit status, or None before the output is
    in place when anything fails (the ordinary path then runs)."""
    import duckdb

    from ..errors import IdcSqlError, Terminated
    from ..outputs import atomic_output, check_output
    from ..outputs.atomic import assemble, beside
    from ..outputs.provenance import Provenance, comment_header, now, record, to_json
    from ..release import Release

    p = entry["provenance"]
    provenance = Provenance(
        cohort=p["cohort"],
        engine=p["engine"],
        settled=Release(**p["settled"]),
        source=p["source"],
        digest=p["digest"],
        sql=p["sql"],
        params=dict(values),
        arguments=dict(values),
    )
    written_at = now()
    try:
        target = check_output(output)
        connection = duckdb.connect(":memory:", config=entry["config"])
        for statement in entry["setup"]:
            connection.execute(statement)
        bound = {name: values[name] for name in entry["bound"]}
        extra = {"columns": list(entry["columns"])}
        with atomic_output(target) as tmp:
            if fmt == "parquet":  # the record, which the file holds, counts the rows first
                counting = {name: values[name] for name in entry["count_bound"]}
                ((count,),) = connection.execute(entry["count"], counting).fetchall()
                rec = record(provenance, int(count), fmt, written_at, extra)
                bound[entry["metadata_param"]] = to_json(rec)
                bound[entry["output_param"]] = str(tmp)
                connection.execute(entry["copy"], bound)
            else:  # csv, tsv: the rows, then the header put before them
                rows = beside(tmp, "rows")
                bound[entry["output_param"]] = str(rows)
                ((count,),) = connection.execute(entry["copy"], bound).fetchall()
                head = comment_header(provenance, int(count), fmt, written_at, extra)
                assemble(tmp, head, rows)
    except Terminated as e:  # SIGTERM or SIGHUP while writing: the output was left as it was
        return e.exit_code
    except (duckdb.Error, OSError, IdcSqlError, KeyError, TypeError, ValueError):
        return None
    release = provenance.release
    try:
        print(f"{entry['name']}  (IDC {release}, {provenance.engine}: {provenance.source})")
        print(f"wrote {output} ({fmt}, {int(count):,} rows)")
    except BrokenPipeError:  # the reader went away: stop quietly, as Unix tools do
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    return 0
