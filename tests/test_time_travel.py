"""Earlier releases on the embedded engine, and diffs between releases, checked against an
independent computation from the installed index's version columns and prior_versions_index
(pandas, no SQL)."""

from __future__ import annotations

import json
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import idc_sql
from idc_sql.engines.local import index_dir

COLLECTIONS = ["nlst", "tcga_luad", "nsclc_radiomics", "cptac_luad", "lidc_idri"]


@cache
def _current() -> pd.DataFrame:
    return pd.read_parquet(
        index_dir() / "idc_index.parquet",
        columns=[
            "collection_id",
            "SeriesInstanceUID",
            "Modality",
            "crdc_series_uuid",
            "series_size_MB",
            "series_init_idc_version",
            "series_revised_idc_version",
        ],
    )


@cache
def _prior() -> pd.DataFrame:
    return pd.read_parquet(index_dir() / "prior_versions_index.parquet")


def served(release: int) -> pd.DataFrame:
    """The series release ``release`` served: SeriesInstanceUID -> collection, Modality, uuid."""
    now = _current()
    kept = now[now.series_revised_idc_version <= release]
    old = _prior()
    old = old[(old.min_idc_version <= release) & (old.max_idc_version >= release)]
    columns = ["collection_id", "SeriesInstanceUID", "Modality", "crdc_series_uuid"]
    both = pd.concat([kept[columns], old[columns]], ignore_index=True)
    assert both.SeriesInstanceUID.is_unique
    return both.set_index("SeriesInstanceUID")


def _cohort(modality: str | None) -> dict[str, Any]:
    where: dict[str, Any] = {"collection_id": COLLECTIONS}
    if modality:
        where["Modality"] = modality
    return {"name": "lungs", "where": where}


def _expected(release: int, modality: str | None) -> pd.DataFrame:
    s = served(release)
    s = s[s.collection_id.isin(COLLECTIONS)]
    return s[s.Modality == modality] if modality else s


@pytest.fixture(scope="module")
def engine() -> Any:
    return idc_sql.engine()


@pytest.mark.parametrize("modality", [None, "CT"])
@pytest.mark.parametrize("release", [3, 12, 20, 24, 25])
def test_series_at_a_release(release: int, modality: str | None, engine: Any) -> None:
    spec = {**_cohort(modality), "idc_version": release}
    result = idc_sql.run(spec, engine)
    expected = _expected(release, modality)
    got = result.fetch(
        result.select(("SeriesInstanceUID", "crdc_series_uuid")), "to_arrow_table"
    ).to_pandas()
    assert len(got) == len(expected) == result.summary.series
    assert dict(zip(got.SeriesInstanceUID, got.crdc_series_uuid, strict=True)) == (
        expected.crdc_series_uuid.to_dict()
    )
    assert result.provenance.release == f"v{release}"


def test_all_of_idc_at_v24() -> None:
    # v25 (1,044,191) less the 11,346 series added in v25, plus the 127 it removed
    assert idc_sql.count({"name": "all", "idc_version": 24}).series == 1_032_972


def test_an_old_release_downloads_that_releases_files(tmp_path: Path, engine: Any) -> None:
    """A revised series at v24 is listed with the crdc_series_uuid v24 served, in the bucket
    where that version's files are."""
    prior = _prior()
    revised = _current()
    revised = revised[
        (revised.series_revised_idc_version == 25) & (revised.series_init_idc_version < 25)
    ]
    uid = revised.SeriesInstanceUID.iloc[0]
    old = prior[(prior.SeriesInstanceUID == uid) & (prior.max_idc_version == 24)].iloc[0]
    spec = {"name": "one", "idc_version": 24, "where": {"SeriesInstanceUID": uid}}
    out = tmp_path / "one.s5cmd"
    idc_sql.run(spec, engine).write(str(out))
    (line,) = [x for x in out.read_text().splitlines() if not x.startswith("#")]
    last = prior[prior.crdc_series_uuid == old.crdc_series_uuid].sort_values("max_idc_version")
    assert line.startswith(f"cp s3://{last.aws_bucket.iloc[-1]}/{old.crdc_series_uuid}/* ")
    assert "# IDC version: v24 (" in out.read_text()


ORDER = ["collection_id", "PatientID", "StudyInstanceUID", "SeriesInstanceUID"]


def _served_in_order(release: int) -> pd.DataFrame:
    """The series of COLLECTIONS at ``release`` in the canonical order (the order of
    idc_index.parquet), with the key columns prior_versions_index keeps."""
    now = pd.read_parquet(
        index_dir() / "idc_index.parquet",
        columns=[*ORDER, "crdc_series_uuid", "series_revised_idc_version"],
    )
    kept = now[now.series_revised_idc_version <= release]
    old = _prior()
    old = old[(old.min_idc_version <= release) & (old.max_idc_version >= release)]
    both = pd.concat([kept[ORDER], old[ORDER]], ignore_index=True)
    both = both[both.collection_id.isin(COLLECTIONS)]
    return both.sort_values(ORDER, ignore_index=True)


def test_an_earlier_release_in_the_canonical_order(tmp_path: Path, engine: Any) -> None:
    """The rows of an earlier release come in the order of the installed index, and a limit
    keeps the first of them; earlier versions and removed series take their places in it."""
    expected = _served_in_order(20)
    out = tmp_path / "first.csv"
    spec = {**_cohort(None), "idc_version": 20, "limit": 20_000, "columns": ORDER}
    idc_sql.run(spec, engine).write(str(out))
    got = pd.read_csv(out, comment="#")
    first = expected.head(20_000)
    assert list(got.SeriesInstanceUID) == list(first.SeriesInstanceUID)
    # the limit reaches past series v20 served in a version since revised, or removed since
    earlier = set(_prior().SeriesInstanceUID)
    assert first.SeriesInstanceUID.isin(earlier).sum() > 100


def test_a_costly_selection_at_an_earlier_release(engine: Any) -> None:
    """A selection evaluated once into a table of row keys (a long list) selects the same
    series at an earlier release: each row's key is its own, earlier versions' too."""
    expected = _served_in_order(20)
    earlier = expected[expected.SeriesInstanceUID.isin(set(_prior().SeriesInstanceUID))]
    current = expected[~expected.SeriesInstanceUID.isin(set(earlier.SeriesInstanceUID))]
    uids = [*earlier.SeriesInstanceUID.head(3_000), *current.SeriesInstanceUID.head(3_000)]
    spec = {"name": "listed", "idc_version": 20, "where": {"SeriesInstanceUID": uids}}
    result = idc_sql.run(spec, engine)
    got = result.fetch(result.select(("SeriesInstanceUID",)), "to_arrow_table").to_pandas()
    assert len(earlier.head(3_000)) == 3_000
    assert sorted(got.SeriesInstanceUID) == sorted(uids)


@pytest.mark.parametrize("modality", [None, "CT"])
@pytest.mark.parametrize(("before", "after"), [(24, 25), (18, 25), (5, 20), (20, 21)])
def test_diff_counts(before: int, after: int, modality: str | None, engine: Any) -> None:
    a, b = _expected(before, modality), _expected(after, modality)
    both = a.index.intersection(b.index)
    revised = int((a.loc[both].crdc_series_uuid != b.loc[both].crdc_series_uuid).sum())
    change = idc_sql.diff(_cohort(modality), before, after, engine)
    c = change.counts
    assert (c.added, c.removed, c.revised, c.unchanged) == (
        len(b.index.difference(a.index)),
        len(a.index.difference(b.index)),
        revised,
        len(both) - revised,
    )
    per = {row["collection_id"]: row for row in change.by_collection()}
    for collection in set(a.collection_id) | set(b.collection_id):
        added = b[(b.collection_id == collection) & ~b.index.isin(a.index)]
        assert per[collection]["added"] == len(added)


def test_the_manifests_of_a_diff(tmp_path: Path, engine: Any) -> None:
    change = idc_sql.diff(_cohort(None), 18, 25, engine)
    fetch, gone = tmp_path / "fetch.s5cmd", tmp_path / "gone.csv"
    change.to_fetch().write(str(fetch))
    change.to_delete().write(str(gone))
    a, b = _expected(18, None), _expected(25, None)
    both = a.index.intersection(b.index)
    revised = both[(a.loc[both].crdc_series_uuid != b.loc[both].crdc_series_uuid).to_numpy()]
    wanted = set(b.index.difference(a.index)) | set(revised)
    lines = [x for x in fetch.read_text().splitlines() if not x.startswith("#")]
    assert {x.split("/")[3] for x in lines} == set(b.loc[sorted(wanted)].crdc_series_uuid)
    deleted = pd.read_csv(gone, comment="#")
    assert len(revised) > 0  # both kinds are there
    assert len(a.index.difference(b.index)) > 0
    assert set(deleted.SeriesInstanceUID) == set(a.index.difference(b.index)) | set(revised)
    assert set(deleted.crdc_series_uuid) == set(
        a.loc[list(set(a.index.difference(b.index)) | set(revised))].crdc_series_uuid
    )


def test_the_diff_command(tmp_path: Path) -> None:
    spec = tmp_path / "lungs.yaml"
    spec.write_text(json.dumps(_cohort("CT")))
    done = subprocess.run(
        [sys.executable, "-m", "idc_sql.cli", "diff", str(spec), "--from", "24", "--json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    body = json.loads(done.stdout)
    a, b = _expected(24, "CT"), _expected(25, "CT")
    assert body["to"] == "v25"
    assert body["added"] == len(b.index.difference(a.index))
    assert {"added", "removed", "revised", "unchanged", "changed"} <= set(body)
    same = subprocess.run(
        [sys.executable, "-m", "idc_sql.cli", "diff", str(spec), "--from", "25"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert same.returncode == 2
    assert same.stderr == (
        "idc-sql: error: both releases are v25: a diff compares two different releases\n"
    )
    backwards = subprocess.run(
        [sys.executable, "-m", "idc_sql.cli", "diff", str(spec), "--from", "25", "--to", "24"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert (backwards.returncode, backwards.stdout) == (2, "")
    assert backwards.stderr == (
        "idc-sql: error: v25 is newer than v24: a diff goes from an earlier release to a later "
        "one; diff from v24 to v25 instead (the series v25 no longer has are counted there as "
        "removed)\n"
    )


def test_a_release_no_index_holds_names_the_flag(tmp_path: Path) -> None:
    spec = tmp_path / "lungs.yaml"
    spec.write_text(json.dumps(_cohort("CT")))
    for flag in ("--from", "--to"):
        other = "--to" if flag == "--from" else "--from"
        done = subprocess.run(
            [sys.executable, "-m", "idc_sql.cli", "diff", str(spec), flag, "99", other, "3"],
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 2
        assert done.stderr.startswith(
            f"idc-sql: error: {flag}: the local index is IDC v25 (idc-index-data "
        ), done.stderr
        assert "v99 is not published in it" in done.stderr


def test_a_diff_shows_its_counts(engine: Any) -> None:
    change = idc_sql.diff(_cohort("CT"), 24, 25, engine)
    c = change.counts
    assert repr(change) == (
        f"<Diff 'lungs' v24 -> v25 (local): {c.added:,} added, {c.removed:,} removed, "
        f"{c.revised:,} revised, {c.unchanged:,} unchanged>"
    )


def test_a_diff_backwards_is_refused(engine: Any) -> None:
    """From a newer release to an older one is refused, not answered with counts of the older
    release against itself."""
    with pytest.raises(idc_sql.IdcSqlError, match="v24 is newer than v20"):
        idc_sql.diff(_cohort("CT"), 24, 20, engine)


def test_the_two_outputs_of_a_diff_are_two_files(tmp_path: Path) -> None:
    """-o and --deleted naming one file is refused before anything is read or written."""
    spec = tmp_path / "lungs.yaml"
    spec.write_text(json.dumps(_cohort("CT")))
    out = tmp_path / "same.csv"
    out.write_text("kept\n")
    twice = ["-o", str(out), "--deleted", str(tmp_path / "." / "same.csv")]
    done = subprocess.run(
        [sys.executable, "-m", "idc_sql.cli", "diff", str(spec), "--from", "24", *twice],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == (
        f"idc-sql: error: -o and --deleted both name {out}: the series to fetch and those to "
        "delete go to two different files\n"
    )
    assert out.read_text() == "kept\n"
