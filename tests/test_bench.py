"""`make bench` runs every benchmark in bench/ (a script with a main; the plain baselines are
the scripts the benchmarks start). Nothing here runs a benchmark or measures time."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_make_bench_runs_every_benchmark() -> None:
    makefile = (ROOT / "Makefile").read_text()
    recipe = re.search(r"^bench:.*\n((?:\t.*\n)+)", makefile, re.MULTILINE)
    assert recipe is not None
    run = set(re.findall(r"bench/(\w+\.py)", recipe.group(1)))
    benchmarks = {
        p.name
        for p in (ROOT / "bench").glob("*.py")
        if 'if __name__ == "__main__":' in p.read_text()
    }
    assert benchmarks == {
        "run.py",
        "history.py",
        "lists.py",
        "templates.py",
        "sets.py",
        "download.py",
    }
    assert run == benchmarks
