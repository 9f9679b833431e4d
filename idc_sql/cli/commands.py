"""The subcommands that count, compile, check and describe (``run`` is in the package's
``__init__``; ``diff`` in :mod:`.history`)."""

from __future__ import annotations

import argparse
import json
import sys

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
