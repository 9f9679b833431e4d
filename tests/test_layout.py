"""Layouts: what a template may say, and how DuckDB makes a value safe for a path.

The SQL of a safe value is checked against the documented rules written in Python
(``hostile.safe``), on every hostile value and on random text.
"""

from __future__ import annotations

import duckdb
import pyarrow as pa
import pytest
from hostile import HOSTILE, safe
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlglot import exp

from idc_sql.errors import UsageError
from idc_sql.writers import needs
from idc_sql.writers.layout import DEFAULT_LAYOUT, parse_layout, safe_value


def _sql_safe(values: list[str | None]) -> list[str]:
    """``safe_value`` run by DuckDB over ``values``, in order."""
    con = duckdb.connect()
    con.register("t", pa.table({"v": pa.array(values, pa.string()), "i": range(len(values))}))
    query = exp.select(safe_value(exp.column("v"))).from_("t").order_by("i")
    return [r[0] for r in con.execute(query.sql("duckdb")).fetchall()]


def test_every_hostile_value_is_made_safe_as_documented() -> None:
    values = list(HOSTILE)
    assert _sql_safe(values) == [safe(v) for v in values]
    examples = dict(zip(values, _sql_safe(values), strict=True))
    assert examples[None] == "_null_"
    assert examples[""] == "_empty_"
    assert examples["."] == "_."
    assert examples[".."] == "_.."
    assert examples["../../etc/passwd"] == "_.._.._etc_passwd"
    assert examples["\u2028"] == "_"
    assert examples["x\ncp s3://evil-bucket/0000/* /tmp/owned/"] == (
        "x_cp_s3___evil-bucket_0000____tmp_owned_"
    )
    assert examples["--recursive"] == "_--recursive"
    assert examples["a" * 300] == "a" * 64


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.one_of(st.none(), st.text(), st.text(min_size=60, max_size=80)), min_size=1, max_size=30
    )
)
def test_random_text_is_made_safe_as_documented(values: list[str | None]) -> None:
    made = _sql_safe(values)
    assert made == [safe(v) for v in values]
    for value in made:
        assert value
        assert not value.startswith((".", "-"))  # so neither . nor ..
        assert all(c.isascii() and (c.isalnum() or c in "._-") for c in value)
        assert len(value) <= 64


def test_safe_values_keep_their_type_as_text() -> None:
    con = duckdb.connect()
    query = exp.select(
        safe_value(exp.Literal.number(42)),
        safe_value(exp.cast(exp.Literal.string("2001-02-03"), "DATE")),
    )
    assert con.execute(query.sql("duckdb")).fetchall() == [("42", "2001-02-03")]


def test_the_default_layout() -> None:
    layout = parse_layout(None, None)
    assert layout.template == DEFAULT_LAYOUT
    assert layout.fields == (
        "collection_id",
        "PatientID",
        "StudyInstanceUID",
        "Modality",
        "crdc_series_uuid",
    )
    assert layout.unique  # its last folder ends in the (checked) uuid
    assert layout.shown == DEFAULT_LAYOUT


@pytest.mark.parametrize(
    ("template", "unique"),
    [
        ("{crdc_series_uuid}", True),
        ("{collection_id}/{crdc_series_uuid}", True),
        ("{crdc_series_uuid}_{Modality}/x", True),
        ("{collection_id}/{SeriesInstanceUID}", False),
        ("{collection_id}/x{crdc_series_uuid}x", True),
        ("{Modality}{crdc_series_uuid}{PatientID}", False),
        ("{crdc_series_uuid}{Modality}/{PatientID}", True),
    ],
)
def test_which_layouts_are_unique_by_construction(template: str, unique: bool) -> None:
    assert parse_layout(template, ".").unique is unique


def test_field_names_are_the_catalogs() -> None:
    layout = parse_layout("{COLLECTION_ID}/{patientid}/{crdc_series_uuid}", "data/")
    assert layout.fields == ("collection_id", "PatientID", "crdc_series_uuid")
    assert layout.root == "data"
    assert needs("s5cmd", layout="{BodyPartExamined}/{crdc_series_uuid}") == (
        "aws_bucket",
        "crdc_series_uuid",
        "BodyPartExamined",
    )


REFUSED = {
    "{PatientID!r}": "layout='{PatientID!r}' converts a field ({PatientID!r}); conversions (!r) "
    "are not supported: name the field only, {PatientID}",
    "{PatientID!s:>40}": "layout='{PatientID!s:>40}' converts a field ({PatientID!s:>40}); "
    "conversions (!s) are not supported: name the field only, {PatientID}",
    "{PatientID:>40}": "layout='{PatientID:>40}' formats a field ({PatientID:>40}); format "
    "specifications (:>40) are not supported: name the field only, {PatientID}",
    "{PatientID:{Modality}}": "layout='{PatientID:{Modality}}' formats a field "
    "({PatientID:{Modality}}); format specifications (:{Modality}) are not supported: name the "
    "field only, {PatientID}",
    'a"b/{crdc_series_uuid}': "layout='a\"b/{crdc_series_uuid}' holds '\"' outside the fields; "
    "the text of a layout is made of letters, digits, '.', '_', '-' and '/' between folders",
    "#/{crdc_series_uuid}": "layout='#/{crdc_series_uuid}' holds '#' outside the fields; the "
    "text of a layout is made of letters, digits, '.', '_', '-' and '/' between folders",
    "my data/{crdc_series_uuid}": "layout='my data/{crdc_series_uuid}' holds ' ' outside the "
    "fields; the text of a layout is made of letters, digits, '.', '_', '-' and '/' between "
    "folders",
    "a\u2028b/{crdc_series_uuid}": "layout='a\\u2028b/{crdc_series_uuid}' holds '\\u2028' outside "
    "the fields; the text of a layout is made of letters, digits, '.', '_', '-' and '/' between "
    "folders",
    "{{x}}/{crdc_series_uuid}": "layout='{{x}}/{crdc_series_uuid}' holds '{' outside the fields; "
    "the text of a layout is made of letters, digits, '.', '_', '-' and '/' between folders",
    "{}": "layout='{}' holds {}; a layout names fields of the result, e.g. {PatientID}",
    "{0}": "layout='{0}' holds {0}; a layout names fields of the result, e.g. {PatientID}",
    "{PatientID.real}": "layout='{PatientID.real}' holds {PatientID.real}; a layout names fields "
    "of the result, e.g. {PatientID}",
    "{PatientID[0]}": "layout='{PatientID[0]}' holds {PatientID[0]}; a layout names fields of "
    "the result, e.g. {PatientID}",
    "{PatientId}/{Modalty}": "layout='{PatientId}/{Modalty}' names {Modalty}, which is not a "
    "field; did you mean {Modality}?",
    "{SliceThickness}": "layout='{SliceThickness}' names {SliceThickness}, which is recorded per "
    "instance: a series has many values; name series-level fields",
    "{collection_id": "layout='{collection_id': expected '}' before end of string",
    "}": "layout='}': Single '}' encountered in format string",
    "": "layout='' names no folder; a layout gives every series a folder, e.g. "
    f"layout={DEFAULT_LAYOUT!r}",
    "/": "layout='/' names no folder; a layout gives every series a folder, e.g. "
    f"layout={DEFAULT_LAYOUT!r}",
    "/{crdc_series_uuid}": "layout='/{crdc_series_uuid}' has an empty folder (a leading or "
    "doubled /); a layout is relative to destination",
    "a//{crdc_series_uuid}": "layout='a//{crdc_series_uuid}' has an empty folder (a leading or "
    "doubled /); a layout is relative to destination",
    "../{crdc_series_uuid}": "layout='../{crdc_series_uuid}' has a folder beginning with '.'; a "
    "folder of a layout begins with a letter, a digit, '_' or a field",
    "./{crdc_series_uuid}": "layout='./{crdc_series_uuid}' has a folder beginning with '.'; a "
    "folder of a layout begins with a letter, a digit, '_' or a field",
    ".{crdc_series_uuid}": "layout='.{crdc_series_uuid}' has a folder beginning with '.'; a "
    "folder of a layout begins with a letter, a digit, '_' or a field",
    "{PatientID}{StudyInstanceUID}{SeriesInstanceUID}{Modality}": "layout="
    "'{PatientID}{StudyInstanceUID}{SeriesInstanceUID}{Modality}' has a folder whose name could "
    "be 256 characters long (a value takes up to 64), more than the 255 a file name may have; "
    "put fewer fields in one folder",
    "-{crdc_series_uuid}": "layout='-{crdc_series_uuid}' has a folder beginning with '-'; a "
    "folder of a layout begins with a letter, a digit, '_' or a field",
}


@pytest.mark.parametrize("template", list(REFUSED))
def test_refused_layouts(template: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse_layout(template, ".")
    assert str(caught.value) == REFUSED[template]


ROOT_UNSAFE = (
    " holds a space, control character, quote, #, backslash, brace or wildcard, which s5cmd "
    "cannot read in a manifest line"
)


@pytest.mark.parametrize(
    ("root", "message"),
    [
        ("", "destination must not be empty (the current folder is .)"),
        ("my data", "destination='my data'" + ROOT_UNSAFE),
        ("data#1", "destination='data#1'" + ROOT_UNSAFE),
        ('data"', "destination='data\"'" + ROOT_UNSAFE),
        ("a\\b", "destination='a\\\\b'" + ROOT_UNSAFE),
        ("a\x0bb", "destination='a\\x0bb'" + ROOT_UNSAFE),
        ("a\u2028b", "destination='a\\u2028b'" + ROOT_UNSAFE),
        ("a\u200bb", "destination='a\\u200bb'" + ROOT_UNSAFE),
        ("data/*", "destination='data/*'" + ROOT_UNSAFE),
        ("data/{PatientID}", "destination='data/{PatientID}'" + ROOT_UNSAFE + "; name fields "
         "with layout"),
        ("-data", "destination='-data' would be read as an option; write ./-data"),
    ],
)  # fmt: skip
def test_refused_roots(root: str, message: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse_layout(None, root)
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("root", "kept"),
    [(".", "."), ("./", "."), ("data/", "data"), ("/", "/"), ("/srv/idc//", "/srv/idc"),
     ("../data", "../data"), ("données", "données")],
)  # fmt: skip
def test_accepted_roots(root: str, kept: str) -> None:
    assert parse_layout(None, root).root == kept


@pytest.mark.parametrize(
    ("fmt", "option"),
    [("csv", "destination"), ("parquet", "layout"), ("jsonl", "cloud")],
)
def test_tables_take_no_destination_layout_or_cloud(fmt: str, option: str) -> None:
    with pytest.raises(UsageError) as caught:
        needs(fmt, **{option: "x"})
    assert str(caught.value) == (
        f"{option} applies to manifests (s5cmd, manifest-json); a {fmt} file lists the columns only"
    )


def test_an_unknown_cloud() -> None:
    with pytest.raises(UsageError) as caught:
        needs("s5cmd", cloud="azure")
    assert str(caught.value) == "cloud='azure' is not a cloud; choose one of aws, gcs"
