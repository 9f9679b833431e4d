"""``idc-sql refresh`` and ``idc-sql history``: scheduled refreshes and their snapshots.

``refresh`` exits with 0 when no cohort changed (nothing was written), 3 when at least one
recorded a new snapshot, 1 when a cohort failed while running (2 for a usage or specification
error; the others were refreshed all the same), and 75 when another refresh of the same state
held its lock longer than ``--wait`` (nothing was done: run it again later).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import Any

from ..clouds import CLOUDS
from ..errors import IdcSqlError, Option, UsageError
from ..formats import DEFAULT_LAYOUT, FORMATS
from ..summary import human_size
from .common import _open_engine, settle_flags, spell

#: ``refresh``'s exit status when a cohort recorded a new snapshot
CHANGED = 3
#: its status when another refresh of the state held the lock too long (EX_TEMPFAIL)
BUSY = 75


def add_parsers(sub: Any, engine_arg: Callable[..., None]) -> None:
    """The two commands' parsers, added to ``sub`` (``engine_arg`` adds the engine options)."""
    from ..history.state import DEFAULT_WAIT

    ref = sub.add_parser(
        "refresh",
        help="run cohorts, compare with their last snapshot in a state folder, record changes",
        description="Run each cohort at a release (default: the newest the engine serves) and "
        "compare it with its last snapshot in DIR. When anything changed, write a new snapshot "
        "folder (snapshot.parquet, fetch.s5cmd, added/revised/removed.csv, changes.txt) and a "
        "line in DIR/history.jsonl; else write nothing. Exit status: 0 unchanged, "
        f"{CHANGED} changed, 1 failed, 2 usage or specification error, {BUSY} another refresh "
        "of DIR held it too long.",
    )
    ref.add_argument("specs", nargs="+", metavar="SPEC")
    ref.add_argument("--state", required=True, metavar="DIR", help="the state folder (made)")
    ref.add_argument(
        "--idc-version",
        type=_release_number,
        metavar="N",
        help="the release to read (default: the newest the engine serves)",
    )
    ref.add_argument(
        "--wait",
        type=float,
        default=DEFAULT_WAIT,
        metavar="SECONDS",
        help=f"how long to wait for another refresh of DIR (default {DEFAULT_WAIT:g})",
    )
    _manifest_args(ref, "the download manifest (fetch.s5cmd)")
    ref.add_argument("--json", action="store_true", help="print the outcome as JSON")
    engine_arg(ref)

    hist = sub.add_parser(
        "history",
        help="list a cohort's snapshots in a state folder, or write one's manifest again",
    )
    hist.add_argument("spec", help="the cohort's specification (its name is the cohort)")
    hist.add_argument("--state", required=True, metavar="DIR")
    hist.add_argument("--release", type=_release_number, metavar="N", help="IDC release N's")
    hist.add_argument("--snapshot", metavar="NAME", help="the snapshot of this name")
    hist.add_argument(
        "-o", "--output", help="write the chosen snapshot (default: the latest) to this file"
    )
    hist.add_argument("--format", choices=FORMATS, help="default: from the output's suffix")
    _manifest_args(hist, "a manifest written with -o")
    hist.add_argument("--json", action="store_true", help="print the snapshots as JSON")
    hist.add_argument(
        "--allow-outside",
        action="store_true",
        help="let a set's members live outside the spec's folder",
    )


def _manifest_args(p: argparse.ArgumentParser, what: str) -> None:
    p.add_argument("--destination", metavar="DIR", help=f"the folder {what} puts the series under")
    p.add_argument(
        "--layout",
        metavar="TEMPLATE",
        help=f"each series' folder under the destination (default: {DEFAULT_LAYOUT})",
    )
    p.add_argument("--cloud", choices=tuple(CLOUDS), help="IDC's AWS buckets or GCS mirrors")


def _release_number(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"a release is a number (1, 2, ...), not {text!r}")
    return int(text)


def refresh(args: argparse.Namespace) -> int:
    from .. import api
    from ..history.refresh import refresh_cohort, unique_names
    from ..history.state import State
    from ..writers import needs

    specs = [api.as_spec(path, allow_outside=args.allow_outside) for path in args.specs]
    unique_names(specs)
    if args.dry_run:
        raise UsageError(Option("dry_run"), " applies to run and count; refresh records results")
    manifest = {"destination": args.destination, "layout": args.layout, "cloud": args.cloud}
    needs("s5cmd", **manifest)  # a wrong layout is refused before anything runs
    engine, report = _open_engine(args)
    settle_flags(engine, {"--idc-version": args.idc_version})
    state = State.open(args.state, create=True)
    done: list[dict[str, Any]] = []
    failed: list[IdcSqlError] = []
    with state.locked(args.wait):
        for spec in specs:
            try:
                outcome = refresh_cohort(
                    spec,
                    engine,
                    state,
                    idc_version=args.idc_version,
                    manifest=manifest,
                    report=report,
                )
            except IdcSqlError as e:
                failed.append(e)
                message = e.render(spell)
                print(f"idc-sql: error: {spec.name}: {message}", file=sys.stderr)
                done.append({"cohort": spec.name, "changed": False, "error": message})
                continue
            done.append(outcome.as_dict())
            if not args.json:
                _print_outcome(outcome)
    if args.json:
        print(json.dumps({"state": str(state.root), "cohorts": done}, indent=2))
    if failed:
        return failed[0].exit_code
    return CHANGED if any(d["changed"] for d in done) else 0


def _print_outcome(outcome: Any) -> None:
    from ..writers.s5cmd import download_command

    o = outcome
    counts = (
        f"{o.added:,} added, {o.removed:,} removed, {o.revised:,} revised, "
        f"{o.unchanged:,} unchanged ({o.series:,} series)"
    )
    if not o.changed:
        print(
            f"{o.cohort}: unchanged at IDC v{o.release} ({o.series:,} series, as snapshot "
            f"{o.snapshot} holds them); nothing written"
        )
        return
    if o.previous is None:
        head = f"{o.cohort}: first snapshot, IDC v{o.release}: {o.series:,} series"
    else:
        head = f"{o.cohort}: changed at IDC v{o.release} since {o.previous}: {counts}"
    if o.spec_changed:
        head += f"; the spec changed: cohort version {o.cohort_version}"
    print(head)
    print(f"  wrote {o.folder} (changes.txt says what changed)")
    if o.added or o.revised:
        fetch_mb = o.size_mb.get("added", 0.0) + o.size_mb.get("revised", 0.0)
        print(f"  download ({human_size(fetch_mb)}): {download_command(str(o.fetch))}")


def history(args: argparse.Namespace) -> int:
    from .. import api
    from ..history.past import chosen, recorded, snapshots
    from ..history.refresh import cohort_digest
    from ..outputs import check_output
    from ..writers import needs, resolve_format, write

    spec = api.as_spec(args.spec, allow_outside=args.allow_outside)
    manifest = {"destination": args.destination, "layout": args.layout, "cloud": args.cloud}
    if args.output is None:
        given = {"format": args.format, **manifest}
        for flag, value in given.items():
            if value is not None:
                raise UsageError(Option(flag), " applies to a snapshot written with -o")
        entries = snapshots(spec.name, args.state)
        shown = entries
        if args.release is not None or args.snapshot is not None:
            shown = [chosen(entries, args.release, args.snapshot)]
        _print_history(spec, cohort_digest(spec), shown, args.json)
        if entries and entries[-1].digest != cohort_digest(spec) and not args.json:
            print(
                f"the spec has changed since its last snapshot (digest {cohort_digest(spec)}): "
                "its next refresh records a new cohort version"
            )
        return 0
    fmt = resolve_format(args.output, args.format)
    needs(fmt, **manifest)
    target = check_output(args.output)
    result = recorded(spec.name, args.state, release=args.release, name=args.snapshot)
    write(result, args.output, fmt, **manifest)
    out = sys.stderr if target.is_stdout else sys.stdout
    if out is not None:
        print(
            f"wrote {target.shown} ({fmt}, {result.summary.series:,} series of IDC "
            f"{result.provenance.release}, {result.provenance.source})",
            file=out,
        )
    return 0


def _print_history(spec: Any, digest: str, entries: list[Any], as_json: bool) -> None:
    if as_json:
        body = {
            "cohort": spec.name,
            "digest": digest,
            "snapshots": [dict(e.record) for e in entries],
        }
        print(json.dumps(body, indent=2))
        return
    if not entries:
        print(f"{spec.name}: no snapshot recorded yet (a refresh records the first)")
        return
    header = (
        "SNAPSHOT",
        "RELEASE",
        "RECORDED",
        "VERSION",
        "SERIES",
        "ADDED",
        "REMOVED",
        "REVISED",
        "SIZE",
    )
    rows = [
        (
            e.snapshot,
            f"v{e.release}",
            e.when,
            str(e.cohort_version),
            f"{e.series:,}",
            f"{e.count('added'):,}",
            f"{e.count('removed'):,}",
            f"{e.count('revised'):,}",
            human_size(e.record.get("bytes", {}).get("total", 0) / 1e6),
        )
        for e in entries
    ]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        cells = [
            v.ljust(w) if i < 3 else v.rjust(w)
            for i, (v, w) in enumerate(zip(row, widths, strict=True))
        ]
        print("  ".join(cells))
