"""The download's parts that need no S3: folders, what s5cmd says, what is on disk."""

from __future__ import annotations

from pathlib import Path

import pytest

from idc_sql.downloads.disk import look, sweep
from idc_sql.downloads.items import Item
from idc_sql.downloads.layout import (
    check_distinct,
    component,
    default_folder,
    manifest_folder,
    own_folders,
)
from idc_sql.downloads.progress import duration
from idc_sql.downloads.transfer import Outcome, Transfer, s5cmd_binary
from idc_sql.downloads.verify import shortfall, state
from idc_sql.errors import DownloadError, UsageError
from idc_sql.manifests_in import Series

UUID = "0a0b0c0d-0000-4000-8000-000000000001"


@pytest.mark.parametrize(
    ("value", "folder"),
    [
        ("../../etc", ".._.._etc"),
        ("a/b\\c", "a_b_c"),
        ("x\x00y\ny", "x_y_y"),
        ("*?[]", "____"),
        ("ZZ RIDER 1", "ZZ_RIDER_1"),
        ("", "_"),
        (".", "_"),
        ("..", "_"),
        ("é", "_"),
        ("1.2.840.113654.2.55.1", "1.2.840.113654.2.55.1"),
        ("x" * 300, "x" * 200),
    ],
)
def test_values_become_safe_folder_names(value: str, folder: str) -> None:
    assert component(value) == folder


def test_the_default_layout() -> None:
    assert default_folder(UUID, "c", "p 1", "s/t", "..") == "c/p_1/s_t/_"
    assert default_folder(UUID, None, "p", "s", "t") == UUID


@pytest.mark.parametrize(
    ("destination", "folder"),
    [
        ("data/x/", "data/x"),
        ("./data//x/./", "data/x"),
        (".", ""),
        (None, None),
        ("../x", None),
        ("a/../../x", None),
        ("/abs/x", None),
        ("~/x", None),
        ("a b/", None),
        ("a*/", None),
    ],
)
def test_manifest_folders(destination: str | None, folder: str | None) -> None:
    assert manifest_folder(destination) == folder


def test_manifest_folders_are_kept_only_when_each_series_has_its_own() -> None:
    assert own_folders(["a/", "b/"])
    assert not own_folders([".", "."])
    assert not own_folders(["a/", "a"])
    assert not own_folders(["a/", None])
    assert not own_folders(["a/", "../b/"])


def test_two_series_in_one_folder_are_refused() -> None:
    with pytest.raises(UsageError, match=r"series u1 \(line 1\) and u2 \(line 7\) would both"):
        check_distinct({"u1": ("f", "line 1"), "u2": ("f", "line 7"), "u3": ("g", "line 9")})


def _said(*lines: str) -> tuple[Outcome, list[tuple[str, int]]]:
    outcome, objects = Outcome(), []
    transfer = Transfer("http://127.0.0.1:9", retries=3)
    for line in lines:
        transfer._line(line, outcome, lambda u, n: objects.append((u, n)))
    return outcome, objects


def test_what_s5cmd_says_is_read_by_series() -> None:
    outcome, objects = _said(
        '{"operation":"cp","success":true,"source":"s3://b/' + UUID + '/x.dcm",'
        '"destination":"d/x.dcm","object":{"type":"file","size":123}}',
        '{"operation":"cp","command":"cp s3://b/' + UUID + '/* d/","error":"no object found"}',
        "not json",
    )
    assert objects == [(UUID, 123)]
    assert outcome.failures == {UUID: ["no object found"]}
    assert outcome.other == ["not json"]


def test_an_unreachable_endpoint_stops_the_download() -> None:
    line = (
        '{"operation":"cp","command":"cp s3://b/' + UUID + '/* d/","error":"RequestError: '
        'send request failed caused by: Get \\"http://127.0.0.1:9/b\\": dial tcp 127.0.0.1:9: '
        'connect: connection refused"}'
    )
    with pytest.raises(DownloadError) as raised:
        _said(line)
    assert str(raised.value) == (
        "cannot reach http://127.0.0.1:9: dial tcp 127.0.0.1:9: connect: connection refused "
        "(after 3 retries); what arrived is kept, and the same command resumes"
    )


def _item(instances: int | None, size: int, tolerance: int = 0) -> Item:
    series = Series(UUID, True, 1, 25, "c", "b", None, instances, size, tolerance, *[None] * 6)
    return Item(UUID, "b", "f", "line 1", series)


def test_what_a_series_still_needs(tmp_path: Path) -> None:
    assert state(_item(2, 20), look(tmp_path / "none")) == "absent"
    (tmp_path / "a.dcm").write_bytes(b"x" * 10)
    assert state(_item(2, 20), look(tmp_path)) == "partial"
    assert shortfall(_item(2, 20), look(tmp_path)) == [
        "1 of 2 instances on disk",
        "10 bytes on disk, 20 expected (20 B)",
    ]
    (tmp_path / "b.dcm").write_bytes(b"x" * 10)
    (tmp_path / "notes.txt").write_bytes(b"x" * 99)  # not a series file
    assert state(_item(2, 20), look(tmp_path)) == "complete"
    assert state(_item(None, 5020, tolerance=5000), look(tmp_path)) == "complete"
    assert state(_item(None, 5021, tolerance=5000), look(tmp_path)) == "partial"


def test_leftovers_of_an_interrupted_s5cmd_are_swept(tmp_path: Path) -> None:
    for name in ("a.dcm", "a.dcm1234567", "b.dcm99", "c.txt1", "dcm5"):
        (tmp_path / name).write_bytes(b"x")
    assert look(tmp_path) == (1, 1, 2)
    assert sweep(tmp_path) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.dcm", "c.txt1", "dcm5"]


def test_durations() -> None:
    assert [duration(s) for s in (0.4, 59.6, 61, 3600 * 2 + 125)] == [
        "0 s",
        "1 min 0 s",
        "1 min 1 s",
        "2 h 2 min",
    ]


def test_the_s5cmd_of_the_package_is_used() -> None:
    binary = s5cmd_binary()
    assert binary.parent.name == "bin"
    assert binary.parent.parent.name == "s5cmd"
