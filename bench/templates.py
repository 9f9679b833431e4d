"""`make bench`, templates: ``idc-sql template run`` against the same SQL in a plain DuckDB script.

Two of the shipped templates, GROUP BY reports over ``idc_index``: ``collection-summary`` (one
collection, NLST, by modality) and ``collections-by-modality`` (all of IDC, by collection and
modality), each run as ``idc-sql template run NAME -o out.csv``, against ``plain_template.py``,
which runs the same query (written by hand in DuckDB's dialect) over the same parquet file and
writes the rows with DuckDB's COPY. The rows must be the same (idc-sql's comment header aside).
Runs alternate, each in a new process; medians of wall time and peak resident memory.
Target: at most 1.2x in both. Nothing here is asserted on time.

Each template is measured twice: as a command run again (the template compiled by an earlier
run is replayed from the cache, see :mod:`idc_sql.templates.compiled`), and as a first run,
which compiles it (the cache folder cannot be written, so nothing is kept between runs).
"""

from __future__ import annotations

import compileall
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from run import BIN, HERE, ROOT, compare

RUNS = int(os.environ.get("BENCH_RUNS", "9"))
TEMPLATES = ("collection-summary", "collections-by-modality")


def rows(path: Path) -> list[str]:
    return [line for line in path.read_text().splitlines() if not line.startswith("#")]


def main() -> None:
    compileall.compile_dir(ROOT / "idc_sql", quiet=1)
    print(f"idc-sql templates on the local engine ({RUNS} alternating cold runs each)")
    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(tmp) / "cache"
        for name in TEMPLATES:
            ours_out, plain_out = Path(tmp) / "ours.csv", Path(tmp) / "plain.csv"
            ours = [str(BIN / "idc-sql"), "template", "run", name, "-o", str(ours_out)]
            plain_cmd = [sys.executable, str(HERE / "plain_template.py"), name, str(plain_out)]
            runs = {
                "run again (compiled by an earlier run)": ["env", f"IDC_SQL_CACHE_DIR={cache}"],
                "first run (compiles)": ["env", f"IDC_SQL_CACHE_DIR={os.devnull}/none"],
            }
            subprocess.run(plain_cmd, capture_output=True, check=True)
            for how, prefix in runs.items():
                ours_out.unlink(missing_ok=True)
                subprocess.run([*prefix, *ours], capture_output=True, check=True)
                same = rows(ours_out) == rows(plain_out)
                print(
                    f"{name}, {how}: {len(rows(ours_out)) - 1:,} rows; "
                    f"the same rows as plain DuckDB: {same}"
                )
                if not same:
                    raise SystemExit("the rows differ: the comparison is void")
                compare(
                    f"idc-sql template run, {how}, against the same SQL in DuckDB",
                    [*prefix, *ours],
                    plain_cmd,
                    "<= 1.2x",
                    RUNS,
                )


if __name__ == "__main__":
    main()
