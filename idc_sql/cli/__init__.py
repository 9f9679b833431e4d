"""The ``idc-sql`` command.

Exit codes: 0 success, 1 a failure while running, 2 a usage or specification error (or a
query the cost guard refused), 130 interrupted, 141 the reader of standard output went away,
143 / 129 terminated (SIGTERM / SIGHUP) while writing: the output was left as it was.
``refresh`` adds 3 (a cohort changed) and 75 (another refresh held the state's lock); see
:mod:`idc_sql.cli.refresh`.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .. import __version__
from ..clouds import CLOUDS
from ..errors import IdcSqlError, interrupted
from ..formats import DEFAULT_LAYOUT, FORMATS
from ..targets import DEFAULT, TARGETS
from . import common, files, indexes
from . import refresh as refresh_commands
from .commands import _compile, _count, _fields, _schema, _validate, _values
from .common import FLAGS, _execute, _print_summary, print_error, spell
from .history import _diff

__all__ = ["FLAGS", "console", "main", "spell"]


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
            "--allow-outside",
            action="store_true",
            help="let a set's members live outside the spec's folder",
        )
        p.add_argument(
            "--engine",
            choices=tuple(TARGETS),
            default=DEFAULT,
            help="; ".join(f"{t.name}: {t.description}" for t in TARGETS.values()),
        )
        if not runs:
            return
        common.bigquery_options(
            p,
            "BigQuery (with --engine bigquery)",
            "queries",
            "print the SQL and the estimate, run nothing",
        )

    run = sub.add_parser("run", help="run a cohort and write its manifest")
    run.add_argument("spec", help="cohort specification (.yaml, .yml, .json) or template (.sql)")
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
        metavar="DIR",
        help="the folder a manifest's series go under (default: .)",
    )
    run.add_argument(
        "--layout",
        metavar="TEMPLATE",
        help="each series' folder under the destination, naming result fields "
        f"(default: {DEFAULT_LAYOUT})",
    )
    run.add_argument(
        "--cloud",
        choices=tuple(CLOUDS),
        help="where a manifest's series are read from: IDC's AWS buckets (default) or "
        "their GCS mirrors",
    )
    engine_arg(run)

    count = sub.add_parser("count", help="count a cohort's series, studies, patients, size")
    count.add_argument("spec")
    count.add_argument("--json", action="store_true", help="print the summary as JSON")
    count.add_argument(
        "--by",
        metavar="FIELD[,FIELD...]",
        help="series, studies, patients and size per value of these series-level fields",
    )
    engine_arg(count)

    vals = sub.add_parser("values", help="the values a field takes, and how many series hold each")
    vals.add_argument("field", help="a series-level field, e.g. collection_id")
    vals.add_argument("--spec", help="only the series of this cohort (default: every series)")
    vals.add_argument("--json", action="store_true", help="print a list of rows as JSON")
    engine_arg(vals)

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

    refresh_commands.add_parsers(sub, engine_arg)
    sub.add_parser("schema", help="print the JSON Schema of a specification")
    from .templates import add_commands  # template, tables; .sql files for run, compile...

    ui = {"reporter": common._reporter, "spell": spell}
    add_commands(sub, engine_arg, ui, {"run": run, "compile": comp, "validate": val})
    files.add_parsers(sub)
    indexes.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from ..outputs import BrokenPipe, Terminated

    args = _parser().parse_args(argv)
    try:
        handler = getattr(args, "handler", None)  # templates' (-1: not a template)
        code = int(handler(args)) if handler else -1
        return code if code >= 0 else int(_COMMANDS[args.command](args))
    except BrokenPipe as e:  # the reader went away: stop quietly, as Unix tools do
        return e.exit_code
    except Terminated as e:  # SIGTERM or SIGHUP while writing: the output was left as it was
        return e.exit_code
    except KeyboardInterrupt:
        print("idc-sql: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # the reader went away (e.g. `| head`): stop quietly, as Unix tools do
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except Exception as e:
        if interrupted(e):  # a Ctrl-C that a query turned into an error of its own
            print("idc-sql: interrupted", file=sys.stderr)
            return 130
        if not isinstance(e, IdcSqlError):
            raise
        print_error(e)
        return e.exit_code


def console() -> None:
    """The ``idc-sql`` command's entry point (``main`` is the one to call in a process).

    When the command has finished, its output is flushed and the process leaves with
    ``os._exit``, skipping the interpreter's teardown: freeing every module and object of
    pydantic, sqlglot and DuckDB one by one costs 30-50 ms and does nothing for a command
    whose files are already closed and renamed into place when ``main`` returns. The command's
    result is kept alive until then for the same reason (see ``_kept``).
    """
    from ..outputs.stdout import leave

    common._leftovers = []
    code = main()
    _remove_spills(common._leftovers)
    leave(code)


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


def _run(args: argparse.Namespace) -> int:
    from .. import api
    from ..errors import UsageError
    from ..outputs import check_output, header_safe
    from ..spec import source_files
    from ..writers import default_name, needs, paths_written, resolve_format, write

    spec = api.as_spec(args.spec, allow_outside=args.allow_outside)
    fmt = resolve_format(args.output, args.format)
    placed = {"destination": args.destination, "layout": args.layout, "cloud": args.cloud}
    also = (*needs(fmt, **placed), *files.LICENSE_FIELDS)
    output = args.output or default_name(spec.name, fmt)
    for path in reversed(paths_written(output, fmt)):  # a sidecar, then the output itself
        target = check_output(path)
        if target.path is not None and target.path in source_files(spec):
            raise UsageError(
                f"-o {output} is a specification this cohort is read from; "
                "write the result to another file"
            )
    result = _execute(spec, args, also)
    if result is None:
        return 0
    write(result, output, fmt, **placed)
    report = sys.stderr if output == "-" else sys.stdout
    if report is None:  # started with it closed: print() would fall back to standard output
        return 0
    _print_summary(result, report)
    files.print_licenses(result, report)
    if output != "-":
        print(f"wrote {target.shown} ({fmt}, {result.summary.series:,} series)", file=report)
        if fmt == "s5cmd" and result.summary.series:
            from ..writers import CLOUDS as WRITER_CLOUDS
            from ..writers.s5cmd import download_command

            cloud = WRITER_CLOUDS[args.cloud or "aws"]
            print(f"download: {download_command(header_safe(output), cloud)}", file=report)
    return 0


_COMMANDS = {
    "diff": _diff,
    "run": _run,
    "count": _count,
    "values": _values,
    "compile": _compile,
    "validate": _validate,
    "fields": _fields,
    "schema": _schema,
    "download": files._download,
    "manifest": files._manifest,
    "cite": files._cite,
    "refresh": refresh_commands.refresh,
    "history": refresh_commands.history,
}


if __name__ == "__main__":
    console()
