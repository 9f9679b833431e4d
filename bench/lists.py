"""`make bench`, cohorts from long lists: idc-sql against a plain DuckDB semi or anti join.

200,000 SeriesInstanceUIDs (199,990 real ones of the installed index, in a fixed random order,
and 10 that no series holds), as a cohort of

1. ``SeriesInstanceUID: {in: [...]}`` and 2. ``SeriesInstanceUID: {not_in: [...]}``, each a JSON
   specification holding the list, run as ``idc-sql run SPEC -o out.s5cmd``, against
   ``plain_lists.py``, which reads the same list from the same file, joins it by hash to the same
   parquet file (SEMI / ANTI JOIN) with DuckDB alone and writes the same manifest lines;
3. ``SeriesInstanceUID: {in_file: uids.txt}`` (one UID a line) against the plain script reading
   the same text file.

The manifests must list the same series in the same order (idc-sql makes destination values
safe, so a few lines differ in their folder; the series are compared by crdc_series_uuid).
Runs alternate, each in a new process; medians of wall time and peak resident memory.
Target: at most 1.5x in both. Nothing here is asserted on time.
"""

from __future__ import annotations

import compileall
import json
import os
import random
import subprocess
import sys
import tempfile
from pathlib import Path

from run import BIN, HERE, ROOT, compare

RUNS = int(os.environ.get("BENCH_RUNS", "5"))
SIZE = 200_000
MISSING = [f"1.2.826.0.1.3680043.99.{i}" for i in range(10)]  # UIDs no series holds


def uid_list() -> list[str]:
    import duckdb
    import idc_index_data

    parquet = str(idc_index_data.IDC_INDEX_PARQUET_FILEPATH)
    with duckdb.connect() as con:
        rows = con.execute(
            "SELECT SeriesInstanceUID FROM read_parquet(?) ORDER BY SeriesInstanceUID", [parquet]
        ).fetchall()
    uids = [r[0] for r in rows]
    random.Random(12).shuffle(uids)
    values = uids[: SIZE - len(MISSING)] + MISSING
    random.Random(SIZE).shuffle(values)
    return values


def write_inputs(folder: Path) -> None:
    """The list as two JSON specifications and a text file, in ``folder``."""
    values = uid_list()
    (folder / "uids.txt").write_text("".join(f"{v}\n" for v in values))
    for op in ("in", "not_in"):
        spec = {"name": op.replace("_", "-"), "where": {"SeriesInstanceUID": {op: values}}}
        (folder / f"{op}.json").write_text(json.dumps(spec))


def same_series(ours: Path, plain: Path) -> tuple[int, bool]:
    """The series of idc-sql's manifest, and whether the baseline's are the same, in order.

    Read a line at a time: the peak memory of this process bounds from below what the kernel
    reports for the processes it starts, so it stays small."""
    count, same = 0, True
    with ours.open() as a, plain.open() as b:
        lines = (line for line in a if line.startswith("cp "))
        for x, y in zip(lines, b, strict=False):
            count += 1
            same = same and x.split("/")[3] == y.split("/")[3]
        same = same and next(lines, None) is None and next(b, None) is None
    return count, same


def main() -> None:
    compileall.compile_dir(ROOT / "idc_sql", quiet=1)
    print(f"idc-sql on lists of {SIZE:,} SeriesInstanceUIDs ({RUNS} alternating cold runs each)")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        # in a process of its own, so that this one stays small (see same_series)
        subprocess.run([sys.executable, __file__, "--inputs", tmp], check=True)
        cases = [
            (f"{{{op}: [...]}}", op, folder / f"{op}.json", folder / f"{op}.json")
            for op in ("in", "not_in")
        ]
        spec = folder / "in_file.yaml"
        spec.write_text("name: in-file\nwhere:\n  SeriesInstanceUID: {in_file: uids.txt}\n")
        cases.append(("{in_file: uids.txt}", "in", spec, folder / "uids.txt"))
        for label, op, spec, source in cases:
            ours_out, plain_out = folder / "ours.s5cmd", folder / "plain.s5cmd"
            ours_cmd = [str(BIN / "idc-sql"), "run", str(spec), "-o", str(ours_out)]
            plain_cmd = [
                sys.executable,
                str(HERE / "plain_lists.py"),
                op,
                str(source),
                str(plain_out),
            ]
            subprocess.run(ours_cmd, capture_output=True, check=True)
            subprocess.run(plain_cmd, capture_output=True, check=True)
            count, same = same_series(ours_out, plain_out)
            print(
                f"SeriesInstanceUID: {label}: {count:,} series; "
                f"the same series in the same order as plain DuckDB: {same}"
            )
            join = "semi" if op == "in" else "anti"
            compare(
                f"idc-sql run against a plain DuckDB {join} join",
                ours_cmd,
                plain_cmd,
                "<= 1.5x",
                RUNS,
            )
            if not same:
                raise SystemExit("the manifests differ: the comparison is void")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--inputs"]:
        write_inputs(Path(sys.argv[2]))
    else:
        main()
