"""End to end: `idc-sql run` writes a manifest that the real s5cmd downloads as it is.

S3 is moto's server on 127.0.0.1, holding the cohort's series laid out as IDC's buckets are
(``<bucket>/<crdc_series_uuid>/<instance>.dcm``).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import idc_sql

from .s5cmd import download_and_check
from .server import MotoS3

pytestmark = pytest.mark.s3

SPEC = {
    "name": "small-series",
    "where": {
        "all": [
            {"collection_id": ["rider_pilot", "lidc_idri", "qin_headneck"]},
            {"instanceCount": {"lte": 3}},
        ]
    },
    "columns": ["crdc_series_uuid", "instanceCount", "aws_bucket"],
    "limit": 6,
}


def _idc_sql(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "idc_sql.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        check=False,
    )


@pytest.mark.parametrize(
    "placed",
    [(), ("--destination", "data", "--layout", "{collection_id}/{SeriesInstanceUID}/")],
    ids=["default layout", "destination and layout"],
)
def test_manifest_downloads_the_cohort(
    moto_s3: MotoS3, tmp_path: Path, placed: tuple[str, ...]
) -> None:
    spec_file = tmp_path / "cohort.yaml"
    spec_file.write_text(yaml.safe_dump(SPEC))
    manifest = tmp_path / "cohort.s5cmd"
    done = _idc_sql("run", str(spec_file), "-o", str(manifest), *placed, cwd=tmp_path)
    assert done.returncode == 0, done.stderr

    table = idc_sql.run(spec_file).to_arrow()
    expected = dict(
        zip(
            table.column("crdc_series_uuid").to_pylist(),
            table.column("instanceCount").to_pylist(),
            strict=True,
        )
    )
    assert len(expected) == SPEC["limit"]
    files = download_and_check(manifest, expected, moto_s3, tmp_path)
    assert len(files) == sum(expected.values())
    # one folder per series: no two series share a folder
    folders = {f.parent for f in files}
    assert len(folders) == len(expected)
    if placed:
        assert all(f.parts[0] == "data" for f in files)
