"""Manifests written from results full of hostile values.

Every manifest written must read as s5cmd lines plus comments, one line per series, each
destination inside the root and distinct; a bucket or uuid of another shape must stop the run
and name the series; two series that a layout would put in one folder must stop it too.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from hostile import (
    BAD_BUCKETS,
    BAD_UUIDS,
    HOSTILE,
    LAYOUT_FIELDS,
    assert_under,
    read_manifest,
    result_of,
    row,
    safe,
    series_uuid,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from idc_sql.errors import OutputError, UsageError
from idc_sql.writers import write
from idc_sql.writers.layout import DEFAULT_LAYOUT

#: a layout naming every hostile field, unique by its last folder
EVERY_FIELD = (
    "{collection_id}/{PatientID}/{StudyInstanceUID}/{SeriesInstanceUID}/"
    "{Modality}_{crdc_series_uuid}"
)


def _hostile_rows() -> list[dict[str, Any]]:
    """One row per hostile value and destination field, then one with every field hostile."""
    rows = [
        row(len(LAYOUT_FIELDS) * i + j, **{field: value})
        for i, value in enumerate(HOSTILE)
        for j, field in enumerate(LAYOUT_FIELDS)
    ]
    n = len(rows)
    rows += [row(n + i, **dict.fromkeys(LAYOUT_FIELDS, value)) for i, value in enumerate(HOSTILE)]
    return rows


def _expected(r: dict[str, Any], template: str, root: str) -> str:
    values = {
        k: (v if k == "crdc_series_uuid" else safe(v))
        for k, v in r.items()
        if k in LAYOUT_FIELDS or k == "crdc_series_uuid"
    }
    folder = template.format(**values) + "/"
    return folder if root == "." else f"{root}/{folder}"


def _json_series(path: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    text = path.read_text(encoding="utf-8")
    document = json.loads(text)
    assert list(document) == ["provenance", "series"]
    return document["provenance"], document["series"]


@pytest.mark.parametrize(
    ("template", "root", "cloud"),
    [
        (DEFAULT_LAYOUT, ".", "aws"),
        (EVERY_FIELD, "data/idc", "aws"),
        (EVERY_FIELD, "/srv/idc", "gcs"),
    ],
)
def test_hostile_values_in_every_destination_field(
    tmp_path: Path, template: str, root: str, cloud: str
) -> None:
    rows = _hostile_rows()
    result = result_of(rows)
    out = tmp_path / "hostile.s5cmd"
    write(result, str(out), destination=root, layout=template, cloud=cloud)
    manifest = read_manifest(out.read_text(encoding="utf-8"))
    assert len(manifest.lines) == len(rows) == manifest.provenance["series"]
    destinations = [d for _, _, d in manifest.lines]
    assert len(set(destinations)) == len(rows)
    for destination in destinations:
        assert_under(destination, root)
    assert destinations == [_expected(r, template, root) for r in rows]
    assert [u for _, u, _ in manifest.lines] == [r["crdc_series_uuid"] for r in rows]
    assert {b for b, _, _ in manifest.lines} == {"idc-open-data"}
    # the hostile cohort name and source are escaped in the header, and read back whole
    assert manifest.header[0] == "# idc-sql manifest of cohort hostile\\ncp s3://evil/x/* /"
    assert manifest.provenance["cohort"] == result.provenance.cohort
    assert manifest.provenance["source"] == result.provenance.source

    as_json = tmp_path / "hostile.json"
    write(result, str(as_json), destination=root, layout=template, cloud=cloud)
    provenance, series = _json_series(as_json)
    assert [s["destination"] for s in series] == destinations
    assert provenance["layout"] == template
    assert provenance["destination"] == root


def test_buckets_on_gcs_are_its_mirrors(tmp_path: Path) -> None:
    buckets = ["idc-open-data", "idc-open-data-two", "idc-open-data-cr"]
    result = result_of([row(i, aws_bucket=b) for i, b in enumerate(buckets)])
    out = tmp_path / "gcs.s5cmd"
    write(result, str(out), cloud="gcs")
    manifest = read_manifest(out.read_text())
    assert [b for b, _, _ in manifest.lines] == ["idc-open-data", "idc-open-idc1", "idc-open-cr"]
    command = (
        "#   s5cmd --no-sign-request --endpoint-url https://storage.googleapis.com run gcs.s5cmd"
    )
    assert command in manifest.header
    assert not any("idc download" in line for line in manifest.header)
    assert manifest.provenance["endpoint"] == "https://storage.googleapis.com"
    as_json = tmp_path / "gcs.json"
    write(result, str(as_json), cloud="gcs")
    _, series = _json_series(as_json)
    assert [s["url"] for s in series] == [
        f"s3://{b}/{series_uuid(i)}/*"
        for i, b in enumerate(["idc-open-data", "idc-open-idc1", "idc-open-cr"])
    ]


def test_a_bucket_gcs_does_not_mirror_is_refused_there_only(tmp_path: Path) -> None:
    result = result_of([row(0), row(1, aws_bucket="another-bucket")])
    write(result, str(tmp_path / "aws.s5cmd"))
    assert [b for b, _, _ in read_manifest((tmp_path / "aws.s5cmd").read_text()).lines] == [
        "idc-open-data",
        "another-bucket",
    ]
    with pytest.raises(OutputError) as caught:
        write(result, str(tmp_path / "gcs.s5cmd"), cloud="gcs")
    assert str(caught.value) == (
        f"1 series cannot be written to a manifest: series '1.2.3.1.1' has crdc_series_uuid "
        f"'{series_uuid(1)}' and aws_bucket 'another-bucket'. A bucket is one of idc-open-data, "
        "idc-open-data-cr, idc-open-data-two (the buckets gcs mirrors), a crdc_series_uuid a "
        "lowercase 8-4-4-4-12 hexadecimal UUID"
    )
    assert not (tmp_path / "gcs.s5cmd").exists()


def _shown(value: str | None) -> str:
    from idc_sql.outputs import header_safe

    return "NULL" if value is None else f"'{header_safe(value)}'"


@pytest.mark.parametrize(
    ("column", "value"),
    [("aws_bucket", b) for b in BAD_BUCKETS] + [("crdc_series_uuid", u) for u in BAD_UUIDS],
)
@pytest.mark.parametrize("fmt", ["s5cmd", "manifest-json"])
def test_a_bad_bucket_or_uuid_stops_the_run_and_names_the_series(
    tmp_path: Path, column: str, value: str | None, fmt: str
) -> None:
    out = tmp_path / "out"
    out.write_text("an earlier manifest\n")
    rows = [row(0), row(1, **{column: value}), row(2)]
    with pytest.raises(OutputError) as caught:
        write(result_of(rows), str(out), fmt)
    bad = rows[1]
    assert str(caught.value).startswith(
        f"1 series cannot be written to a manifest: series '1.2.3.1.1' has crdc_series_uuid "
        f"{_shown(bad['crdc_series_uuid'])} and aws_bucket {_shown(bad['aws_bucket'])}. "
    )
    assert len(str(caught.value).splitlines()) == 1
    assert out.read_text() == "an earlier manifest\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_many_bad_series_are_counted(tmp_path: Path) -> None:
    rows = [row(i, crdc_series_uuid=f"bad-{i}") for i in range(10)]
    with pytest.raises(OutputError) as caught:
        write(result_of(rows), str(tmp_path / "out.s5cmd"))
    message = str(caught.value)
    assert message.startswith("10 series cannot be written to a manifest: series '1.2.3.0.1' ")
    assert "; and 7 more. " in message


def test_two_series_in_one_folder_are_named(tmp_path: Path) -> None:
    rows = [row(0, PatientID="a b"), row(1, PatientID="a_b"), row(2, PatientID="c")]
    out = tmp_path / "clash.s5cmd"
    with pytest.raises(UsageError) as caught:
        write(result_of(rows), str(out), layout="{collection_id}/{PatientID}")
    first, second = sorted([series_uuid(0), series_uuid(1)])
    uid = {series_uuid(0): "1.2.3.0.1", series_uuid(1): "1.2.3.1.1"}
    assert str(caught.value) == (
        "layout='{collection_id}/{PatientID}' does not give every series a folder of its own: "
        f"series '{uid[first]}', crdc_series_uuid '{first}' and series '{uid[second]}', "
        f"crdc_series_uuid '{second}' would both go to 'collection/a_b/'; end the layout with "
        "{crdc_series_uuid}"
    )
    assert not out.exists()
    # the same series twice
    twice = [row(0), row(0)]
    with pytest.raises(UsageError) as caught:
        write(result_of(twice), str(tmp_path / "clash.json"), layout="{SeriesInstanceUID}")
    assert "the series with crdc_series_uuid" in str(caught.value)
    assert "is listed twice, both times go to '1.2.3.0.1/'" in str(caught.value)
    # distinct folders: written
    write(result_of(rows), str(out), layout="{SeriesInstanceUID}")
    assert [d for _, _, d in read_manifest(out.read_text()).lines] == [
        "1.2.3.0.1/",
        "1.2.3.1.1/",
        "1.2.3.2.1/",
    ]


FIELD_VALUES = st.one_of(st.none(), st.text(max_size=12), st.text(min_size=60, max_size=70))


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    st.lists(st.fixed_dictionaries(dict.fromkeys(LAYOUT_FIELDS, FIELD_VALUES)), max_size=15),
    st.sampled_from(["{PatientID}/{Modality}", "{collection_id}_{SeriesInstanceUID}"]),
)
def test_random_values_never_escape_collide_or_add_a_line(
    tmp_path_factory: pytest.TempPathFactory, values: list[dict[str, Any]], template: str
) -> None:
    folder = tmp_path_factory.mktemp("random")
    rows = [row(i, **v) for i, v in enumerate(values)]
    result = result_of(rows)
    # the default layout: always written, every series in a folder of its own
    out = folder / "default.s5cmd"
    write(result, str(out), destination="root")
    manifest = read_manifest(out.read_text(encoding="utf-8"))
    destinations = [d for _, _, d in manifest.lines]
    assert len(destinations) == len(rows) == manifest.provenance["series"]
    assert len(set(destinations)) == len(rows)
    for destination in destinations:
        assert_under(destination, "root")
    # a layout that may clash: written with distinct folders, or refused for a real clash
    expected = [_expected(r, template, ".") for r in rows]
    other = folder / "other.s5cmd"
    if len(set(expected)) < len(expected):
        with pytest.raises(UsageError, match="would both go to"):
            write(result, str(other), layout=template)
        assert not other.exists()
        return
    write(result, str(other), layout=template)
    written = [d for _, _, d in read_manifest(other.read_text(encoding="utf-8")).lines]
    assert written == expected
    assert len(set(written)) == len(written)


@pytest.mark.parametrize("fmt", ["csv", "tsv"])
def test_tables_of_hostile_values_keep_their_header_and_rows(tmp_path: Path, fmt: str) -> None:
    rows = _hostile_rows()
    result = result_of(rows)
    out = tmp_path / f"hostile.{fmt}"
    write(result, str(out))
    text = out.read_bytes().decode("utf-8")  # as written: no newline translation
    first = text.split("\n", 1)[0]
    n = int(first.split(", ")[1].split()[0])
    header = text.split("\n")[:n]
    assert all(line.startswith("# ") and line.isprintable() for line in header)
    assert first.endswith("cohort hostile\\ncp s3://evil/x/* /")
    body = text.split("\n", n)[n]
    read = list(
        csv.DictReader(io.StringIO(body, newline=""), delimiter="\t" if fmt == "tsv" else ",")
    )
    assert len(read) == len(rows)
    for got, want in zip(read, rows, strict=True):
        for column in result.columns:
            assert got[column] == (want[column] or "")
