"""A specification's ``licenses``: the names checked when compiled, the cohort checked when run.

The counts a refusal names are compared with counts computed directly from the index.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import duckdb
import idc_index_data
import pytest

import idc_sql
from idc_sql.catalog.licenses import LICENSES
from idc_sql.errors import LicenseError, SpecError
from idc_sql.spec import digest

CLI = (sys.executable, "-m", "idc_sql.cli")
INDEX = str(idc_index_data.IDC_INDEX_PARQUET_FILEPATH)
#: collections under several licenses between them (tcga_brca: CC BY 3.0 and 4.0)
MIXED = ["rider_pilot", "tcga_brca", "nsclc_radiomics", "midrc_ricord_1a"]
KNOWN = ", ".join(repr(x) for x in LICENSES)


def _direct(collections: list[str], allowed: list[str]) -> list[tuple[str, int, list[str]]]:
    """(license, series, collections by series then name) outside ``allowed``, from the index."""
    query = """
        SELECT license_short_name, collection_id, count(*) AS n FROM read_parquet($index)
        WHERE list_contains($collections, collection_id)
          AND NOT list_contains($allowed, license_short_name)
        GROUP BY ALL"""
    with duckdb.connect() as con:
        rows = con.execute(
            query, {"index": INDEX, "collections": collections, "allowed": allowed}
        ).fetchall()
    by: dict[str, dict[str, int]] = {}
    for lic, coll, n in rows:
        by.setdefault(lic, {})[coll] = n
    out = [(lic, sum(c.values()), sorted(c, key=lambda k: (-c[k], k))) for lic, c in by.items()]
    return sorted(out, key=lambda t: (-t[1], t[0]))


def _spec(allowed: list[str] | None, collections: list[str] = MIXED) -> dict[str, Any]:
    spec: dict[str, Any] = {"name": "mixed", "where": {"collection_id": collections}}
    if allowed is not None:
        spec["licenses"] = allowed
    return spec


def test_the_known_licenses_are_the_index_s() -> None:
    """The list a spec is checked against is exactly what the installed index holds."""
    sources = (
        f"SELECT license_short_name FROM read_parquet('{INDEX}') UNION "
        "SELECT unnest(sources).license.license_short_name FROM read_parquet($c) UNION "
        "SELECT license_short_name FROM read_parquet($a)"
    )
    meta = idc_index_data.INDEX_METADATA
    params = {
        "c": str(meta["collections_index"]["parquet_filepath"]),
        "a": str(meta["analysis_results_index"]["parquet_filepath"]),
    }
    with duckdb.connect() as con:
        found = {r[0] for r in con.execute(sources, params).fetchall() if r[0] is not None}
    assert found == set(LICENSES)


@pytest.mark.parametrize("engine", ["local", "bigquery"])
def test_a_misspelt_license_is_refused_when_compiled(engine: str) -> None:
    with pytest.raises(SpecError) as caught:
        idc_sql.compile(_spec(["CC BY 4.0", "CC-BY-NC 4.0"]), engine)
    assert caught.value.location == "licenses[1]"
    assert caught.value.message == (
        f"'CC-BY-NC 4.0' is not a license IDC uses; did you mean 'CC BY-NC 4.0'? IDC's "
        f"licenses are {KNOWN} (compared exactly, as license_short_name spells them)"
    )


def test_a_license_far_from_any_gets_no_guess() -> None:
    with pytest.raises(SpecError) as caught:
        idc_sql.compile(_spec(["MIT"]))
    assert caught.value.message == (
        f"'MIT' is not a license IDC uses; IDC's licenses are {KNOWN} "
        "(compared exactly, as license_short_name spells them)"
    )


@pytest.mark.parametrize(
    ("value", "location", "message"),
    [
        ([], "licenses", "must not be empty"),
        ("CC BY 4.0", "licenses", "input should be a valid list, got str 'CC BY 4.0'"),
        ([4.0], "licenses[0]", "input should be a valid string, got float 4.0"),
    ],
)
def test_licenses_is_a_list_of_names(value: Any, location: str, message: str) -> None:
    with pytest.raises(SpecError) as caught:
        idc_sql.parse_spec({"name": "x", "licenses": value})
    assert (caught.value.location, caught.value.message) == (location, message)


def test_the_licenses_are_part_of_the_digest() -> None:
    plain = idc_sql.parse_spec(_spec(None))
    declared = idc_sql.parse_spec(_spec(["CC BY 4.0"]))
    other = idc_sql.parse_spec(_spec(["CC BY 4.0", "CC BY 3.0"]))
    assert len({digest(plain), digest(declared), digest(other)}) == 3
    # a spec that declares nothing keeps the digest it had before licenses existed
    assert digest(plain) == digest(idc_sql.parse_spec({"name": "mixed", **_spec(None)}))


def test_the_compiled_query_carries_the_license() -> None:
    compiled = idc_sql.compile({"name": "x", "licenses": ["CC BY 4.0"]})
    assert "license_short_name" in compiled.sql


def test_a_cohort_outside_its_licenses_is_refused() -> None:
    allowed = ["CC BY 4.0"]
    with pytest.raises(LicenseError) as caught:
        idc_sql.run(_spec(allowed))
    expected = _direct(MIXED, allowed)
    assert {lic for lic, _, _ in expected} == {"CC BY 3.0", "CC BY-NC 3.0", "CC BY-NC 4.0"}
    assert caught.value.found == expected
    assert caught.value.exit_code == 2
    assert caught.value.location == "licenses"
    total = idc_sql.count(_spec(None)).series
    parts = "; ".join(
        f"{lic}: {n:,} series (collection{'s' if len(c) > 1 else ''} {', '.join(c)})"
        for lic, n, c in expected
    )
    assert caught.value.message == (
        f"{sum(n for _, n, _ in expected):,} of the cohort's {total:,} series are under "
        f"licenses it does not allow (it allows CC BY 4.0): {parts}. Leave them out in where "
        "(license_short_name: [...]) or allow their licenses"
    )


def test_a_cohort_within_its_licenses_runs() -> None:
    allowed = ["CC BY 4.0", "CC BY 3.0", "CC BY-NC 3.0", "CC BY-NC 4.0"]
    assert _direct(MIXED, allowed) == []
    result = idc_sql.run(_spec(allowed))
    assert {lic for lic, _, _ in result.licenses} == set(allowed)
    assert result.summary == idc_sql.count(_spec(None))
    # leaving the other licenses out in where satisfies the narrower list
    narrowed = _spec(["CC BY 4.0"])
    narrowed["where"] = {"collection_id": MIXED, "license_short_name": "CC BY 4.0"}
    assert idc_sql.run(narrowed).summary.series > 0


def test_count_holds_to_the_licenses_too() -> None:
    with pytest.raises(LicenseError):
        idc_sql.count(_spec(["CC BY 4.0"]))


TCGA = ["acc", "blca", "brca", "cesc", "coad", "esca", "gbm", "hnsc", "kirc", "lihc"]


def test_many_collections_are_cut_short() -> None:
    every = _direct(["nlst", *(f"tcga_{x}" for x in TCGA)], ["CC BY 4.0"])
    collections = every[0][2]
    assert len(collections) > 8
    spec = _spec(["CC BY 4.0"], collections)
    with pytest.raises(LicenseError) as caught:
        idc_sql.run(spec)
    assert f"{', '.join(collections[:8])} and {len(collections) - 8:,} more" in str(caught.value)


def test_a_set_holds_to_its_members_licenses(tmp_path: Path) -> None:
    (tmp_path / "open.yaml").write_text(
        "name: open\nlicenses: [CC BY 4.0]\nwhere: {collection_id: rider_pilot}\n"
    )
    (tmp_path / "nc.yaml").write_text("name: nc\nwhere: {collection_id: midrc_ricord_1a}\n")
    (tmp_path / "both.yaml").write_text("name: both\nunion: [open.yaml, nc.yaml]\n")
    with pytest.raises(LicenseError) as caught:
        idc_sql.run(str(tmp_path / "both.yaml"))
    assert caught.value.location == f"{tmp_path / 'open.yaml'}: licenses"
    assert caught.value.found == _direct(["rider_pilot", "midrc_ricord_1a"], ["CC BY 4.0"])
    (tmp_path / "open.yaml").write_text(
        "name: open\nlicenses: [CC BY 4.0, CC BY-NC 4.0]\nwhere: {collection_id: rider_pilot}\n"
    )
    assert idc_sql.run(str(tmp_path / "both.yaml")).summary.collections == 2


# ----------------------------------------------------------------------------- command line


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args], cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )


def test_the_command_line_refuses_with_status_2_and_writes_nothing(tmp_path: Path) -> None:
    (tmp_path / "c.yaml").write_text(
        "name: c\nlicenses: [CC BY 4.0]\nwhere: {collection_id: [rider_pilot, midrc_ricord_1a]}\n"
    )
    (tmp_path / "kept.s5cmd").write_text("untouched\n")
    expected = _direct(["rider_pilot", "midrc_ricord_1a"], ["CC BY 4.0"])
    n = expected[0][1]
    for args in (["run", "c.yaml", "-o", "kept.s5cmd"], ["run", "c.yaml", "-o", "new.csv"]):
        done = _cli(*args, cwd=tmp_path)
        assert done.returncode == 2, done.stderr
        assert done.stdout == ""
        assert done.stderr.startswith(f"idc-sql: error: c.yaml: licenses: {n:,} of the cohort's ")
        assert f"CC BY-NC 4.0: {n:,} series (collection midrc_ricord_1a)" in done.stderr
    assert (tmp_path / "kept.s5cmd").read_text() == "untouched\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.yaml", "kept.s5cmd"]
    done = _cli("count", "c.yaml", cwd=tmp_path)
    assert done.returncode == 2
    assert "licenses it does not allow" in done.stderr


def test_the_command_line_names_the_misspelt_license(tmp_path: Path) -> None:
    (tmp_path / "c.yaml").write_text("name: c\nlicenses: [CC BY 4.0, cc by 3.0]\n")
    for command in ("compile", "validate", "run"):
        done = _cli(command, "c.yaml", cwd=tmp_path)
        assert done.returncode == 2, (command, done.stderr)
        assert done.stderr.startswith(
            "idc-sql: error: c.yaml: licenses[1]: 'cc by 3.0' is not a license IDC uses; "
            "did you mean 'CC BY 3.0'? "
        ), (command, done.stderr)


def test_a_diff_holds_the_newer_release_to_the_licenses() -> None:
    with pytest.raises(LicenseError) as caught:
        idc_sql.diff(_spec(["CC BY 4.0"]), 24, 25)
    assert caught.value.found == _direct(MIXED, ["CC BY 4.0"])
    allowed = ["CC BY 4.0", "CC BY 3.0", "CC BY-NC 3.0", "CC BY-NC 4.0"]
    assert idc_sql.diff(_spec(allowed), 24, 25).after.label == "v25"
