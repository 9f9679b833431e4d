"""`make bench`: idc-sql against a plain DuckDB script, measured in the same run.

1. A cold ``idc-sql run`` of the reference cohort (NLST chest CT, 194,327 series in IDC v25,
   written as an s5cmd manifest) against ``plain_baseline.py``, which runs the same query on the
   same parquet with DuckDB and writes the same lines. Runs alternate, each in a new process;
   the figures are medians of wall time and of each process's peak resident memory, and their
   ratios (target: at most 1.2x in both).
2. Compiling a specification (parse, check, render), median of many runs (target: under 5 ms).
3. ``import idc_sql`` must not load google-cloud-bigquery or pandas; its cost is reported.

Nothing here is asserted on time: the numbers are printed for people to read.
"""

from __future__ import annotations

import compileall
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SPEC = ROOT / "queries" / "examples" / "nlst-chest-ct.yaml"
BIN = Path(sys.executable).parent
RUNS = int(os.environ.get("BENCH_RUNS", "15"))


def measure(argv: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of one child process."""
    wall, memory, _ = usage(argv)
    return wall, memory


def usage(argv: list[str]) -> tuple[float, float, float]:
    """Wall seconds, peak RSS (MiB) and CPU seconds (user and system) of one child process."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=ROOT)
    _, status, rusage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        assert proc.stderr is not None
        raise SystemExit(f"{argv[0]} failed: {proc.stderr.read().decode()}")
    return wall, rusage.ru_maxrss / 1024, rusage.ru_utime + rusage.ru_stime


def compare(
    label: str, ours_cmd: list[str], plain_cmd: list[str], target: str, runs: int = RUNS
) -> tuple[float, float]:
    """Alternating runs of both commands; print medians, ratios and the run-by-run spread.

    CPU time (user and system) is printed too: on a machine shared with other jobs it varies
    much less than wall time. Returns the wall-time and peak-memory ratios of the medians."""
    measure(ours_cmd), measure(plain_cmd)  # warm the page cache for both alike
    ours, plain = [], []
    for _ in range(runs):
        ours.append(usage(ours_cmd))
        plain.append(usage(plain_cmd))
    t_ours, t_plain = (statistics.median(w for w, _, _ in s) for s in (ours, plain))
    m_ours, m_plain = (statistics.median(m for _, m, _ in s) for s in (ours, plain))
    c_ours, c_plain = (statistics.median(c for _, _, c in s) for s in (ours, plain))
    pairs = sorted(o[0] / p[0] for o, p in zip(ours, plain, strict=True))
    print(f"  {label}")
    print(
        f"    wall time   {t_ours:.2f} s against {t_plain:.2f} s   "
        f"ratio {t_ours / t_plain:.2f}x  ({target}; run by run {pairs[0]:.2f}-{pairs[-1]:.2f}x)"
    )
    print(f"    cpu time    {c_ours:.2f} s against {c_plain:.2f} s   ratio {c_ours / c_plain:.2f}x")
    print(
        f"    peak memory {m_ours:.0f} MiB against {m_plain:.0f} MiB   "
        f"ratio {m_ours / m_plain:.2f}x  ({target})"
    )
    return t_ours / t_plain, m_ours / m_plain


def body(path: Path) -> list[str]:
    return [line for line in path.read_text().splitlines() if not line.startswith("#")]


def cohort_run() -> None:
    # An installed package runs from compiled bytecode (pip compiles a wheel's modules when it
    # installs them); an editable checkout gets it on first import, unless
    # PYTHONDONTWRITEBYTECODE is set. Compile it here so that both sides start alike.
    compileall.compile_dir(ROOT / "idc_sql", quiet=1)
    with tempfile.TemporaryDirectory() as tmp:
        ours_out, plain_out = Path(tmp) / "ours.s5cmd", Path(tmp) / "plain.s5cmd"
        ours_cmd = [str(BIN / "idc-sql"), "run", str(SPEC), "-o", str(ours_out)]
        plain_cmd = [sys.executable, str(HERE / "plain_baseline.py"), str(plain_out)]
        measure(ours_cmd), measure(plain_cmd)  # warm the page cache for both alike
        ours, plain = [], []
        for _ in range(RUNS):
            ours.append(measure(ours_cmd))
            plain.append(measure(plain_cmd))
        same = body(ours_out) == body(plain_out)
        lines = len(body(ours_out))
    t_ours = statistics.median(w for w, _ in ours)
    t_plain = statistics.median(w for w, _ in plain)
    m_ours = statistics.median(m for _, m in ours)
    m_plain = statistics.median(m for _, m in plain)
    print(f"reference cohort: {lines:,} manifest lines; same lines as the baseline: {same}")
    print(
        f"  wall time   idc-sql {t_ours:.3f} s   plain {t_plain:.3f} s   "
        f"ratio {t_ours / t_plain:.2f}x  (target <= 1.2x)"
    )
    pairs = sorted(o / p for (o, _), (p, _) in zip(ours, plain, strict=True))
    print(
        f"  (each run against the baseline run after it: ratio {statistics.median(pairs):.2f}x "
        f"median, {pairs[0]:.2f}-{pairs[-1]:.2f}x range: the machine's noise)"
    )
    print(
        f"  peak memory idc-sql {m_ours:.0f} MiB   plain {m_plain:.0f} MiB   "
        f"ratio {m_ours / m_plain:.2f}x  (target <= 1.2x)"
    )
    if not same:
        raise SystemExit("the manifests differ: the comparison is void")


def compile_time() -> None:
    sys.path.insert(0, str(ROOT))
    import idc_sql
    from idc_sql.compiler import compile_plan
    from idc_sql.plan import plan
    from idc_sql.release import Release
    from idc_sql.targets import target

    spec = idc_sql.load_spec(SPEC)
    big = idc_sql.parse_spec(
        {
            "name": "big",
            "where": {
                "all": [
                    {"collection_id": ["nlst", "tcga_luad", "tcga_lusc"]},
                    {"Modality": {"in": ["CT", "PT"]}},
                    {
                        "any": [
                            {"Manufacturer": {"ilike": "%siemens%"}},
                            {"not": {"SeriesDescription": {"regex": "scout|localizer"}}},
                        ]
                    },
                    {"study_has": {"Modality": "SEG"}},
                    {"patient_has": {"patient_age_years": {"between": [50, 80]}}},
                ]
            },
            "order_by": ["-series_size_MB"],
            "limit": 100,
        }
    )
    for label, s in (("reference spec", spec), ("nested spec", big)):
        for engine in ("local", "bigquery"):
            release = Release(25, "idc_v25", "the benchmark", requested=25)
            samples = []
            for _ in range(200):
                t = time.perf_counter()
                compile_plan(plan(s, target(engine), release)).sql  # noqa: B018
                samples.append(time.perf_counter() - t)
            print(
                f"  compile {label:15s} {engine:8s} "
                f"median {statistics.median(samples) * 1e3:.2f} ms"
                "  (target < 5 ms)"
            )


def import_cost() -> None:
    code = (
        "import sys, time; t = time.perf_counter(); import idc_sql; "
        "d = time.perf_counter() - t; "
        "heavy = sorted(m for m in ('google.cloud.bigquery', 'pandas', 'pyarrow', 'duckdb', "
        "'pydantic', 'sqlglot') if m in sys.modules); print(f'{d * 1e3:.1f}', ','.join(heavy))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    ).stdout.split()
    heavy = out[1] if len(out) > 1 else "none"
    print(f"  import idc_sql: {out[0]} ms; heavy modules loaded: {heavy}")


if __name__ == "__main__":
    print(f"idc-sql benchmark ({RUNS} alternating cold runs each)")
    cohort_run()
    compile_time()
    import_cost()
