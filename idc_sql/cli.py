"""The ``idc-sql`` command.

Exit codes: 0 success, 1 a failure while running, 2 a usage or specification error (or a
query the cost guard refused), 130 interrupted, 141 the reader of standard output went away,
143 / 129 terminated (SIGTERM / SIGHUP) while writing: the output was left as it was.
``refresh`` adds 3 (a cohort changed) and 75 (another refresh held the state's lock); see
:mod:`idc_sql.cli_refresh`.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from . import __version__, cli_refresh
from .errors import IdcSqlError, Option
from .summary import human_size
from .targets import DEFAULT, TARGETS
from .writers import FORMATS

#: how the command line spells the library's options
FLAGS = {
    "engine": "--engine",
    "project": "--project",
    "endpoint": "--bigquery-endpoint",
    "max_gb": "--max-gb",
    "dry_run": "--dry-run",
    "destination": "--destination",
    "format": "--format",
    "allow_outside": "--allow-outside",
    "state": "--state",
    "idc_version": "--idc-version",
    "wait": "--wait",
}
#: options the command line takes from the environment only
ENVIRONMENT = {"deadline": "IDC_SQL_BIGQUERY_DEADLINE"}


def spell(option: Option) -> str:
    """An option as this command line's flag: ``--engine bigquery``, ``--dry-run``."""
    if option.name == "path" and option.value == "-":
        return "-o -"
    if option.name in ENVIRONMENT:
        name = ENVIRONMENT[option.name]
        return name if option.value is None else f"{name}={option.value}"
    flag = FLAGS.get(option.name)
    if flag is None:
        return str(option)
    if option.value is None or option.value is True:
        return flag
    if option.name == "also":  # fields a result must carry: the spec's columns
        return f"columns listing {', '.join(option.value)}"
    value = option.value
    text = f"{value:g}" if isinstance(value, float) else shlex.quote(str(value))
    return f"{flag} {text}"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="idc-sql",
        description="Cohorts of NCI Imaging Data Commons series: typed specifications "
        "compiled to SQL, run on the local index (default) or BigQuery, written as manifests.",
    )
    parser.add_argument("--version", action="version", version=f"idc-sql {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def engine_arg(p: argparse.ArgumentParser, *, runs: bool = True) -> None:
        p.add_argument(
            "--engine",
            choices=tuple(TARGETS),
            default=DEFAULT,
            help="; ".join(f"{t.name}: {t.description}" for t in TARGETS.values()),
        )
        if not runs:
            return
        bq = p.add_argument_group("BigQuery (with --engine bigquery)")
        bq.add_argument(
            "--project",
            help="project billed for queries (else IDC_SQL_PROJECT, "
            "GOOGLE_CLOUD_PROJECT, or the default credentials' project)",
        )
        bq.add_argument(
            "--bigquery-endpoint",
            metavar="URL",
            help="API endpoint, e.g. an emulator (else IDC_SQL_BIGQUERY_ENDPOINT)",
        )
        bq.add_argument(
            "--max-gb",
            type=float,
            metavar="GB",
            help="refuse queries estimated above this many GB processed "
            "(else IDC_SQL_MAX_GB, default 50: 5%% of the Sandbox's free TB a month)",
        )
        bq.add_argument(
            "--dry-run", action="store_true", help="print the SQL and the estimate, run nothing"
        )

    run = sub.add_parser("run", help="run a cohort and write its manifest")
    run.add_argument("spec", help="cohort specification (.yaml, .yml or .json)")
    run.add_argument(
        "-o",
        "--output",
        help="file to write (- for standard output); "
        "default: <name>.<format> in the current folder",
    )
    run.add_argument(
        "--format",
        choices=FORMATS,
        help="default: from the output's suffix, else s5cmd",
    )
    run.add_argument(
        "--destination",
        help="where s5cmd puts each series; may name fields, e.g. "
        "'data/{collection_id}/{SeriesInstanceUID}/' (default: .)",
    )
    engine_arg(run)

    count = sub.add_parser("count", help="count a cohort's series, studies, patients, size")
    count.add_argument("spec")
    count.add_argument("--json", action="store_true", help="print the summary as JSON")
    engine_arg(count)

    comp = sub.add_parser("compile", help="print a cohort's SQL and its bound parameters")
    comp.add_argument("spec")
    comp.add_argument("--json", action="store_true", help="print {sql, params} as JSON")
    engine_arg(comp, runs=False)

    val = sub.add_parser("validate", help="check specifications without running them")
    val.add_argument("specs", nargs="+", metavar="SPEC")
    engine_arg(val, runs=False)

    fields = sub.add_parser("fields", help="list the fields a cohort can use")
    fields.add_argument("pattern", nargs="?", help="a glob or substring of field names")
    fields.add_argument("--engine", choices=tuple(TARGETS), help="only fields this engine can read")

    dif = sub.add_parser(
        "diff", help="what changed in a cohort between two IDC releases (added, removed, revised)"
    )
    dif.add_argument("spec")
    dif.add_argument("--from", dest="before", required=True, metavar="N", help="a release number")
    dif.add_argument(
        "--to",
        dest="after",
        default="current",
        metavar="N",
        help="a release number or current (default: current)",
    )
    dif.add_argument(
        "-o", "--output", help="write what to fetch (added and revised series) to this manifest"
    )
    dif.add_argument(
        "--deleted",
        metavar="FILE",
        help="write the series versions the newer release no longer serves (removed, and the "
        "older versions of revised series) to this file (csv, tsv, parquet or jsonl)",
    )
    dif.add_argument("--json", action="store_true", help="print the change as JSON")
    engine_arg(dif)

    cli_refresh.add_parsers(sub, engine_arg)
    sub.add_parser("schema", help="print the JSON Schema of a specification")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from .outputs import BrokenPipe, Terminated

    args = _parser().parse_args(argv)
    try:
        return int(_COMMANDS[args.command](args))
    except BrokenPipe as e:  # the reader went away: stop quietly, as Unix tools do
        return e.exit_code
    except Terminated as e:  # SIGTERM or SIGHUP while writing: the output was left as it was
        return e.exit_code
    except IdcSqlError as e:
        print(f"idc-sql: error: {e.render(spell)}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print("idc-sql: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # the reader went away (e.g. `| head`): stop quietly, as Unix tools do
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


def console() -> None:
    """The ``idc-sql`` command's entry point (``main`` is the one to call in a process).

    When the command has finished, its output is flushed and the process leaves with
    ``os._exit``, skipping the interpreter's teardown: freeing every module and object of
    pydantic, sqlglot and DuckDB one by one costs 30-50 ms and does nothing for a command
    whose files are already closed and renamed into place when ``main`` returns. The command's
    result is kept alive until then for the same reason (see ``_kept``).
    """
    global _leftovers
    _leftovers = []
    code = main()
    _remove_spills(_leftovers)
    for stream in (sys.stdout, sys.stderr):
        if stream is None:  # started with the stream closed (`2>&-`)
            continue
        try:
            stream.flush()
        except BrokenPipeError:
            code = code or 141
        except (OSError, ValueError):
            code = code or 1
    os._exit(code)


def _remove_spills(results: list[Any]) -> None:
    """Close the databases that spilled to disk, so that DuckDB removes its temporary folder
    (which it does when a database closes); the others are left to the operating system."""
    import duckdb

    for result in results:
        connection = getattr(result, "connection", None)
        if connection is None:
            continue
        try:
            ((folder,),) = connection.execute("SELECT current_setting('temp_directory')").fetchall()
            if folder and Path(folder).is_dir():
                connection.close()
        except (duckdb.Error, OSError):  # leaving must not fail over a temporary folder
            continue


def _reporter(out: Any = None) -> Any:
    """Notices printed to standard error; a job's progress only on a terminal."""
    from .settings import Notice

    shown = False

    def report(notice: Notice) -> None:
        nonlocal shown
        err = sys.stderr if out is None else out
        if err is None:
            return
        text = render_pieces(notice.pieces)
        if notice.kind == "progress":
            if err.isatty():
                print(f"\r  {text}", end="", file=err, flush=True)
                shown = True
        elif notice.kind == "progress_done":
            if shown:
                print(file=err)
                shown = False
        elif notice.kind == "cancelled":
            print(f"idc-sql: {text}", file=err)
        else:
            print(text, file=err)

    return report


def render_pieces(pieces: tuple[Any, ...]) -> str:
    from .errors import render

    return render(pieces, spell)


def _open_engine(args: argparse.Namespace) -> tuple[Any, Any]:
    """The engine ``--engine`` names, with the options given (others are refused)."""
    from .pipeline import open_engine

    options = {
        "project": getattr(args, "project", None),
        "endpoint": getattr(args, "bigquery_endpoint", None),
        "max_gb": getattr(args, "max_gb", None),
        "dry_run": getattr(args, "dry_run", False) or None,
    }
    report = _reporter()
    return open_engine(args.engine, options, report), report


def _run(args: argparse.Namespace) -> int:
    from . import api
    from .errors import UsageError
    from .outputs import check_output, header_safe
    from .spec import source_files
    from .writers import needs, resolve_format, write

    spec = api.as_spec(args.spec)
    fmt = resolve_format(args.output, args.format)
    also = needs(fmt, args.destination)
    output = args.output or f"{spec.name}.{fmt}"
    target = check_output(output)
    if target.path is not None and target.path in source_files(spec):
        raise UsageError(
            f"-o {output} is a specification this cohort is read from; "
            "write the result to another file"
        )
    result = _execute(spec, args, also)
    if result is None:
        return 0
    write(result, output, fmt, destination=args.destination)
    report = sys.stderr if output == "-" else sys.stdout
    if report is None:  # started with it closed: print() would fall back to standard output
        return 0
    _print_summary(result, report)
    if output != "-":
        print(f"wrote {target.shown} ({fmt}, {result.summary.series:,} series)", file=report)
        if fmt == "s5cmd" and result.summary.series:
            from .writers.s5cmd import download_command

            print(f"download: {download_command(header_safe(output))}", file=report)
    _explain_empty(result)
    return 0


def _explain_empty(result: Any) -> None:
    """When a cohort selects nothing, say which values no series holds (a value in the
    wrong case is the usual reason: ``NLST`` for ``nlst``, ``ct`` for ``CT``)."""
    if sys.stderr is None:
        return
    for hint in result.empty_hints():
        print(
            f"idc-sql: note: {hint} (values are compared exactly, case included)", file=sys.stderr
        )


def _execute(spec: Any, args: argparse.Namespace, also: tuple[str, ...] = ()) -> Any:
    """Run on the chosen engine; None after a --dry-run (which prints the SQL and estimate)."""
    from .pipeline import Estimate, run

    engine, report = _open_engine(args)
    outcome = run(spec, engine, also=also, dry_run=bool(args.dry_run), report=report)
    if isinstance(outcome, Estimate):
        print(outcome.sql)
        print()
        _print_params(outcome.params)
        return None
    return _kept(outcome)


#: set by ``console``: what a finished command leaves for the operating system to free
_leftovers: list[Any] | None = None


def _kept(result: Any) -> Any:
    """``result``, kept alive until the process ends when run as the command: closing its
    DuckDB database frees every buffer one by one (about 7 ms on the reference cohort)."""
    if _leftovers is not None:
        _leftovers.append(result)
    return result


def _print_params(params: dict[str, Any]) -> None:
    print("-- parameters:")
    for name, value in params.items():
        print(f"--   {name} = {json.dumps(_jsonable(value))}")


def _print_summary(result: Any, out: Any) -> None:
    p = result.provenance
    print(f"{p.cohort}  (IDC {p.release}, {p.source})", file=out)
    for line in result.summary.lines():
        print(f"  {line}", file=out)


def _count(args: argparse.Namespace) -> int:
    from . import api

    spec = api.as_spec(args.spec)
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
    _explain_empty(result)
    return 0


def _compile(args: argparse.Namespace) -> int:
    from . import api

    compiled = api.compile(args.spec, args.engine)
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
    from . import api

    failed = 0
    for path in args.specs:
        try:
            api.compile(path, args.engine)
        except IdcSqlError as e:
            print(f"idc-sql: error: {e.render(spell)}", file=sys.stderr)
            failed += 1
        else:
            print(f"ok  {path}")
    return 2 if failed else 0


def _fields(args: argparse.Namespace) -> int:
    from . import api
    from .targets import reading_engines

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
    from .spec import json_schema

    print(json.dumps(json_schema(), indent=2))
    return 0


def _jsonable(value: Any) -> Any:
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def _diff(args: argparse.Namespace) -> int:
    from . import api
    from .history.diff import diff
    from .outputs import check_output
    from .writers import needs, resolve_format, write

    spec = api.as_spec(args.spec)
    outputs = []
    if args.output:
        fmt = resolve_format(args.output, None)
        outputs.append((check_output(args.output), fmt, "to_fetch"))
    if args.deleted:
        fmt = resolve_format(args.deleted, None)
        if fmt == "s5cmd":
            fmt = "csv"
        outputs.append((check_output(args.deleted), fmt, "to_delete"))
    also = tuple(n for _, fmt, _ in outputs for n in needs(fmt))
    if args.dry_run:
        from .errors import UsageError

        raise UsageError(Option("dry_run"), " applies to run and count; diff reads two releases")
    engine, report = _open_engine(args)
    change = diff(
        spec, engine, api._release(args.before), api._release(args.after), also=also, report=report
    )
    for target, fmt, part in outputs:
        write(getattr(change, part)(), target.given, fmt)
    if args.json:
        print(json.dumps(change.as_dict(), indent=2))
        return 0
    c = change.counts
    print(f"{change.cohort}  ({change.before.label} -> {change.after.label}, {change.engine})")
    for kind in ("added", "removed", "revised", "unchanged"):
        n, mb = getattr(c, kind), getattr(c, f"{kind}_mb")
        print(f"  {kind:<10} {n:>12,}  {human_size(mb):>12}")
    kinds = ("added", "removed", "revised")
    changed = [row for row in change.by_collection() if any(row[k] for k in kinds)]
    if changed:
        print("  by collection (added / removed / revised):")
        for row in changed:
            counts = " ".join(f"{row[k]:>8,}" for k in kinds)
            print(f"    {row['collection_id']:<40} {counts}")
    for target, fmt, part in outputs:
        print(f"wrote {target.shown} ({fmt}, {part.replace('_', ' ')})")
    return 0


_COMMANDS = {
    "diff": _diff,
    "run": _run,
    "count": _count,
    "compile": _compile,
    "validate": _validate,
    "fields": _fields,
    "schema": _schema,
    "refresh": lambda args: cli_refresh.refresh(args, _open_engine, spell),
    "history": cli_refresh.history,
}


if __name__ == "__main__":
    console()
