"""``idc-sql download``, ``manifest inspect`` and ``cite`` (files and credit), and the
license split every ``run`` prints: their parsers and what they print."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import Any

from .common import _reporter, spell

#: what a run's rows carry for its license split (as ``idc_sql.citations.LICENSE_FIELDS``)
LICENSE_FIELDS = ("license_short_name", "series_size_MB")


def add_parsers(sub: Any) -> None:
    """Add ``download`` and ``manifest`` to the command line's subcommands."""
    from ..clouds import CLOUDS, DEFAULT_CLOUD, DEFAULT_RETRIES, DEFAULT_TIMEOUT

    down = sub.add_parser(
        "download",
        help="download a manifest's or a cohort's series with s5cmd, and check every one",
        description="Download every series of a manifest (idc-sql's, the IDC Portal's, "
        "idc-index's: cp lines, s3:// or gs:// URLs, crdc_series_uuids) or of a cohort "
        "specification (run first), each into a folder of its own; series already complete "
        "are skipped, partial ones completed, and every series is checked afterwards "
        "against the instance count and size the index gives.",
    )
    down.add_argument("source", metavar="MANIFEST_OR_SPEC")
    down.add_argument("--dest", required=True, metavar="DIR", help="the folder to fill")
    down.add_argument(
        "--cloud",
        choices=tuple(CLOUDS),
        default=DEFAULT_CLOUD,
        help="whose copy of IDC's buckets to read (default: %(default)s)",
    )
    down.add_argument(
        "--endpoint-url", metavar="URL", help="any S3-compatible endpoint (default: the cloud's)"
    )
    down.add_argument("--workers", type=int, metavar="N", help="parallel transfers (s5cmd's)")
    down.add_argument(
        "--retries",
        type=int,
        default=DEFAULT_RETRIES,
        metavar="N",
        help="retries of a failed request (default: %(default)s)",
    )
    down.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        metavar="SECONDS",
        help="stop when nothing arrives for this long (default: %(default)g)",
    )
    down.add_argument(
        "--sign-request",
        action="store_true",
        help="sign requests with your credentials (default: anonymous, as IDC's buckets are "
        "public)",
    )
    down.add_argument(
        "--dry-run", action="store_true", help="print what would be fetched and its size"
    )

    manifest = sub.add_parser("manifest", help="read a manifest back")
    actions = manifest.add_subparsers(dest="manifest_command", required=True, metavar="ACTION")
    inspect = actions.add_parser(
        "inspect",
        help="resolve a manifest's lines against the installed index",
        description="Count a manifest's lines that the current release serves, those only "
        "earlier releases served (prior_versions_index), and those that resolve to nothing "
        "(each by its number); its size and the releases its lines belong to.",
    )
    inspect.add_argument("file", metavar="FILE")
    inspect.add_argument("--json", action="store_true", help="print the report as JSON")

    cite = sub.add_parser(
        "cite",
        help="what to cite for a cohort or a manifest, and under which licenses (offline)",
        description="List every collection and analysis result a cohort (run first) or a "
        "manifest draws from, with the DOI, citation text and license the local index ships "
        "for each, their series and size, and IDC's own publication.",
    )
    cite.add_argument("source", metavar="SPEC_OR_MANIFEST")
    cite.add_argument(
        "--format",
        choices=("text", "bibtex", "csl-json", "json", "csv"),
        default="text",
        help="default: %(default)s",
    )


def _report_with_notes() -> Callable[[Any], None]:
    """Notices as the other commands print them, notes prefixed, progress padded over a
    longer line before it."""
    base = _reporter()
    widest = 0

    def report(notice: Any) -> None:
        nonlocal widest
        from dataclasses import replace

        from ..errors import render

        text = render(notice.pieces, spell)
        if notice.kind == "note":
            print(f"idc-sql: note: {text}", file=sys.stderr)
            return
        if notice.kind == "progress":
            widest = max(widest, len(text))
            notice = replace(notice, pieces=(text.ljust(widest),))
        base(notice)

    return report


def _download(args: argparse.Namespace) -> int:
    from ..downloads import fetch, plan

    if args.dry_run:
        p = plan(args.source, args.dest, cloud=args.cloud, endpoint_url=args.endpoint_url)
        for note in p.notes + p.problems:
            print(f"idc-sql: note: {note}", file=sys.stderr)
        for line in p.lines():
            print(line)
        return 0
    done = fetch(
        args.source,
        args.dest,
        cloud=args.cloud,
        endpoint_url=args.endpoint_url,
        workers=args.workers,
        retries=args.retries,
        timeout=args.timeout,
        sign_requests=args.sign_request,
        report=_report_with_notes(),
    )
    lines = done.lines()
    if done.ok:
        print("\n".join(lines))
        return 0
    print(f"idc-sql: error: {lines[0]}", file=sys.stderr)
    print("\n".join(lines[1:]), file=sys.stderr)
    return 1


def _manifest(args: argparse.Namespace) -> int:
    from ..manifests_in import inspect

    found = inspect(args.file)
    if args.json:
        print(json.dumps(found.as_dict(), indent=2))
    else:
        print("\n".join(found.lines()))
    return 0


def _cite(args: argparse.Namespace) -> int:
    from ..citations import FORMATS, cite

    credits = cite(args.source)
    print(FORMATS[args.format](credits), end="" if args.format in ("bibtex", "csv") else "\n")
    warn_non_commercial(credits.licenses.values())
    return 0


def print_licenses(result: Any, out: Any) -> None:
    """The license split of a run's result, and a warning for a non-commercial part."""
    from ..citations import license_split
    from ..cost import size

    shares = license_split(result)
    if not shares:
        return
    print("  licenses", file=out)
    for share in shares:
        tail = "  non-commercial use only" if share.non_commercial else ""
        print(
            f"    {share.license:<30} {share.series:>9,} series {size(share.size_bytes):>10}{tail}",
            file=out,
        )
    warn_non_commercial(shares)


def warn_non_commercial(shares: Any) -> None:
    """One line on standard error when any part of a cohort forbids commercial use."""
    from ..cost import size

    restricted = [s for s in shares if s.non_commercial]
    if not restricted or sys.stderr is None:
        return
    series = sum(s.series for s in restricted)
    names = ", ".join(s.license for s in restricted)
    print(
        f"idc-sql: warning: {series:,} series ({size(sum(s.size_bytes for s in restricted))}) "
        f"are licensed for non-commercial use only ({names}); `idc-sql cite` lists them",
        file=sys.stderr,
    )
