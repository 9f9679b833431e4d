"""The real s5cmd reads manifests written from hostile values as they are: one copy per series,
every file inside the download folder, in the folder the manifest names.

S3 is moto's server on 127.0.0.1, holding each series as IDC's buckets do.
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
from pathlib import Path

import pytest
from hostile import HOSTILE, assert_under, read_manifest, result_of, row

from idc_sql.writers import write

from .s5cmd import download_and_check
from .server import MotoS3, instance_uuid, populate_idc_layout, venv_script

pytestmark = pytest.mark.s3

DRY_RUN_LINE = re.compile(r"cp (?P<source>s3://\S+) (?P<target>\S+)")


def _rows(salt: str) -> list[dict[str, object]]:
    """Every hostile value as a PatientID, then in every destination field of one series."""
    fields = ("collection_id", "PatientID", "StudyInstanceUID", "Modality")
    rows = [row(i, PatientID=v) for i, v in enumerate(HOSTILE)]
    n = len(rows)
    rows += [row(n + i, **dict.fromkeys(fields, v)) for i, v in enumerate(HOSTILE)]
    for r in rows:  # distinct series for each test: the server is shared
        r["crdc_series_uuid"] = r["crdc_series_uuid"][:-8] + salt
    return rows


def test_s5cmd_dry_run_reads_a_hostile_manifest_line_by_line(
    moto_s3: MotoS3, tmp_path: Path
) -> None:
    rows = _rows("0000d1ff")
    manifest = tmp_path / "hostile.s5cmd"
    write(result_of(rows), str(manifest), layout=None)
    lines = read_manifest(manifest.read_text()).lines
    with contextlib.closing(moto_s3.client()) as s3:
        populate_idc_layout(s3, [(b, u, 1) for b, u, _ in lines])
    work = tmp_path / "work"
    work.mkdir()
    env = moto_s3.env()
    done = subprocess.run(
        [str(venv_script("s5cmd")), "--dry-run", "--endpoint-url", moto_s3.endpoint, "run",
         str(manifest)],
        cwd=work, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "ERROR" not in done.stderr
    copies = [DRY_RUN_LINE.fullmatch(line) for line in done.stdout.splitlines()]
    assert all(copies), done.stdout
    wanted = {
        (f"s3://{b}/{u}/{instance_uuid(u, 0)}.dcm", f"{d}{instance_uuid(u, 0)}.dcm")
        for b, u, d in lines
    }
    assert {(m["source"], m["target"]) for m in copies if m} == wanted
    assert len(wanted) == len(rows)
    for _, _, d in lines:
        assert_under(d)
    assert list(work.iterdir()) == []  # a dry run writes nothing


def test_s5cmd_downloads_a_hostile_layout_into_its_folders(moto_s3: MotoS3, tmp_path: Path) -> None:
    rows = _rows("0000d0e1")
    manifest = tmp_path / "hostile.s5cmd"
    every = "{collection_id}/{PatientID}/{StudyInstanceUID}/{SeriesInstanceUID}_{crdc_series_uuid}"
    write(result_of(rows), str(manifest), destination="data", layout=every)
    expected = {str(r["crdc_series_uuid"]): 2 for r in rows}
    files = download_and_check(manifest, expected, moto_s3, tmp_path)
    assert len(files) == 2 * len(rows)
    assert {f.parts[0] for f in files} == {"data"}
    assert len({f.parent for f in files}) == len(rows)
    assert all(not part.startswith(".") for f in files for part in f.parts)
    assert all(os.sep not in part for f in files for part in f.parts)
