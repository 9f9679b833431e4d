"""`make bench`, cohorts across releases: idc-sql against plain DuckDB, measured in one run.

1. ``idc-sql diff`` of all of IDC (every series) from v24 to v25, printing its counts as JSON,
   against ``plain_diff.py``: the two releases computed from the same parquet files (the
   index's version columns and prior_versions_index) and joined in one DuckDB query that counts
   added, removed, revised and unchanged series. The counts must agree. Target: at most 1.5x
   wall time and peak memory.
2. Time travel: ``idc-sql run`` of the reference cohort (NLST chest CT) at v20 against the same
   cohort at v25, the installed release. Reported only.

Runs alternate, each in a new process; medians of wall time and peak resident memory. Nothing
here is asserted on time.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

from run import BIN, HERE, ROOT, RUNS, compare

SPEC = ROOT / "queries" / "examples" / "nlst-chest-ct.yaml"


def diff_all() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        spec = Path(tmp) / "all.yaml"
        spec.write_text("name: all-of-idc\ndescription: every series\n")
        ours_cmd = [str(BIN / "idc-sql"), "diff", str(spec), "--from", "24", "--to", "25", "--json"]
        plain_cmd = [sys.executable, str(HERE / "plain_diff.py")]
        ours = json.loads(subprocess.run(ours_cmd, capture_output=True, check=True).stdout)
        plain = json.loads(subprocess.run(plain_cmd, capture_output=True, check=True).stdout)
        kinds = ("added", "removed", "revised", "unchanged")
        same = all(ours[k] == plain[k] for k in kinds)
        print(
            "diff of all of IDC, v24 -> v25: "
            + ", ".join(f"{ours[k]:,} {k}" for k in kinds)
            + f"; the same counts as plain DuckDB: {same}"
        )
        compare("idc-sql diff --json against a plain DuckDB join", ours_cmd, plain_cmd, "<= 1.5x")
        if not same:
            raise SystemExit("the counts differ: the comparison is void")


def time_travel() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        text = SPEC.read_text()
        commands = {}
        for release in (20, 25):
            spec = Path(tmp) / f"v{release}.yaml"
            spec.write_text(text.replace("idc_version: 25", f"idc_version: {release}"))
            out = Path(tmp) / f"v{release}.s5cmd"
            commands[release] = [str(BIN / "idc-sql"), "run", str(spec), "-o", str(out)]
            subprocess.run(commands[release], capture_output=True, check=True)
            lines = sum(1 for line in out.read_text().splitlines() if line.startswith("cp "))
            print(f"reference cohort at v{release}: {lines:,} series")
        compare(
            "time travel: the cohort at v20 against v25", commands[20], commands[25], "reported"
        )


def main() -> None:
    print(f"idc-sql across releases ({RUNS} alternating cold runs each)")
    diff_all()
    time_travel()


if __name__ == "__main__":
    main()
