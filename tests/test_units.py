"""``unit``: what ``limit`` and ``order_by`` count and order. Its results are checked against
the independent evaluator (tests/differential) and on the BigQuery emulator
(tests/bigquery/test_equivalence.py); here, what it is in the grammar."""

from __future__ import annotations

import idc_sql
from idc_sql.spec import json_schema
from idc_sql.spec.loading import digest

CT = {"name": "ct", "where": {"Modality": "CT"}, "limit": 3}


def test_the_default_unit_keeps_a_specs_digest() -> None:
    # snapshots recorded before units existed still name the same cohort
    plain = digest(idc_sql.parse_spec(CT))
    assert digest(idc_sql.parse_spec({**CT, "unit": "series"})) == plain
    assert plain == "4866c1e58616139b"  # as before units existed
    assert digest(idc_sql.parse_spec({**CT, "unit": "study"})) != plain
    assert digest(idc_sql.parse_spec({**CT, "unit": "patient"})) not in (
        plain,
        digest(idc_sql.parse_spec({**CT, "unit": "study"})),
    )


def test_the_schema_names_the_units() -> None:
    schema = json_schema()
    for kind in ("CohortSpec", "SetSpec"):
        unit = schema["$defs"][kind]["properties"]["unit"]
        assert (unit["enum"], unit["default"]) == (["series", "study", "patient"], "series")


def test_a_unit_without_a_limit_selects_the_same_series() -> None:
    spec = {
        "name": "x",
        "where": {"collection_id": "rider_pilot"},
        "columns": ["SeriesInstanceUID"],
    }
    plain = idc_sql.count(spec)
    for unit in ("study", "patient"):
        assert idc_sql.count({**spec, "unit": unit}) == plain
