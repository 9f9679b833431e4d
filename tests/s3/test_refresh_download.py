"""The scheduling examples of docs/refresh.md, run for real: the refresh script, the cron line
and the systemd service's command refresh a cohort and download what changed with the real
s5cmd, from moto's S3 laid out like IDC's buckets."""

from __future__ import annotations

import csv
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import duckdb
import idc_index_data
import pytest
import yaml

from .server import MotoS3, instance_uuid, populate_idc_layout, venv_script

pytestmark = pytest.mark.s3

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
EXAMPLES = DOCS / "examples"
#: the folder the examples use
SITE = "/srv/cohorts"
#: htan_ohsu's PR and SM series: some added, some removed, some revised from v24 to v25
SPEC = {"name": "ohsu", "where": {"collection_id": "htan_ohsu", "Modality": ["PR", "SM"]}}


def _versions() -> dict[str, tuple[str, str]]:
    """crdc_series_uuid -> (aws_bucket, collection_id) of every version of the cohort's
    series at v24 or v25 (the current ones and those prior_versions_index keeps)."""
    query = """
        SELECT crdc_series_uuid, aws_bucket, collection_id FROM read_parquet($index)
        WHERE collection_id = 'htan_ohsu' AND Modality IN ('PR', 'SM')
        UNION
        SELECT crdc_series_uuid, aws_bucket, collection_id FROM read_parquet($prior)
        WHERE collection_id = 'htan_ohsu' AND Modality IN ('PR', 'SM')
          AND max_idc_version >= 24
    """
    params = {
        "index": str(idc_index_data.IDC_INDEX_PARQUET_FILEPATH),
        "prior": str(idc_index_data.PRIOR_VERSIONS_INDEX_PARQUET_FILEPATH),
    }
    with duckdb.connect() as connection:
        rows = connection.execute(query, params).fetchall()
    return {uuid: (bucket, collection) for uuid, bucket, collection in rows}


def _public(bucket: str) -> str:
    """A policy that lets anyone list and read ``bucket`` without signing (--no-sign-request)."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": "*",
                    "Action": ["s3:GetObject", "s3:ListBucket"],
                    "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
                }
            ],
        }
    )


def _fetched(manifest: Path) -> set[str]:
    return {
        line.split()[1].split("/")[3]
        for line in manifest.read_text().splitlines()
        if line.startswith("cp ")
    }


def _cron_command() -> str:
    """The command of the first cron line of docs/refresh.md."""
    text = (DOCS / "refresh.md").read_text()
    block = re.search(r"```cron\n(.*?)```", text, re.S)
    assert block is not None
    line = next(x for x in block.group(1).splitlines() if x and not x.startswith("#"))
    return line.split(None, 5)[5]


def _exec_start() -> str:
    text = (EXAMPLES / "idc-sql-refresh.service").read_text()
    return next(x for x in text.splitlines() if x.startswith("ExecStart="))[len("ExecStart=") :]


def test_the_examples_refresh_and_download_what_changed(moto_s3: MotoS3, tmp_path: Path) -> None:
    versions = _versions()
    with closing(moto_s3.client()) as s3:
        populate_idc_layout(s3, [(bucket, uuid, 1) for uuid, (bucket, _) in versions.items()])
        for bucket in {bucket for bucket, _ in versions.values()}:  # public, as IDC's are
            s3.put_bucket_policy(Bucket=bucket, Policy=_public(bucket))
    site = tmp_path / "site"
    (site / "specs").mkdir(parents=True)
    (site / "specs" / "ohsu.yaml").write_text(yaml.safe_dump(SPEC))
    shutil.copy(EXAMPLES / "refresh-cohorts.sh", site)
    bin_dir = tmp_path / "bin"  # what the examples expect on PATH: idc-sql and s5cmd
    bin_dir.mkdir()
    (bin_dir / "idc-sql").symlink_to(Path(sys.executable).with_name("idc-sql"))
    (bin_dir / "s5cmd").symlink_to(venv_script("s5cmd"))
    env = {
        **moto_s3.env(),
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "S3_ENDPOINT": moto_s3.endpoint,
    }

    def shell(command: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["/bin/sh", "-c", command.replace(SITE, str(site))],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )

    def downloaded() -> set[str]:
        """The crdc_series_uuid of each series folder (the default layout's last folder is
        <Modality>_<crdc_series_uuid>)."""
        data = site / "data"
        return {p.parent.name.rpartition("_")[2] for p in data.rglob("*.dcm")}

    # the cohort as v24 had it, downloaded whole
    first = shell(f"cd {SITE} && ./refresh-cohorts.sh specs state data --idc-version 24")
    assert first.returncode == 0, first.stderr
    (v24,) = (site / "state" / "ohsu").glob("001-v24-*")
    assert downloaded() == _fetched(v24 / "fetch.s5cmd")
    for file in (site / "data").rglob("*.dcm"):
        uuid = file.parent.name.rpartition("_")[2]
        assert [p.name for p in file.parent.iterdir()] == [f"{instance_uuid(uuid, 0)}.dcm"]

    # the cron line: v25 (the installed release) downloads the added series and the new
    # versions of the revised ones, beside what was there
    second = shell(_cron_command())
    assert second.returncode == 0
    log = (site / "state" / "cron.log").read_text()
    assert "downloading" in log
    (v25,) = (site / "state" / "ohsu").glob("002-v25-*")
    fetched = _fetched(v25 / "fetch.s5cmd")
    assert fetched
    assert downloaded() == _fetched(v24 / "fetch.s5cmd") | fetched
    text = (v25 / "revised.csv").read_text().splitlines()
    revised = list(csv.DictReader(line for line in text if not line.startswith("#")))
    assert revised
    for row in revised:  # the new version fetched; the old one is what v24 downloaded
        assert row["crdc_series_uuid"] in fetched
        assert row["from_crdc_series_uuid"] in _fetched(v24 / "fetch.s5cmd")

    # the systemd service's command: nothing changed since, nothing is downloaded
    service_env = dict(
        x.split("=", 1)
        for x in shlex.split(
            next(
                line
                for line in (EXAMPLES / "idc-sql-refresh.service").read_text().splitlines()
                if line.startswith("Environment=")
            )[len("Environment=") :]
        )
    )
    env.update(
        {k: str(bin_dir / Path(v).name) for k, v in service_env.items()}  # IDC_SQL, S5CMD
    )
    before = downloaded()
    third = shell(_exec_start())
    assert third.returncode == 0, third.stderr
    assert third.stdout.strip() == "no cohort changed"
    assert downloaded() == before
