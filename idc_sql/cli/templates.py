"""The command line of templates and tables: ``idc-sql template list|show|run``, ``idc-sql
tables``, and ``run`` / ``compile`` / ``validate`` given a ``.sql`` file.

The ``idc-sql`` command (:mod:`idc_sql.cli`) adds these commands to its parser; what it shares
with them (how notices are shown) it hands over, so this module does not import it back.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Mapping
from typing import Any

from ..errors import IdcSqlError, UsageError
from ..formats import FORMATS
from ..targets import TARGETS

Handler = Callable[[argparse.Namespace], int]


def add_commands(
    sub: Any,
    engine_arg: Callable[..., None],
    ui: Mapping[str, Any],
    shared: Mapping[str, argparse.ArgumentParser],
) -> None:
    """Add ``template`` and ``tables`` to ``sub``, and template options to the ``shared``
    parsers (``run``, ``compile``, ``validate``), which route a ``.sql`` file here.

    ``ui`` holds what the command shares: ``reporter`` (makes the notices' printer) and
    ``spell`` (an option as a flag)."""
    commands = _Commands(ui["reporter"], ui["spell"])
    template = sub.add_parser("template", help="list, show and run saved SQL templates")
    actions = template.add_subparsers(dest="action", required=True, metavar="ACTION")

    listing = actions.add_parser("list", help="the templates found, with their parameters")
    _templates_arg(listing)
    listing.add_argument("--json", action="store_true", help="print them as JSON")
    listing.set_defaults(handler=commands.list)

    show = actions.add_parser(
        "show", help="a template: parameters, tables, engines that run it, SQL for each"
    )
    show.add_argument("template", metavar="NAME_OR_FILE")
    _templates_arg(show)
    _template_args(show, run=False)
    show.set_defaults(handler=commands.show)

    run = actions.add_parser("run", help="run a template and write its rows")
    run.add_argument("template", metavar="NAME_OR_FILE")
    _output_args(run)
    _templates_arg(run)
    _template_args(run)
    engine_arg(run)
    run.set_defaults(handler=commands.run)

    tables = sub.add_parser("tables", help="the tables (relations) each engine can read now")
    tables.add_argument("--engine", choices=tuple(TARGETS), help="only this engine")
    tables.add_argument("--index-dir", metavar="DIR", help="a folder of IDC indices as parquet")
    tables.add_argument(
        "--idc-version", type=int, metavar="N", help="what each engine reads at IDC release N"
    )
    tables.set_defaults(handler=commands.tables)

    for name, parser in shared.items():
        _templates_arg(parser)
        _template_args(parser, run=name == "run")
        parser.set_defaults(handler=commands.routed(name))


def _templates_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--templates",
        action="append",
        metavar="DIR",
        help="a folder of templates, searched before the package's (else IDC_SQL_TEMPLATES)",
    )


def _template_args(p: argparse.ArgumentParser, *, run: bool = True) -> None:
    p.add_argument(
        "-p",
        "--param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a template parameter's value (arrays: a,b,c or a JSON array)",
    )
    p.add_argument("--idc-version", type=int, metavar="N", help="read IDC release N")
    p.add_argument(
        "--index-dir",
        metavar="DIR",
        help="a folder of IDC indices as parquet, for the local engine (else IDC_SQL_INDEX_DIR)",
    )


def _output_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("-o", "--output", help="file to write (- for standard output)")
    p.add_argument("--format", choices=FORMATS, help="default: from the output's suffix")
    p.add_argument("--destination", help="where s5cmd puts each series (series results only)")


def is_template(path: Any) -> bool:
    return isinstance(path, str) and path.lower().endswith(".sql")


def parse_params(given: list[str]) -> dict[str, str]:
    """``-p name=value`` arguments as a mapping (a name given twice is refused)."""
    values: dict[str, str] = {}
    for item in given:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise UsageError(f"--param {item!r}: write NAME=VALUE")
        if name in values:
            raise UsageError(f"--param {name} is given twice")
        values[name] = value
    return values


class _Commands:
    def __init__(self, reporter: Callable[[], Any], spell: Callable[..., str]) -> None:
        self.reporter = reporter
        self.spell = spell

    # ---- routing from run / compile / validate

    def routed(self, command: str) -> Handler:
        def handle(args: argparse.Namespace) -> int:
            spec = getattr(args, "spec", None) or (getattr(args, "specs", None) or [None])[0]
            if command == "validate" and any(is_template(s) for s in args.specs):
                return self.validate(args)
            if command != "validate" and is_template(spec):
                args.template = spec
                return self.run(args) if command == "run" else self.compile(args)
            given = [
                f for f in ("param", "idc_version", "templates", "index_dir") if _given(args, f)
            ]
            if given:
                flags = ", ".join("--" + f.replace("_", "-") for f in given)
                raise UsageError(f"{flags} applies to SQL templates (.sql files), not to {spec}")
            return -1  # not a template: the cohort command runs

        return handle

    # ---- commands

    def list(self, args: argparse.Namespace) -> int:
        from ..templates.library import catalog

        found, broken = catalog(args.templates)
        if args.json:
            print(json.dumps([_describe(t) for t in found], indent=2, default=str))
        else:
            for t in found:
                params = ", ".join(
                    f"{p.name} {p.type.name}" + ("" if p.required else f"={p.shown_default}")
                    for p in t.params.values()
                )
                print(f"{t.name}  [{t.source}]  ({params or 'no parameters'})")
                if t.description:
                    print(f"    {t.description}")
        for b in broken:
            print(f"idc-sql: note: {b.error}", file=sys.stderr)
        return 0

    def show(self, args: argparse.Namespace) -> int:
        from ..pipeline import open_engine
        from ..templates.api import load_template
        from ..templates.render import compile_template, settle

        t = load_template(args.template, templates=args.templates)
        print(f"{t.name}  [{t.source}: {t.path}]")
        if t.description:
            print(f"  {t.description}")
        print("parameters:")
        for p in t.params.values() or []:
            print(f"  @{p.name} {p.type.name} {p.shown_default}  {p.description}".rstrip())
        if not t.params:
            print("  none")
        print("tables: " + ", ".join(dict.fromkeys(r.written for r in t.tables)))
        values = {n: (None if p.required else p.default) for n, p in t.params.items()}
        for name in TARGETS:
            options = {"index_dir": args.index_dir} if "index_dir" in TARGETS[name].options else {}
            engine = open_engine(name, options)
            try:
                release = settle(t, engine, args.idc_version)
                query = compile_template(t, engine, values, release)
            except IdcSqlError as e:
                print(f"\n-- {name}: cannot run it now: {e.render(self.spell)}")
                continue
            print(f"\n-- {name} ({release.label}): runs it\n{query.sql}")
        return 0

    def compile(self, args: argparse.Namespace) -> int:
        from ..templates.api import compile_template

        query = compile_template(
            args.template,
            args.engine,
            params=self._params(args),
            idc_version=args.idc_version,
            templates=args.templates,
            **self._options(args),
        )
        if getattr(args, "json", False):
            params = {k: _jsonable(v) for k, v in query.params.items()}
            print(json.dumps({"engine": query.engine, "sql": query.sql, "params": params}))
            return 0
        print(query.sql)
        print()
        _print_params(query.params)
        return 0

    def validate(self, args: argparse.Namespace) -> int:
        from .. import api
        from ..templates.api import load_template

        failed = 0
        for path in args.specs:
            try:
                if is_template(path):
                    load_template(path)
                else:
                    api.compile(path, args.engine)
            except IdcSqlError as e:
                for line in e.render(self.spell).split("\n"):
                    print(f"idc-sql: error: {line}", file=sys.stderr)
                failed += 1
            else:
                print(f"ok  {path}")
        return 2 if failed else 0

    def run(self, args: argparse.Namespace) -> int:
        from ..outputs import check_output
        from ..pipeline import Estimate, open_engine
        from ..templates import compiled
        from ..templates.api import load_template
        from ..templates.run import run_template
        from ..writers import implied_by, resolve_format

        t = load_template(args.template, templates=args.templates)
        if args.format is not None:
            resolve_format(args.output, args.format)  # a format contradicting the suffix
        if args.output is not None:
            check_output(args.output)
        shown = self.reporter()
        notices = []

        def report(notice: Any) -> None:
            notices.append(notice)
            shown(notice)

        engine = open_engine(args.engine, self._options(args), report)
        outcome = run_template(
            t,
            engine,
            self._params(args),
            idc_version=args.idc_version,
            dry_run=bool(getattr(args, "dry_run", False)),
            report=report,
        )
        if isinstance(outcome, Estimate):
            print(outcome.sql)
            print()
            _print_params(outcome.params)
            return 0
        implied = implied_by(args.output)
        fmt = args.format or (implied.name if implied else None)
        fmt = fmt or (
            "s5cmd" if outcome.is_series and "crdc_series_uuid" in outcome.fields else "csv"
        )
        output = args.output or f"{t.name}.{fmt}"
        placed = {
            "destination": args.destination,
            "layout": getattr(args, "layout", None),
            "cloud": getattr(args, "cloud", None),
        }
        outcome.write(output, fmt, **placed)
        request = compiled.from_args(args)
        if request is not None and request.fmt == fmt:  # the next run need not compile
            compiled.remember(request, fmt, t, engine, outcome, quiet=not notices)
        out = sys.stderr if output == "-" else sys.stdout
        if out is None:
            return 0
        p = outcome.provenance
        print(f"{t.name}  (IDC {p.release}, {p.engine}: {p.source})", file=out)
        if outcome.is_series:
            for line in outcome.summary.lines():
                print(f"  {line}", file=out)
        if output != "-":
            print(f"wrote {output} ({fmt}, {len(outcome):,} rows)", file=out)
        return 0

    def tables(self, args: argparse.Namespace) -> int:
        from ..pipeline import open_engine

        names = [args.engine] if args.engine else list(TARGETS)
        for name in names:
            options = {"index_dir": args.index_dir} if "index_dir" in TARGETS[name].options else {}
            engine = open_engine(name, options)
            release = engine.settle(args.idc_version)
            print(f"{name} ({release.label}):")
            counts = _row_counts(engine, release)
            for relation in engine.relations(release).values():
                count = f"{counts[relation.name]:>12,}" if relation.name in counts else ""
                print(f"  {relation.name:36s}{count}  {relation.description}")
            found = getattr(engine, "folder_indices", None)
            for index in (found(release.number) if found else {}).values():
                if index.problem:
                    print(f"  {index.name:36s}  not read: {index.path} {index.problem}")
        return 0

    # ---- helpers

    def _params(self, args: argparse.Namespace) -> dict[str, Any]:
        return parse_params(args.param)

    def _options(self, args: argparse.Namespace) -> dict[str, Any]:
        options = {
            "project": getattr(args, "project", None),
            "endpoint": getattr(args, "bigquery_endpoint", None),
            "max_gb": getattr(args, "max_gb", None),
            "dry_run": getattr(args, "dry_run", False) or None,
            "index_dir": getattr(args, "index_dir", None),
        }
        return {k: v for k, v in options.items() if v is not None}


def _given(args: argparse.Namespace, name: str) -> bool:
    value = getattr(args, name, None)
    return bool(value) or (value is not None and not isinstance(value, list))


def _row_counts(engine: Any, release: Any) -> dict[str, int]:
    """Rows of each local relation, from the parquet footers (no data is read)."""
    import pyarrow.parquet as pq

    counts = {}
    for relation in engine.relations(release).values():
        try:
            counts[relation.name] = pq.ParquetFile(relation.location).metadata.num_rows
        except (OSError, ValueError):
            continue
    return counts


def _describe(t: Any) -> dict[str, Any]:
    return {
        "name": t.name,
        "description": t.description,
        "source": t.source,
        "path": str(t.path),
        "tables": list(dict.fromkeys(r.written for r in t.tables)),
        "parameters": [
            {
                "name": p.name,
                "type": p.type.name,
                "required": p.required,
                "default": None if p.required else _jsonable(p.default),
                "description": p.description,
            }
            for p in t.params.values()
        ],
    }


def _print_params(params: Mapping[str, Any]) -> None:
    print("-- parameters:")
    for name, value in params.items():
        print(f"--   {name} = {json.dumps(_jsonable(value), default=str)}")


def _jsonable(value: Any) -> Any:
    from ..outputs.provenance import jsonable

    return jsonable(value)
