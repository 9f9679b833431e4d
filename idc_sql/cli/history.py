"""``idc-sql diff``: what changed in a cohort between two IDC releases."""

from __future__ import annotations

import argparse
import json

from ..errors import Option
from ..summary import human_size
from .common import _open_engine, settle_flags


def _diff(args: argparse.Namespace) -> int:
    from .. import api
    from ..history.diff import diff
    from ..outputs import check_output
    from ..writers import needs, resolve_format, write

    spec = api.as_spec(args.spec, allow_outside=args.allow_outside)
    outputs = []
    if args.output:
        fmt = resolve_format(args.output, None)
        outputs.append((check_output(args.output), fmt, "to_fetch"))
    if args.deleted:
        fmt = resolve_format(args.deleted, None)
        if fmt == "s5cmd":
            fmt = "csv"
        outputs.append((check_output(args.deleted), fmt, "to_delete"))
    if len(outputs) == 2 and _same_file(args.output, args.deleted):
        from ..errors import UsageError

        raise UsageError(
            f"-o and --deleted both name {outputs[0][0].shown}: the series to fetch and those "
            "to delete go to two different files"
        )
    also = tuple(n for _, fmt, _ in outputs for n in needs(fmt))
    if args.dry_run:
        from ..errors import UsageError

        raise UsageError(Option("dry_run"), " applies to run and count; diff reads two releases")
    engine, report = _open_engine(args)
    settle_flags(engine, {"--from": args.before, "--to": args.after})
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


def _same_file(a: str, b: str) -> bool:
    """Whether two outputs are one file (standard output is one too)."""
    import os

    if "-" in (a, b):
        return a == b
    return os.path.realpath(a) == os.path.realpath(b)
