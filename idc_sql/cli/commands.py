"""The subcommands that count, compile, check and describe (``run`` is in the package's
``__init__``; ``diff`` in :mod:`.history`)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from ..errors import IdcSqlError
from .common import (
    _execute,
    _jsonable,
    _print_params,
    _print_summary,
    print_error,
)


def _count(args: argparse.Namespace) -> int:
    from .. import api

    spec = api.as_spec(args.spec, allow_outside=args.allow_outside)
    if args.by is not None:
        return _grouped(spec, args, args.by)
    result = _execute(spec, args)
    if result is None:
        return 0
    if args.json:
        body = {
            "cohort": result.provenance.cohort,
            "idc_version": result.provenance.release,
            "engine": result.provenance.engine,
            **result.summary.as_dict(),
        }
        print(json.dumps(body, indent=2))
    else:
        _print_summary(result, sys.stdout)
    return 0


def _compile(args: argparse.Namespace) -> int:
    from .. import api

    compiled = api.compile(args.spec, args.engine, allow_outside=args.allow_outside)
    params = {k: _jsonable(v) for k, v in compiled.params.items()}
    if args.json:
        print(
            json.dumps({"engine": compiled.engine, "sql": compiled.sql, "params": params}, indent=2)
        )
        return 0
    print(compiled.sql)
    print()
    _print_params(compiled.params)
    return 0


def _validate(args: argparse.Namespace) -> int:
    from .. import api

    failed = 0
    for path in args.specs:
        try:
            api.compile(path, args.engine, allow_outside=args.allow_outside)
        except IdcSqlError as e:
            print_error(e)
            failed += 1
        else:
            print(f"ok  {path}")
    return 2 if failed else 0


def _fields(args: argparse.Namespace) -> int:
    from .. import api
    from ..targets import reading_engines

    found = api.fields(args.pattern, args.engine)
    if not found:
        print(f"no field matches {args.pattern!r}", file=sys.stderr)
        return 1
    rows = [
        (
            f.name,
            f.level,
            f.kind,
            f.bq_type if f.bq_mode == "NULLABLE" else f"{f.bq_type} {f.bq_mode}",
            "+".join(reading_engines(f)),
            f.description,
        )
        for f in found
    ]
    header = ("FIELD", "LEVEL", "KIND", "BIGQUERY TYPE", "ENGINES", "DESCRIPTION")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(5)]
    for row in [header, *rows]:
        print("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=False)) + "  " + row[5])
    return 0


def _schema(args: argparse.Namespace) -> int:
    from ..spec import json_schema

    print(json.dumps(json_schema(), indent=2))
    return 0


def _values(args: argparse.Namespace) -> int:
    from .. import api

    spec = api.as_spec(args.spec or {"name": "every-series"}, allow_outside=args.allow_outside)
    return _grouped(spec, args, args.field, counts=("series",), option="field")


def _grouped(
    spec: Any, args: argparse.Namespace, by: str, counts: tuple[str, ...] = (), option: str = "by"
) -> int:
    """A summary by field: a table (or ``--json``, a list of rows) of every value's counts."""
    from ..groups import COUNTS, by_fields, check_by, groups
    from ..summary import human_size
    from ..targets import target

    names = check_by(by_fields(by), target(args.engine), option)
    result = _execute(spec, args, names)
    if result is None:
        return 0
    found = groups(result, names)
    shown = counts or COUNTS
    rows = [{k: row[k] for k in (*names, *shown)} for row in found.as_dicts()]
    if args.json:
        print(json.dumps(rows, indent=2, default=str))
        return 0
    header = [*names, *(c.upper() if c != "size_mb" else "SIZE" for c in shown)]
    table = [
        [
            *(_cell(row[n]) for n in names),
            *(human_size(row[c]) if c == "size_mb" else f"{row[c]:,}" for c in shown),
        ]
        for row in rows
    ]
    widths = [max(len(r[i]) for r in [header, *table]) for i in range(len(header))]
    for row in [header, *table]:
        cells = [
            v.ljust(w) if i < len(names) else v.rjust(w)
            for i, (v, w) in enumerate(zip(row, widths, strict=True))
        ]
        print("  ".join(cells).rstrip())
    return 0


def _cell(value: Any) -> str:
    """A value in a table cell: missing said so, characters that are not printable escaped."""
    from ..errors import printable

    return "(missing)" if value is None else printable(str(value))
