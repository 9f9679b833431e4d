"""`idc-sql download` of a manifest-json against moto's S3 on 127.0.0.1: the same files as its
s5cmd form, and a series the index does not know checked against what the document says."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import pytest
import yaml

from .downloads import on_disk, real_series, run_cli, store
from .server import MotoS3, populate_sized

pytestmark = pytest.mark.s3


def test_a_manifest_json_downloads_what_its_s5cmd_form_does(
    moto_s3: MotoS3, tmp_path: Path
) -> None:
    series = real_series(2, 1100) + real_series(2, 1100, instances=(2, 3), max_mb=1.5)
    stored = store(moto_s3, series)
    spec = {"name": "four", "where": {"SeriesInstanceUID": [s.SeriesInstanceUID for s in series]}}
    (tmp_path / "four.yaml").write_text(yaml.safe_dump(spec))
    got = {}
    for name in ("four.s5cmd", "four.json"):
        done = run_cli(
            moto_s3, "run", "four.yaml", "-o", name, "--destination", "data", cwd=tmp_path
        )
        assert done.returncode == 0, done.stderr
        dest = tmp_path / f"dest-{name}"
        done = run_cli(
            moto_s3,
            "download",
            name,
            "--dest",
            str(dest),
            "--endpoint-url",
            moto_s3.endpoint,
            cwd=tmp_path,
        )
        assert done.returncode == 0, done.stderr
        assert "verified" in done.stdout
        got[name] = on_disk(dest)
    assert got["four.json"] == got["four.s5cmd"]
    assert sorted(got["four.json"].values()) == sorted(stored.values())
    # every file in its series' own folder under data/, as the document's destinations say
    doc = json.loads((tmp_path / "four.json").read_text())
    folders = {s["destination"].rstrip("/") for s in doc["series"]}
    assert {path.rsplit("/", 1)[0] for path in got["four.json"]} == folders


UNKNOWN = "00000000-0000-4000-8000-00000000abcd"


def _document(instances: int, size_bytes: int) -> str:
    series = {
        "crdc_series_uuid": UNKNOWN,
        "bucket": "idc-open-data",
        "url": f"s3://idc-open-data/{UNKNOWN}/*",
        "destination": f"data/{UNKNOWN}/",
        "instance_count": instances,
        "size_bytes": size_bytes,
    }
    provenance = {"cohort": "outside", "series": 1}
    return json.dumps({"provenance": provenance, "series": [series]}, indent=1)


def test_a_series_the_index_lacks_is_checked_against_the_document(
    moto_s3: MotoS3, tmp_path: Path
) -> None:
    with contextlib.closing(moto_s3.client()) as client:
        stored = populate_sized(client, [("idc-open-data", UNKNOWN, 2, 3000)])
    assert sum(len(b) for b in stored.values()) == 3000
    manifest = tmp_path / "outside.json"

    def download(dest: str) -> tuple[int, str, str]:
        done = run_cli(
            moto_s3,
            "download",
            str(manifest),
            "--dest",
            str(tmp_path / dest),
            "--endpoint-url",
            moto_s3.endpoint,
            cwd=tmp_path,
        )
        return done.returncode, done.stdout, done.stderr

    manifest.write_text(_document(3, 4500))  # one instance more than the bucket holds
    code, _, err = download("short")
    assert code == 1
    assert "2 of 3 instances on disk" in err
    assert "3,000 bytes on disk, 4,500 expected" in err
    assert "checked against what the manifest says they hold" in err

    manifest.write_text(_document(2, 3000))
    code, out, err = download("whole")
    assert code == 0, err
    assert "verified" in out
    assert len(on_disk(tmp_path / "whole")) == 2
    code, out, err = download("whole")  # complete: not fetched again
    assert code == 0, err
    assert "0 fetched" in out
    assert "1 already complete" in out
