"""``idc-sql index build``: IDC's indices built from BigQuery into an index folder, for the
local engine to read offline (see :mod:`idc_sql.indexes.build`)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ..targets import DEFAULT, TARGETS
from .common import _open_engine, bigquery_options

DESCRIPTION = """\
Run IDC's own SQL for each index NAME (read from the installed idc-index-data, as a CTE over
the release's tables) on BigQuery, and write its rows as NAME.parquet in the index folder,
with their provenance (release, query and its digest, time, tool version) in the file's
metadata. Every index is estimated first: one above the cap (--max-gb) stops them all before
any query runs. Each file is written atomically: an interrupted or failed build leaves the old
file as it was.

The local engine then reads them, offline, from that folder (--index-dir / IDC_SQL_INDEX_DIR),
for templates: `idc-sql tables` lists them.

Releases: by default the installed idc-index-data's release is built, into the folder itself.
--idc-version N builds release N into the folder's idc_vN/, which the local engine reads only
for queries at release N (--idc-version N); it never mixes releases.
"""


def add_parser(sub: Any) -> None:
    """Add ``index build`` to the command's subparsers ``sub``."""
    index = sub.add_parser("index", help="IDC's indices: build them from BigQuery as parquet")
    actions = index.add_subparsers(dest="action", required=True, metavar="ACTION")
    build = actions.add_parser(
        "build",
        help="build IDC indices (seg_index, sm_index, ...) from BigQuery into the index folder",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    build.add_argument(
        "names",
        nargs="+",
        metavar="NAME",
        help="an index whose SQL idc-index-data ships (idc-sql template list shows them)",
    )
    build.add_argument(
        "--idc-version",
        type=int,
        metavar="N",
        help="build IDC release N (default: the installed idc-index-data's release)",
    )
    build.add_argument(
        "--index-dir",
        metavar="DIR",
        help="the index folder to write to (else IDC_SQL_INDEX_DIR); made if missing",
    )
    build.add_argument(
        "--engine",
        choices=tuple(TARGETS),
        default=DEFAULT,
        help="bigquery: the engine that builds indices (the local engine reads them)",
    )
    bigquery_options(
        build,
        "BigQuery",
        "any index",
        "print each index's SQL and estimate; run and write nothing",
    )
    build.set_defaults(handler=_build)


def _build(args: argparse.Namespace) -> int:
    from ..indexes.build import build_indices, check_names, estimate_indices
    from ..settings import Settings

    check_names(args.names)  # before anything else: an unknown name is a usage error
    engine, report = _open_engine(args)
    if args.dry_run:
        for estimate in estimate_indices(
            args.names, engine, idc_version=args.idc_version, report=report
        ):
            print(f"-- {estimate.query.label} (IDC {estimate.query.release.label})")
            print(estimate.sql)
            print()
        return 0
    folder = args.index_dir or Settings.local().index_dir
    built = build_indices(args.names, engine, folder, idc_version=args.idc_version, report=report)
    out = sys.stdout
    if out is None:
        return 0
    from ..cost import size

    for b in built:
        cost = f", {size(b.estimate_bytes)} estimated" if b.estimate_bytes is not None else ""
        print(f"wrote {b.path} ({b.name}, IDC {b.release.label}, {b.rows:,} rows{cost})", file=out)
        if b.not_read:
            print(f"  note: {b.not_read}", file=out)
    return 0
