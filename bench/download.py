"""`make bench`: `idc-sql download` against plain `s5cmd run` of the same manifest.

A moto S3 server on 127.0.0.1 holds a few hundred small objects: real series of the index (one
instance each, their real sizes). The manifest gives every series its own folder, as `idc-sql
run --destination 'data/{collection_id}/{PatientID}/{StudyInstanceUID}/{SeriesInstanceUID}/'`
writes it. Runs alternate, each into a new empty folder, each a new process; the figures are
medians of wall time and their ratio (target: at most 1.1x). `idc-sql download` does more than
s5cmd: it resolves the manifest against the index, looks at the destination first and checks
every series afterwards. Nothing is asserted: the numbers are printed for people to read.
"""

from __future__ import annotations

import compileall
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from idc_sql.downloads.transfer import s5cmd_binary  # noqa: E402
from tests.s3.downloads import real_series, store  # noqa: E402
from tests.s3.server import MotoS3  # noqa: E402

RUNS = int(os.environ.get("BENCH_RUNS", "7"))
SERIES = int(os.environ.get("BENCH_SERIES", "300"))


def timed(argv: list[str], cwd: Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{argv[0]} failed ({done.returncode}): {done.stderr[-2000:]}")
    return wall


def files(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


def main() -> None:
    compileall.compile_dir(ROOT / "idc_sql", quiet=1)
    series = real_series(SERIES, 20_000)
    with MotoS3() as server, tempfile.TemporaryDirectory() as tmp:
        store(server, series)
        manifest = Path(tmp) / "bench.s5cmd"
        manifest.write_text("".join(f"{s.line('data/' + s.folder + '/')}\n" for s in series))
        env = server.env()
        ours = [
            sys.executable,
            "-m",
            "idc_sql.cli",
            "download",
            str(manifest),
            "--dest",
            "{dest}",
            "--endpoint-url",
            server.endpoint,
        ]
        plain = [
            str(s5cmd_binary()),
            "--no-sign-request",
            "--endpoint-url",
            server.endpoint,
            "run",
            str(manifest),
        ]
        walls: dict[str, list[float]] = {"idc-sql": [], "s5cmd": []}
        got: dict[str, set[str]] = {}
        for i in range(RUNS + 1):  # the first round warms the caches and is not counted
            for name, argv in (("idc-sql", ours), ("s5cmd", plain)):
                dest = Path(tmp) / f"{name}-{i}"
                dest.mkdir()
                wall = timed([a.replace("{dest}", str(dest)) for a in argv], dest, env)
                if i:
                    walls[name].append(wall)
                got[name] = files(dest)
                shutil.rmtree(dest)
    same = got["idc-sql"] == got["s5cmd"]
    t_ours, t_plain = (statistics.median(walls[n]) for n in ("idc-sql", "s5cmd"))
    pairs = sorted(o / p for o, p in zip(walls["idc-sql"], walls["s5cmd"], strict=True))
    print(f"download: {SERIES} series, {len(got['s5cmd'])} objects; same files: {same}")
    print(
        f"  wall time   idc-sql download {t_ours:.3f} s   s5cmd run {t_plain:.3f} s   "
        f"ratio {t_ours / t_plain:.2f}x  (target <= 1.1x)"
    )
    print(
        f"  (run by run: {pairs[0]:.2f}-{pairs[-1]:.2f}x, median {statistics.median(pairs):.2f}x)"
    )
    if not same:
        raise SystemExit("the two downloads differ: the comparison is void")


if __name__ == "__main__":
    print(f"download benchmark ({RUNS} alternating runs each, moto S3 on 127.0.0.1)")
    main()
