"""The harness itself: manifests in IDC's format run by the real s5cmd against moto's S3."""

from __future__ import annotations

import re
import shutil
import subprocess
from contextlib import closing
from pathlib import Path

import duckdb
import idc_index_data
import pytest

from .s5cmd import (
    assert_offline_env,
    download_and_check,
    run_manifest,
    s5cmd_command,
    write_manifest,
)
from .server import MotoS3, populate_idc_layout

pytestmark = pytest.mark.s3

# Real (aws_bucket, crdc_series_uuid, instanceCount) rows of idc-index-data's idc_index.parquet.
WANTED = [
    ("idc-open-data", "00017985-48a5-4fc2-b44d-8a0e84133898", 2),
    ("idc-open-data", "00002c1a-3ac6-4074-9676-77cd63802673", 4),
    ("idc-open-data-two", "0304a739-0ffb-4f82-aabc-0bce004e6c4d", 3),
]
DECOYS = [  # stored next to WANTED but not in the manifest
    ("idc-open-data-two", "03096029-f9fe-43ea-b038-eb1337c40557", 5),
    ("idc-open-data-cr", "01bac696-beba-4eee-a103-c475f3f95873", 2),
]
PREFIX_DECOY = ("idc-open-data", "00017985-48a5-4fc2-b44d-8a0e84133898-decoy", 1)  # not real
PRESENT = ("idc-open-data-cr", "06844a86-dbde-48a2-8d69-767288334022", 2)
ABSENT = ("idc-open-data-cr", "000f5ea2-cfb3-436a-b515-c52aca7dd303", 1)  # never stored
E2E = [
    ("idc-open-data", "00050827-d0e5-48ef-a3aa-1f9455b3248e", 1),
    ("idc-open-data-cr", "0011e31c-66e5-46bd-a915-84a5687f0bff", 1),
]
HEADER = [
    "# Manifest written by idc-sql for the harness tests",
    "# s5cmd --no-sign-request --endpoint-url https://s3.amazonaws.com run <this file>",
    "#",
    "",
]


def cp(bucket: str, series: str, dest: str = ".") -> str:
    return f"cp s3://{bucket}/{series}/* {dest}"


def test_series_are_real_idc_index_rows() -> None:
    rows = WANTED + DECOYS + [PRESENT, ABSENT, *E2E]
    with duckdb.connect() as con:
        found = con.execute(
            "SELECT aws_bucket, crdc_series_uuid, instanceCount FROM read_parquet($path) "
            "WHERE crdc_series_uuid IN (SELECT unnest($uuids))",
            {"path": str(idc_index_data.IDC_INDEX_PARQUET_FILEPATH), "uuids": [r[1] for r in rows]},
        ).fetchall()
    assert sorted(found) == sorted(rows)


def test_header_and_series_download_exactly_those_series(moto_s3: MotoS3, tmp_path: Path) -> None:
    with closing(moto_s3.client()) as s3:
        keys = populate_idc_layout(s3, [*WANTED, *DECOYS, PREFIX_DECOY])
    manifest = write_manifest(tmp_path / "m.s5cmd", HEADER + [cp(b, s) for b, s, _ in WANTED])
    dest = tmp_path / "dest"
    dest.mkdir()

    result = run_manifest(manifest, dest, moto_s3)

    assert (result.returncode, result.stderr) == (0, "")
    # `cp s3://b/uuid/* .` copies flat: instance files straight into `.`, no series folder.
    wanted = {key.split("/")[1] for _, series, _ in WANTED for key in keys[series]}
    assert {p.name for p in dest.iterdir() if p.is_file()} == wanted
    assert len(list(dest.rglob("*"))) == 9
    assert len(result.stdout.splitlines()) == 9  # one `cp s3://… name.dcm` log line per object


def test_missing_series_exits_nonzero(moto_s3: MotoS3, tmp_path: Path) -> None:
    with closing(moto_s3.client()) as s3:
        populate_idc_layout(s3, [PRESENT])
    manifest = write_manifest(tmp_path / "m.s5cmd", [*HEADER, cp(*PRESENT[:2]), cp(*ABSENT[:2])])
    dest = tmp_path / "dest"
    dest.mkdir()

    result = run_manifest(manifest, dest, moto_s3)

    assert result.returncode == 1
    assert result.stderr == f'ERROR "{cp(*ABSENT[:2])}": no object found\n'
    assert len(list(dest.iterdir())) == PRESENT[2]  # the other lines still ran


@pytest.mark.parametrize(
    ("lines", "returncode", "stderr"),
    [
        pytest.param(
            ["#no space", "   # indented", "  ", "\t", cp(*PRESENT[:2])], 0, "", id="comments"
        ),
        pytest.param([f"{cp(*PRESENT[:2])}\r"], 0, "", id="crlf"),
        pytest.param([cp(*PRESENT[:2], "sub")], 0, "", id="dest-dir-without-slash"),
        pytest.param(
            [f"{cp(*PRESENT[:2])}  # trailing"], 1, "expected source and destination", id="trailing"
        ),
        pytest.param(  # an unknown command is reported, yet the exit code stays 0
            ["idc-sql manifest v1", cp(*PRESENT[:2])], 0, '"idc-sql" command', id="no-hash-header"
        ),
        pytest.param([cp("idc-no-such-bucket", PRESENT[1])], 1, "NoSuchBucket", id="no-bucket"),
    ],
)
def test_s5cmd_manifest_syntax(
    moto_s3: MotoS3, tmp_path: Path, lines: list[str], returncode: int, stderr: str
) -> None:
    with closing(moto_s3.client()) as s3:
        populate_idc_layout(s3, [PRESENT])
    dest = tmp_path / "dest"
    dest.mkdir()

    result = run_manifest(write_manifest(tmp_path / "m.s5cmd", lines), dest, moto_s3)

    assert result.returncode == returncode
    assert stderr in result.stderr if stderr else result.stderr == ""
    if returncode == 0:
        assert len([p for p in dest.rglob("*") if p.is_file()]) == PRESENT[2]


def test_s5cmd_env_cannot_reach_aws(moto_s3: MotoS3, tmp_path: Path) -> None:
    env = moto_s3.env()
    assert_offline_env(env, moto_s3.endpoint)  # the guard run_manifest applies before each run
    assert env["AWS_REGION"] == env["AWS_DEFAULT_REGION"] == "us-east-1"
    for var in ("AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "HOME"):
        assert Path(env[var]).is_relative_to(moto_s3.workdir)
    assert "testing" in Path(env["AWS_SHARED_CREDENTIALS_FILE"]).read_text()
    assert moto_s3.endpoint.startswith("http://127.0.0.1:")
    argv = s5cmd_command(tmp_path / "m.s5cmd", moto_s3)
    assert argv[1:5] == ["--endpoint-url", moto_s3.endpoint, "--numworkers", "4"]

    broken = [
        ({k: v for k, v in env.items() if k != "AWS_REGION"}, "AWS_REGION is not set"),
        ({**env, "AWS_PROFILE": "default"}, "AWS_PROFILE is set"),
        ({**env, "AWS_SECRET_ACCESS_KEY": "real"}, "AWS_SECRET_ACCESS_KEY"),
        ({**env, "AWS_CONFIG_FILE": str(Path.home() / ".aws/config")}, "AWS_CONFIG_FILE"),
        ({**env, "HTTPS_PROXY": "http://127.0.0.1:1"}, "HTTPS_PROXY is set"),
    ]
    for bad, message in broken:
        with pytest.raises(AssertionError, match=re.escape(message)):
            assert_offline_env(bad, moto_s3.endpoint)
    with pytest.raises(AssertionError, match="not a loopback"):
        assert_offline_env(env, "https://s3.amazonaws.com")


@pytest.mark.skipif(shutil.which("strace") is None, reason="strace is not installed")
def test_s5cmd_connects_only_to_loopback(moto_s3: MotoS3, tmp_path: Path) -> None:
    with closing(moto_s3.client()) as s3:
        populate_idc_layout(s3, WANTED)
    manifest = write_manifest(tmp_path / "m.s5cmd", HEADER + [cp(b, s) for b, s, _ in WANTED])
    trace = tmp_path / "connect.trace"
    env = moto_s3.env()
    assert_offline_env(env, moto_s3.endpoint)
    argv = ["strace", "-f", "-e", "trace=connect", "-o", str(trace)]
    argv += s5cmd_command(manifest, moto_s3)
    result = subprocess.run(argv, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=99)
    if not trace.exists() or "ptrace" in result.stderr:
        pytest.skip(f"strace cannot trace here: {result.stderr.strip()}")
    assert result.returncode == 0, result.stderr
    text = trace.read_text()
    addresses = {*re.findall(r'inet_addr\("([^"]+)"', text)}
    addresses |= {*re.findall(r'inet_pton\(AF_INET6, "([^"]+)"', text)}
    assert addresses == {"127.0.0.1"}


def test_download_and_check(moto_s3: MotoS3, tmp_path: Path) -> None:
    manifest = write_manifest(tmp_path / "m.s5cmd", HEADER + [cp(b, s) for b, s, _ in E2E])
    expected = {series: n for _, series, n in E2E}

    files = download_and_check(manifest, expected, moto_s3, tmp_path)

    assert len(files) == 2
    assert all(path.parent == Path() and path.suffix == ".dcm" for path in files)
    with pytest.raises(AssertionError, match="manifest lacks"):
        download_and_check(manifest, {**expected, ABSENT[1]: 1}, moto_s3, tmp_path)
    bad = write_manifest(tmp_path / "bad.s5cmd", ["idc-sql manifest", cp(*E2E[0][:2])])
    with pytest.raises(AssertionError, match="not a series line"):
        download_and_check(bad, {E2E[0][1]: 1}, moto_s3, tmp_path)
