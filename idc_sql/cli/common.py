"""What the command's subcommands share: how options are spelt as flags, how notices are
printed, how an engine is opened from the arguments, and how results are printed."""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..errors import Option

if TYPE_CHECKING:
    from ..engines.base import Engine

#: how the command line spells the library's options
FLAGS = {
    "engine": "--engine",
    "project": "--project",
    "endpoint": "--bigquery-endpoint",
    "max_gb": "--max-gb",
    "dry_run": "--dry-run",
    "destination": "--destination",
    "layout": "--layout",
    "cloud": "--cloud",
    "format": "--format",
    "allow_outside": "--allow-outside",
    "index_dir": "--index-dir",
    "param": "--param",
    "idc_version": "--idc-version",
    "dest": "--dest",
    "endpoint_url": "--endpoint-url",
    "workers": "--workers",
    "timeout": "--timeout",
    "retries": "--retries",
    "sign_requests": "--sign-request",
    "state": "--state",
    "wait": "--wait",
    "by": "--by",
    "field": "values",  # idc-sql values FIELD
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


def print_error(error: Any) -> None:
    """An error on standard error, a line per problem (a specification may have several)."""
    for line in error.render(spell).split("\n"):
        print(f"idc-sql: error: {line}", file=sys.stderr)


def _reporter(out: Any = None) -> Any:
    """Notices printed to standard error; a job's progress only on a terminal."""
    from ..settings import Notice

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
        elif notice.kind == "warning":
            print(f"idc-sql: warning: {text}", file=err)
        else:
            print(text, file=err)

    return report


def render_pieces(pieces: tuple[Any, ...]) -> str:
    from ..errors import render

    return render(pieces, spell)


def _open_engine(args: argparse.Namespace) -> tuple[Any, Any]:
    """The engine ``--engine`` names, with the options given (others are refused)."""
    from ..pipeline import open_engine

    options = {
        "project": getattr(args, "project", None),
        "endpoint": getattr(args, "bigquery_endpoint", None),
        "max_gb": getattr(args, "max_gb", None),
        "dry_run": getattr(args, "dry_run", False) or None,
    }
    report = _reporter()
    return open_engine(args.engine, options, report), report


def _execute(spec: Any, args: argparse.Namespace, also: tuple[str, ...] = ()) -> Any:
    """Run on the chosen engine; None after a --dry-run (which prints the SQL and estimate)."""
    from ..pipeline import Estimate, run

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


def _jsonable(value: Any) -> Any:
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def bigquery_options(p: argparse.ArgumentParser, title: str, refuse: str, dry_run: str) -> None:
    """The options of a command that may run on BigQuery: ``refuse`` says what ``--max-gb``
    refuses, ``dry_run`` what ``--dry-run`` does."""
    bq = p.add_argument_group(title)
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
        help=f"refuse {refuse} estimated above this many GB processed "
        "(else IDC_SQL_MAX_GB, default 50: 5%% of the Sandbox's free TB a month)",
    )
    bq.add_argument("--dry-run", action="store_true", help=dry_run)


def settle_flags(engine: Engine, releases: Mapping[str, int | str | None]) -> None:
    """Refuse a release given by a flag that the engine cannot read, naming the flag (not the
    spec, whose own ``idc_version`` the flag replaces)."""
    from ..api import _release

    for flag, value in releases.items():
        if value is not None:
            engine.settle(_release(value), flag)
