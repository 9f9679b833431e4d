"""`make bench`, set specifications: each set's memory against its largest member's.

A = every series of eight common modalities (about 739,000 series of IDC v25), B = every NLST
series (about 592,000). ``except: [A, B]`` (about 404,000 series), ``intersect: [A, B]`` and
``union: [A, B]`` are each run as ``idc-sql run SPEC -o out.s5cmd`` and compared with A run
alone, the largest member. Runs alternate, each in a new process; medians of wall time and peak
resident memory. Target: a set peaks at most 1.5x the memory of its largest member alone.
Nothing here is asserted on time.

Each set's manifest must hold exactly the series the set operation gives on the two members'
own manifests (checked by crdc_series_uuid).
"""

from __future__ import annotations

import compileall
import os
import subprocess
import tempfile
from pathlib import Path

from run import BIN, ROOT, compare

RUNS = int(os.environ.get("BENCH_RUNS", "5"))
SPECS = {
    "a.yaml": "name: common-modalities\nwhere:\n  Modality: [CT, MR, SM, PT, SEG, DX, CR, MG]\n",
    "b.yaml": "name: nlst\nwhere:\n  collection_id: nlst\n",
    "except.yaml": "name: common-modalities-but-nlst\nexcept: [a.yaml, b.yaml]\n",
    "intersect.yaml": "name: common-modalities-of-nlst\nintersect: [a.yaml, b.yaml]\n",
    "union.yaml": "name: common-modalities-or-nlst\nunion: [a.yaml, b.yaml]\n",
}


def series(manifest: Path) -> set[str]:
    """The crdc_series_uuids of an s5cmd manifest's lines."""
    found = set()
    for line in manifest.read_text().splitlines():
        if line.startswith("cp "):
            found.add(line.split()[1].split("/")[3])
    return found


def main() -> None:
    compileall.compile_dir(ROOT / "idc_sql", quiet=1)
    print(f"idc-sql set specifications ({RUNS} alternating cold runs each)")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        commands = {}
        for name, text in SPECS.items():
            (folder / name).write_text(text)
            out = folder / name.replace(".yaml", ".s5cmd")
            commands[name] = [str(BIN / "idc-sql"), "run", str(folder / name), "-o", str(out)]
            subprocess.run(commands[name], capture_output=True, check=True)
        # measured before the manifests are read here: a child's peak memory counts the memory
        # this process held when it started the child
        for op in ("except", "intersect", "union"):
            compare(
                f"{op}: [A, B] against A alone (its largest member)",
                commands[f"{op}.yaml"],
                commands["a.yaml"],
                "memory <= 1.5x",
                runs=RUNS,
            )
        a, b = series(folder / "a.s5cmd"), series(folder / "b.s5cmd")
        print(f"A {len(a):,} series, B {len(b):,}")
        expected = {"except": a - b, "intersect": a & b, "union": a | b}
        for op, want in expected.items():
            got = series(folder / f"{op}.s5cmd")
            print(f"{op}: [A, B] {len(got):,} series; as the members' manifests say: {got == want}")
            if got != want:
                raise SystemExit(f"the {op} is wrong: the comparisons above are void")


if __name__ == "__main__":
    main()
