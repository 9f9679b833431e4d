"""moto's S3 server on 127.0.0.1 as a subprocess, and IDC's bucket layout inside it."""

from __future__ import annotations

import http.client
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from types import TracebackType
from typing import IO, Any

import boto3
from botocore.config import Config

HOST = "127.0.0.1"
REGION = "us-east-1"
FAKE_KEY_ID = "testing"
FAKE_SECRET = "testing"  # moto accepts any credentials
# Variables that could send a child to a real account, profile or proxy; dropped from env().
_PROXY_VARS = ("http_proxy", "https_proxy", "all_proxy", "no_proxy")
# Namespace for deterministic fake crdc_instance_uuid values.
_INSTANCE_NS = uuid.UUID("6b1f0c52-2d4e-4a7e-9a51-3c1d5e0f7a10")
PREAMBLE = b"\0" * 128 + b"DICM"  # a DICOM file's 128-byte preamble and magic
# boto3 builds its clients at run time and the venv has no boto3 stubs.
S3Client = Any


def venv_script(name: str) -> Path:
    """A console script installed next to the running interpreter (the project venv's bin/)."""
    path = Path(sys.executable).parent / name
    if not path.is_file():
        raise FileNotFoundError(
            f"{name} not found next to {sys.executable}; install the dev extras: "
            "pip install -e '.[dev]'"
        )
    return path


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def _answers(port: int) -> bool:
    conn = http.client.HTTPConnection(HOST, port, timeout=1)  # no proxy lookup, unlike urllib
    try:
        conn.request("GET", "/")
        return conn.getresponse().status == 200
    except OSError:
        return False
    finally:
        conn.close()


class MotoS3:
    """``with MotoS3() as s3:`` runs ``moto_server`` on a free loopback port during the block."""

    def __init__(self, startup_timeout: float = 30.0, stop_grace: float = 5.0) -> None:
        self.startup_timeout = startup_timeout
        self.stop_grace = stop_grace
        self.port = 0
        self.workdir = Path()
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def endpoint(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.workdir / "moto_server.log"

    def __enter__(self) -> MotoS3:
        self.workdir = Path(tempfile.mkdtemp(prefix="idc-sql-moto-"))
        (self.workdir / "aws").mkdir()
        (self.workdir / "aws" / "config").write_text(f"[default]\nregion = {REGION}\n")
        (self.workdir / "aws" / "credentials").write_text(
            f"[default]\naws_access_key_id = {FAKE_KEY_ID}\naws_secret_access_key = {FAKE_SECRET}\n"
        )
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _start(self) -> None:
        self.port = _free_port()
        self._log = self.log_path.open("wb")  # a file, not a pipe: moto logs every request
        self._proc = subprocess.Popen(
            [str(venv_script("moto_server")), "-H", HOST, "-p", str(self.port)],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=self.env(),
            cwd=self.workdir,
            start_new_session=True,
        )
        deadline = time.monotonic() + self.startup_timeout
        while not _answers(self.port):
            if self._proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    f"moto_server did not answer on {self.endpoint}:\n"
                    + self.log_path.read_text(errors="replace")
                )
            time.sleep(0.1)

    def stop(self) -> None:
        """Terminate the server (its whole process group), kill it after the grace period."""
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(self.stop_grace)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        if self._log is not None:
            self._log.close()
            self._log = None
        if self.workdir != Path():
            shutil.rmtree(self.workdir, ignore_errors=True)

    def env(self) -> dict[str, str]:
        """Environment for a child process that can only ever reach this server.

        Every ``AWS_*`` and proxy variable of ours is dropped; fake credentials, a fixed region
        (so s5cmd never asks AWS where a bucket lives), the endpoint, and config files plus
        ``HOME`` inside this server's temporary directory (so no ``~/.aws`` is read) are set.
        """
        aws = self.workdir / "aws"
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith("AWS_") and k.lower() not in _PROXY_VARS
        }
        env.update(
            AWS_ACCESS_KEY_ID=FAKE_KEY_ID,
            AWS_SECRET_ACCESS_KEY=FAKE_SECRET,
            AWS_REGION=REGION,
            AWS_DEFAULT_REGION=REGION,
            AWS_CONFIG_FILE=str(aws / "config"),
            AWS_SHARED_CREDENTIALS_FILE=str(aws / "credentials"),
            AWS_EC2_METADATA_DISABLED="true",
            AWS_ENDPOINT_URL=self.endpoint,
            AWS_ENDPOINT_URL_S3=self.endpoint,
            S3_ENDPOINT_URL=self.endpoint,  # s5cmd's own default for --endpoint-url
            HOME=str(self.workdir),
            NO_PROXY=f"{HOST},localhost",
            no_proxy=f"{HOST},localhost",
        )
        return env

    def client(self) -> S3Client:
        """A boto3 S3 client bound to this server; close it (``contextlib.closing``) when done."""
        session = boto3.session.Session(
            aws_access_key_id=FAKE_KEY_ID,
            aws_secret_access_key=FAKE_SECRET,
            region_name=REGION,
        )
        # An explicit proxies mapping stops botocore from consulting *_PROXY variables.
        config = Config(proxies={"https": ""})
        return session.client("s3", endpoint_url=self.endpoint, config=config)

    def reset(self) -> None:
        """Drop every bucket and object (moto's own reset API)."""
        conn = http.client.HTTPConnection(HOST, self.port, timeout=10)
        try:
            conn.request("POST", "/moto-api/reset")
            status = conn.getresponse().status
        finally:
            conn.close()
        if status != 200:
            raise RuntimeError(f"moto reset answered {status}")


def instance_uuid(crdc_series_uuid: str, index: int) -> str:
    """Deterministic fake crdc_instance_uuid of a series' index-th instance."""
    return str(uuid.uuid5(_INSTANCE_NS, f"{crdc_series_uuid}/{index}"))


def instance_body(crdc_instance_uuid: str) -> bytes:
    """Small deterministic object content: fake preamble, ``DICM``, then the instance uuid."""
    return PREAMBLE + crdc_instance_uuid.encode()


def populate_idc_layout(
    client: S3Client, series: list[tuple[str, str, int]]
) -> dict[str, list[str]]:
    """Store each (aws_bucket, crdc_series_uuid, n) as ``uuid/<instance-uuid>.dcm`` objects.

    Buckets are created as needed. A series ends up with exactly its n instances (objects left
    under its prefix by an earlier call are deleted). Returns crdc_series_uuid -> object keys.
    """
    existing = {b["Name"] for b in client.list_buckets().get("Buckets", [])}
    keys: dict[str, list[str]] = {}
    for bucket, series_uuid, n in series:
        if bucket not in existing:
            client.create_bucket(Bucket=bucket)
            existing.add(bucket)
        wanted = {f"{series_uuid}/{instance_uuid(series_uuid, i)}.dcm" for i in range(n)}
        listed = client.list_objects_v2(Bucket=bucket, Prefix=f"{series_uuid}/")
        for obj in listed.get("Contents", []):
            if obj["Key"] not in wanted:
                client.delete_object(Bucket=bucket, Key=obj["Key"])
        for key in sorted(wanted):
            body = instance_body(key.split("/")[1].removesuffix(".dcm"))
            client.put_object(Bucket=bucket, Key=key, Body=body, ACL="public-read")
        keys[series_uuid] = sorted(wanted)
    return keys


def sized_bodies(crdc_series_uuid: str, n: int, total: int) -> dict[str, bytes]:
    """Object key -> body of a series of ``n`` instances holding ``total`` bytes in all.

    Each body is the instance's usual content (:func:`instance_body`), cut or padded with zero
    bytes to its share of ``total`` (the first takes the remainder), so that a download can be
    checked against the size the index gives for a real series.
    """
    share, extra = divmod(total, n)
    bodies = {}
    for i in range(n):
        instance = instance_uuid(crdc_series_uuid, i)
        length = share + (extra if i == 0 else 0)
        body = instance_body(instance)[:length]
        bodies[f"{crdc_series_uuid}/{instance}.dcm"] = body + b"\0" * (length - len(body))
    return bodies


def populate_sized(client: S3Client, series: list[tuple[str, str, int, int]]) -> dict[str, bytes]:
    """Store each (bucket, crdc_series_uuid, n, total_bytes) as n public objects of
    :func:`sized_bodies`; returns every key stored (``bucket/key``) -> body."""
    existing = {b["Name"] for b in client.list_buckets().get("Buckets", [])}
    stored = {}
    for bucket, series_uuid, n, total in series:
        if bucket not in existing:
            client.create_bucket(Bucket=bucket)
            existing.add(bucket)
        for key, body in sized_bodies(series_uuid, n, total).items():
            client.put_object(Bucket=bucket, Key=key, Body=body, ACL="public-read")
            stored[f"{bucket}/{key}"] = body
    return stored
