"""A specification's ``licenses`` on BigQuery (the emulator): the cohort is refused with the
same licenses, series and collections as the fixture's rows and the local engine give."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import pytest

import idc_sql
from idc_sql.engines.bigquery import BigQueryEngine, Settings
from idc_sql.errors import LicenseError

from .emulator import Emulator
from .fixture import fixture_series


@pytest.fixture(scope="module")
def engine(bq_emulator: Emulator) -> BigQueryEngine:
    settings = Settings(project="idc-sql-tests", endpoint=bq_emulator.endpoint, deadline=10)
    return BigQueryEngine(settings)


def _expected(allowed: set[str]) -> list[tuple[str, int, list[str]]]:
    """The fixture's series outside ``allowed``, counted from its rows."""
    rows = fixture_series().select(["license_short_name", "collection_id"]).to_pylist()
    by: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row in rows:
        if row["license_short_name"] not in allowed:
            by[row["license_short_name"]][row["collection_id"]] += 1
    out = [(lic, sum(c.values()), sorted(c, key=lambda k: (-c[k], k))) for lic, c in by.items()]
    return sorted(out, key=lambda t: (-t[1], t[0]))


def _spec(allowed: list[str]) -> dict[str, Any]:
    return {"name": "fixture", "idc_version": 25, "licenses": allowed}


def test_a_cohort_outside_its_licenses_is_refused_on_bigquery(engine: BigQueryEngine) -> None:
    expected = _expected({"CC BY 4.0"})
    assert len(expected) >= 2  # the fixture holds series under several other licenses
    with pytest.raises(LicenseError) as caught:
        idc_sql.run(idc_sql.parse_spec(_spec(["CC BY 4.0"])), engine)
    assert caught.value.found == expected
    assert caught.value.exit_code == 2
    # the local engine over the same series refuses with the same words
    uids = fixture_series().column("SeriesInstanceUID").to_pylist()
    local = {**_spec(["CC BY 4.0"]), "where": {"SeriesInstanceUID": uids}}
    with pytest.raises(LicenseError) as mine:
        idc_sql.run(local)
    assert mine.value.found == expected
    assert mine.value.message == caught.value.message


def test_a_cohort_within_its_licenses_runs_on_bigquery(engine: BigQueryEngine) -> None:
    held = sorted({r for r in fixture_series().column("license_short_name").to_pylist()})
    assert _expected(set(held)) == []
    result = idc_sql.run(idc_sql.parse_spec(_spec(held)), engine)
    assert result.summary.series == fixture_series().num_rows
    assert {lic for lic, _, _ in result.licenses} == set(held)
