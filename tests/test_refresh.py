"""``idc-sql refresh`` and ``idc-sql history`` on the local engine, checked against the releases
computed independently from the installed index's version columns and prior_versions_index."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
import yaml
from refresh_support import COLLECTIONS, delta, manifest_lines, manifest_series, served, table

import idc_sql
from idc_sql.cli import main
from idc_sql.history.state import State

SPEC = {"name": "three", "where": {"collection_id": COLLECTIONS}}
#: with a Modality condition: PR series were added and removed, SM series revised
SPEC_SM = {"name": "three-pr-sm", "where": {"collection_id": COLLECTIONS, "Modality": ["PR", "SM"]}}
PR_SM = ["PR", "SM"]


def spec_file(folder: Path, body: dict[str, Any]) -> Path:
    path = folder / f"{body['name']}.yaml"
    path.write_text(yaml.safe_dump(body))
    return path


def refresh(
    capsys: pytest.CaptureFixture[str], spec: Path, state: Path, *args: str
) -> tuple[int, dict[str, Any]]:
    """``idc-sql refresh SPEC --state STATE ARGS --json``: its exit status and its one cohort."""
    code = main(["refresh", str(spec), "--state", str(state), *args, "--json"])
    out = capsys.readouterr().out
    (cohort,) = json.loads(out)["cohorts"]
    return code, cohort


@pytest.mark.parametrize(("body", "modality"), [(SPEC, None), (SPEC_SM, PR_SM)])
def test_a_v24_state_refreshed_at_v25_reports_exactly_the_delta(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    body: dict[str, Any],
    modality: list[str] | None,
) -> None:
    spec, state = spec_file(tmp_path, body), tmp_path / "state"
    before = served(24, COLLECTIONS, modality)
    after = served(25, COLLECTIONS, modality)
    change = delta(before, after)
    # the case is worth checking: series of every kind of change
    assert all((change.added, change.removed, change.revised))

    code, first = refresh(capsys, spec, state, "--idc-version", "24")
    assert code == 3
    assert (first["changed"], first["release"], first["previous"]) == (True, 24, None)
    assert (first["added"], first["removed"], first["revised"]) == (len(before), 0, 0)
    kept = pq.read_table(Path(first["folder"]) / "snapshot.parquet").to_pandas()
    assert dict(zip(kept.SeriesInstanceUID, kept.crdc_series_uuid, strict=True)) == dict(
        before.crdc_series_uuid
    )

    code, second = refresh(capsys, spec, state)  # the installed release: v25
    assert code == 3
    assert second["changed"] is True
    assert second["release"] == 25
    assert second["previous"] == first["snapshot"]
    counts = (second["added"], second["removed"], second["revised"], second["unchanged"])
    assert counts == tuple(
        len(s) for s in (change.added, change.removed, change.revised, change.unchanged)
    )
    folder = Path(second["folder"])
    lines = manifest_series(folder / "fetch.s5cmd")
    assert len(lines) == len(set(lines))
    assert set(lines) == change.fetch  # exactly the added and revised series, new versions
    added = table(folder / "added.csv")
    assert set(added.index) == change.added
    revised = table(folder / "revised.csv")
    assert set(revised.index) == change.revised
    assert dict(revised.crdc_series_uuid) == dict(after.crdc_series_uuid[list(revised.index)])
    assert dict(revised.from_crdc_series_uuid) == dict(before.crdc_series_uuid[list(revised.index)])
    removed = table(folder / "removed.csv")
    assert set(removed.index) == change.removed
    assert dict(removed.crdc_series_uuid) == dict(before.crdc_series_uuid[list(removed.index)])
    summary = (folder / "changes.txt").read_text()
    assert f"added      {len(change.added):>12,}" in summary
    assert f"compared with snapshot {first['snapshot']} (IDC v24" in summary

    log = (state / "history.jsonl").read_text().splitlines()
    assert [json.loads(line)["snapshot"] for line in log] == [first["snapshot"], second["snapshot"]]
    record = json.loads(log[1])
    assert record["counts"] == {
        "series": len(after),
        "added": len(change.added),
        "removed": len(change.removed),
        "revised": len(change.revised),
        "unchanged": len(change.unchanged),
    }
    assert record["bytes"]["fetch"] == record["bytes"]["added"] + record["bytes"]["revised"]

    # a third run: unchanged, and nothing is written
    files = {
        p: (p.stat().st_mtime_ns, p.stat().st_size) for p in state.rglob("*") if p.name != ".lock"
    }
    code, third = refresh(capsys, spec, state)
    assert code == 0
    assert (third["changed"], third["added"], third["removed"], third["revised"]) == (
        False,
        0,
        0,
        0,
    )
    assert third["snapshot"] == second["snapshot"]
    assert {
        p: (p.stat().st_mtime_ns, p.stat().st_size) for p in state.rglob("*") if p.name != ".lock"
    } == files


def test_a_changed_spec_is_a_new_cohort_version(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec, state = spec_file(tmp_path, SPEC), tmp_path / "state"
    code, first = refresh(capsys, spec, state)
    assert (code, first["cohort_version"], first["spec_changed"]) == (3, 1, False)

    spec.write_text(yaml.safe_dump({**SPEC, "where": SPEC_SM["where"]}))
    code, second = refresh(capsys, spec, state, "--layout", "{collection_id}/{crdc_series_uuid}")
    now = served(25, COLLECTIONS, PR_SM)
    assert code == 3
    assert (second["cohort_version"], second["spec_changed"]) == (2, True)
    assert (second["added"], second["revised"], second["unchanged"]) == (0, 0, len(now))
    assert second["removed"] == len(served(25, COLLECTIONS)) - len(now)
    assert manifest_lines(Path(second["fetch"])) == []

    spec.write_text(yaml.safe_dump({**SPEC, "where": SPEC_SM["where"], "description": "SM"}))
    code, third = refresh(capsys, spec, state)  # the content changed, the series did not
    assert (code, third["changed"], third["cohort_version"]) == (3, True, 3)
    assert (third["added"], third["removed"], third["revised"]) == (0, 0, 0)

    records = [json.loads(line) for line in (state / "history.jsonl").read_text().splitlines()]
    assert [r["cohort_version"] for r in records] == [1, 2, 3]
    assert [r["spec_changed"] for r in records] == [False, True, True]
    assert len({r["digest"] for r in records}) == 3
    assert [r["snapshot"][:4] for r in records] == ["001-", "002-", "003-"]

    # a release named in the spec is not a new cohort: a refresh decides the release
    spec.write_text(
        yaml.safe_dump({**SPEC, "where": SPEC_SM["where"], "description": "SM", "idc_version": 24})
    )
    code = main(["refresh", str(spec), "--state", str(state)])
    out, err = capsys.readouterr()
    assert code == 0
    assert "unchanged at IDC v25" in out
    assert "the spec names idc_version 24; a refresh reads the release it is given" in err
    assert "(--idc-version)" in err


def test_destination_and_layout_shape_the_download_manifest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    body = {"name": "kich-sm", "where": {"collection_id": "tcga_kich", "Modality": "SM"}}
    spec, state = spec_file(tmp_path, body), tmp_path / "state"
    code, first = refresh(
        capsys,
        spec,
        state,
        "--idc-version",
        "24",
        "--destination",
        "d",
        "--layout",
        "{SeriesInstanceUID}",
    )
    assert code == 3
    lines = manifest_lines(Path(first["fetch"]))
    before = served(24, ["tcga_kich"], ["SM"])
    assert sorted(lines) == sorted(
        f"cp s3://{row.aws_bucket}/{row.crdc_series_uuid}/* d/{uid}/"
        for uid, row in before.iterrows()
    )


def test_history_lists_snapshots_and_writes_a_past_manifest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec, state = spec_file(tmp_path, SPEC_SM), tmp_path / "state"
    outcomes = idc_sql.refresh(str(spec), state, idc_version=24)  # the Python API
    outcomes += idc_sql.refresh([str(spec)], state)
    assert [o.changed for o in outcomes] == [True, True]
    names = [o.snapshot for o in outcomes]

    assert main(["history", str(spec), "--state", str(state)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split()[:4] == ["SNAPSHOT", "RELEASE", "RECORDED", "VERSION"]
    assert [line.split()[:2] for line in out[1:]] == [[names[0], "v24"], [names[1], "v25"]]

    manifest = tmp_path / "then.s5cmd"
    code = main(
        ["history", str(spec), "--state", str(state), "--release", "24", "-o", str(manifest)]
    )
    assert code == 0
    assert f"wrote {manifest}" in capsys.readouterr().out
    before = served(24, COLLECTIONS, PR_SM)
    expected = {(r.aws_bucket, r.crdc_series_uuid) for _, r in before.iterrows()}
    lines = manifest_series(manifest)
    assert len(lines) == len(before)
    assert set(lines) == expected
    assert "# IDC version: v24 (" in manifest.read_text()

    assert main(["history", str(spec), "--state", str(state), "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [s["snapshot"] for s in listed["snapshots"]] == names
    assert [e.release for e in idc_sql.snapshots(str(spec), state)] == [24, 25]
    latest = idc_sql.snapshot(str(spec), state).to_arrow()
    assert set(latest.column("SeriesInstanceUID").to_pylist()) == set(
        served(25, COLLECTIONS, PR_SM).index
    )

    assert main(["history", str(spec), "--state", str(state), "--release", "23"]) == 2
    err = capsys.readouterr().err
    assert "no snapshot is of IDC v23" in err
    assert f"{names[0]} (v24)" in err
    assert main(["history", str(spec), "--state", str(tmp_path / "none")]) == 2
    assert "--state" in capsys.readouterr().err


def test_a_busy_state_fails_clearly_after_waiting(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec, state = spec_file(tmp_path, SPEC_SM), tmp_path / "state"
    with State.open(state, create=True).locked(0):
        code = main(["refresh", str(spec), "--state", str(state), "--wait", "0.3"])
    assert code == 75
    err = capsys.readouterr().err
    assert f"another refresh of the state {state} is running (process " in err
    assert "gave up after 0.3 s: nothing was done" in err
    assert "(--wait sets how long to wait)" in err
    assert sorted(p.name for p in state.iterdir()) == [".lock"]


def test_a_damaged_state_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec, state = spec_file(tmp_path, SPEC_SM), tmp_path / "state"
    code, first = refresh(capsys, spec, state, "--idc-version", "24")
    assert code == 3
    (Path(first["folder"]) / "snapshot.parquet").write_bytes(b"not parquet")
    code = main(["refresh", str(spec), "--state", str(state)])
    assert code == 1
    assert "cannot be compared with" in capsys.readouterr().err

    with (state / "history.jsonl").open("a") as log:
        log.write('{"cohort": "three-pr-sm"}\n')
    code = main(["refresh", str(spec), "--state", str(state)])
    assert code == 1
    assert "history.jsonl line 2 is not a snapshot record" in capsys.readouterr().err


def test_usage_errors_come_before_anything_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec, state = spec_file(tmp_path, SPEC_SM), tmp_path / "state"
    other = tmp_path / "other"
    other.mkdir()
    twin = spec_file(other, SPEC_SM)
    for args in (
        [str(spec), str(twin)],
        [str(spec), "--dry-run"],
        [str(spec), "--layout", "{no_such_field}"],
        [str(spec), "--idc-version", "26"],
    ):
        assert main(["refresh", *args, "--state", str(state)]) == 2, args
    err = capsys.readouterr().err
    assert "are both named 'three-pr-sm'" in err
    assert "--dry-run applies to run and count" in err
    assert "idc-sql: error: --idc-version: the local index is IDC v25" in err
    assert "v26 is not published in it" in err
    assert not (state / "history.jsonl").exists()


def test_a_refresh_never_goes_back_to_an_older_release(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """After a snapshot of v24, a refresh at v20 (a typo, or an older index installed) is
    refused: it would record the series v21-v24 brought as removed, and the next refresh would
    add them again. The state is left as it was."""
    spec, state = spec_file(tmp_path, SPEC_SM), tmp_path / "state"
    code, first = refresh(capsys, spec, state, "--idc-version", "24")
    assert code == 3
    history = (state / "history.jsonl").read_text()
    assert main(["refresh", str(spec), "--state", str(state), "--idc-version", "20"]) == 2
    err = capsys.readouterr().err
    assert err == (
        f"idc-sql: error: three-pr-sm: its last snapshot ({Path(first['folder']).name}) is of "
        "v24, and a refresh moves a cohort forward: v20 is older. Keep a cohort at an earlier "
        "release in a state folder of its own (--state)\n"
    )
    assert (state / "history.jsonl").read_text() == history
    assert [p.name for p in (state / "three-pr-sm").iterdir()] == [Path(first["folder"]).name]


def test_a_new_cohort_empty_for_values_nothing_holds_is_not_recorded(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A misspelt value in a scheduled cohort would be recorded as an empty first snapshot, a
    change (exit 3) that hides the mistake: it is refused, and nothing is written."""
    spec = spec_file(tmp_path, {"name": "typo", "where": {"collection_id": "lidc-idri"}})
    state = tmp_path / "state"
    assert main(["refresh", str(spec), "--state", str(state)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err == [
        "idc-sql: warning: no series has collection_id 'lidc-idri'; did you mean 'lidc_idri'?",
        f"idc-sql: error: typo: {spec}: the cohort selects no series, and values it asks for "
        "match nothing (the warnings above): nothing was recorded; correct the values, or "
        "check them with `idc-sql values FIELD`",
    ]
    assert not (state / "history.jsonl").exists()
    assert not (state / "typo").exists() or not any((state / "typo").iterdir())


def test_diff_lists_old_versions_to_delete() -> None:
    """Removed series and the earlier versions of revised ones, with the earlier
    ``crdc_series_uuid`` (what a local copy holds)."""
    before = served(24, COLLECTIONS)
    change = idc_sql.diff(SPEC, 24, 25)
    gone = change.to_delete().to_pandas().set_index("SeriesInstanceUID")
    assert len(gone)
    assert dict(gone.crdc_series_uuid) == dict(before.crdc_series_uuid[list(gone.index)])
