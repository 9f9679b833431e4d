"""Helpers of the download tests: real series of the index, stored with their real sizes in
moto, ``idc-sql download`` run against it, and moto's request log read back."""

from __future__ import annotations

import contextlib
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb

from idc_sql.engines.local import index_dir

from .s5cmd import assert_offline_env
from .server import MotoS3, populate_sized

#: a request in moto's log (colours around it for some statuses): method, path
_REQUEST = re.compile(r'"(?:\x1b\[[0-9;]*m)*(GET|HEAD|PUT|POST|DELETE) (/[^ ?"]*)')


@dataclass(frozen=True)
class Real:
    """A series of the installed index, as a download must find it."""

    bucket: str
    crdc_series_uuid: str
    instances: int
    size_bytes: int
    collection_id: str
    PatientID: str
    StudyInstanceUID: str
    SeriesInstanceUID: str

    @property
    def folder(self) -> str:
        return "/".join(
            (self.collection_id, self.PatientID, self.StudyInstanceUID, self.SeriesInstanceUID)
        )

    def line(self, destination: str = ".") -> str:
        return f"cp s3://{self.bucket}/{self.crdc_series_uuid}/* {destination}"


def real_series(
    n: int,
    offset: int,
    *,
    instances: tuple[int, int] = (1, 1),
    max_mb: float = 0.05,
    bucket: str | None = None,
) -> list[Real]:
    """``n`` series of the index with that many instances and at most ``max_mb``, in uuid
    order from ``offset`` (tests share one server: each takes its own slice)."""
    query = (
        "SELECT aws_bucket, crdc_series_uuid, instanceCount, "
        "CAST(round(series_size_MB * 1e6) AS BIGINT), collection_id, PatientID, "
        "StudyInstanceUID, SeriesInstanceUID FROM read_parquet($path) "
        "WHERE instanceCount BETWEEN $lo AND $hi AND series_size_MB <= $mb "
        "AND aws_bucket = coalesce($bucket, aws_bucket) "
        "ORDER BY crdc_series_uuid LIMIT $n OFFSET $offset"
    )
    params = {
        "path": str(index_dir() / "idc_index.parquet"),
        "lo": instances[0],
        "hi": instances[1],
        "mb": max_mb,
        "n": n,
        "offset": offset,
        "bucket": bucket,
    }
    with duckdb.connect() as con:
        return [Real(*row) for row in con.execute(query, params).fetchall()]


def store(server: MotoS3, series: list[Real]) -> dict[str, bytes]:
    """Store each series as its instance count of public objects, of its real size in all;
    returns ``bucket/key`` -> body."""
    with contextlib.closing(server.client()) as client:
        return populate_sized(
            client,
            [(s.bucket, s.crdc_series_uuid, s.instances, s.size_bytes) for s in series],
        )


def run_cli(
    server: MotoS3, *args: str, cwd: Path, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run the idc-sql command with an environment that can reach the server only."""
    env = server.env()
    assert_offline_env(env, server.endpoint)
    return subprocess.run(
        [sys.executable, "-m", "idc_sql.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=timeout,
        check=False,
    )


def log_size(server: MotoS3) -> int:
    return server.log_path.stat().st_size


def requests_since(server: MotoS3, offset: int) -> list[tuple[str, str]]:
    """(method, path) of every request moto logged after ``offset`` bytes of its log."""
    with server.log_path.open("rb") as log:
        log.seek(offset)
        text = log.read().decode(errors="replace")
    return [(m[1], m[2]) for m in _REQUEST.finditer(text)]


def on_disk(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` by its path relative to it."""
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def expected_files(series: list[Real], stored: dict[str, bytes]) -> dict[str, bytes]:
    """The files a download of ``series`` in the default layout must leave, with contents."""
    files = {}
    for s in series:
        for key, body in stored.items():
            bucket, uuid, name = key.split("/")
            if uuid == s.crdc_series_uuid and bucket == s.bucket:
                files[f"{s.folder}/{name}"] = body
    return files


def delete(server: MotoS3, key: str) -> None:
    """Remove the object ``bucket/key`` from the server."""
    bucket, _, name = key.partition("/")
    with contextlib.closing(server.client()) as client:
        client.delete_object(Bucket=bucket, Key=name)
