"""Values that match nothing, through the Python API: warnings handed to the reporter as
notices (the library prints nothing) and kept on the result; the result is the same."""

from __future__ import annotations

from pathlib import Path

import pytest

import idc_sql
from idc_sql.settings import Notice


@pytest.fixture(autouse=True)
def _cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("IDC_SQL_CACHE_DIR", str(tmp_path / "cache"))


def test_warnings_go_to_the_reporter(capsys: pytest.CaptureFixture[str]) -> None:
    heard: list[Notice] = []
    spec = {
        "name": "w",
        "where": {
            "collection_id": ["nlst", "lidc-idri", "NSCLC-Radiomics"],
            "Modality": ["CT", "MRI"],
        },
    }
    result = idc_sql.run(spec, report=heard.append)
    expected = (
        "no series has collection_id 'lidc-idri'; did you mean 'lidc_idri'?",
        "no series has collection_id 'NSCLC-Radiomics'; did you mean 'nsclc_radiomics'?",
        "no series has Modality 'MRI'; did you mean 'MR'?",
    )
    assert [(n.kind, n.pieces) for n in heard] == [("warning", (w,)) for w in expected]
    assert result.warnings == expected
    assert result.empty_hints() == []  # the cohort is not empty
    plain = idc_sql.count({"name": "p", "where": {"collection_id": "nlst", "Modality": "CT"}})
    assert result.summary == plain
    heard.clear()
    assert idc_sql.count(spec, report=heard.append) == plain
    assert [n.pieces for n in heard] == [(w,) for w in expected]
    assert capsys.readouterr() == ("", "")


def test_no_warning_when_every_value_is_held() -> None:
    heard: list[Notice] = []
    spec = {"name": "ok", "where": {"collection_id": ["nlst", "rider_pilot"], "Modality": "CT"}}
    assert idc_sql.run(spec, report=heard.append).warnings == ()
    assert heard == []


def test_joined_values_are_looked_up_one_by_one() -> None:
    # the index joins a series' transfer syntaxes with commas: each one is a value it holds
    spec = {
        "name": "ts",
        "where": {"TransferSyntaxUID": ["1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.5O"]},
    }
    assert idc_sql.run(spec).warnings == (
        "no series has TransferSyntaxUID '1.2.840.10008.1.2.4.5O'; did you mean "
        "'1.2.840.10008.1.2.4.51' or '1.2.840.10008.1.2.4.50' or '1.2.840.10008.1.2.4.91'?",
    )


def test_an_earlier_release_is_not_looked_up_in_the_installed_one() -> None:
    spec = {"name": "old", "idc_version": 24, "where": {"collection_id": "no_such_collection"}}
    assert idc_sql.run(spec).warnings == ()
