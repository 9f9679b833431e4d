"""The s5cmd manifest writer: DuckDB writes the lines after a line that reserves room for the
header, and the header is written over that line once the summary is counted."""

from __future__ import annotations

from pathlib import Path

import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from sqlglot import exp

import idc_sql
from idc_sql import writers
from idc_sql.engines.local import index_dir
from idc_sql.result import Summary
from idc_sql.writers import CLOUDS
from idc_sql.writers import s5cmd as manifests
from idc_sql.writers.layout import parse_layout

SPEC = {
    "name": "rider-ct",
    "where": {"collection_id": "rider_pilot", "Modality": "CT"},
    "columns": ["SeriesInstanceUID"],
}


#: the default layout, as Python formats it (rider_pilot's values are all safe for a path)
DEFAULT = "{collection_id}/{PatientID}/{StudyInstanceUID}/{Modality}_{crdc_series_uuid}/"


def _expected_lines(destination: str = DEFAULT) -> list[str]:
    """The manifest lines, computed from the parquet file with pyarrow, in the index's order."""
    table = pq.read_table(
        index_dir() / "idc_index.parquet",
        columns=[
            "collection_id",
            "PatientID",
            "StudyInstanceUID",
            "SeriesInstanceUID",
            "Modality",
            "aws_bucket",
            "crdc_series_uuid",
        ],
    )
    mask = pc.and_(
        pc.equal(table["collection_id"], "rider_pilot"), pc.equal(table["Modality"], "CT")
    )
    rows = table.filter(mask).to_pylist()
    return [
        f"cp s3://{r['aws_bucket']}/{r['crdc_series_uuid']}/* {destination.format(**r)}"
        for r in rows
    ]


def _split(path: Path) -> tuple[list[str], list[str]]:
    lines = path.read_bytes().decode("utf-8").split("\n")
    assert lines[-1] == ""  # ends with a newline
    header = [line for line in lines[:-1] if line.startswith("#")]
    assert lines[: len(header)] == header  # the header comes first, in one block
    return header, lines[len(header) : -1]


def _assert_written_whole(out: Path) -> None:
    """The manifest at ``out`` holds exactly the header, unpadded, then every line."""
    result = idc_sql.run(idc_sql.parse_spec(SPEC))
    result.write(str(out))
    header, body = _split(out)
    assert body == _expected_lines()
    assert "\n".join(header) + "\n" == manifests.header(
        result, _job(result, out.name, _written(header))
    )


def _written(header: list[str]) -> str:
    """When the manifest with ``header`` was written, as its last line says."""
    return header[-1].split(" at ")[1].strip()


def _job(result: idc_sql.CohortResult, name: str, written_at: str | None = None) -> writers.Job:
    """The job of writing ``result`` to ``name`` with the default layout on AWS."""
    return writers.Job(
        "s5cmd",
        name,
        written_at or "",
        layout=parse_layout(None, None),
        cloud=CLOUDS["aws"],
    )


def test_the_header_is_written_over_the_reserved_line(tmp_path: Path) -> None:
    result = idc_sql.run(idc_sql.parse_spec(SPEC))
    out = tmp_path / "rider.s5cmd"
    result.write(str(out))
    header, body = _split(out)
    assert body == _expected_lines()
    # exactly the header text, its last line padded to the room reserved for any summary
    job = _job(result, "rider.s5cmd", _written(header))
    text = manifests.header(result, job)
    assert [line.rstrip(" ") for line in header] == text.splitlines()
    room = len(manifests.header_text(result.provenance, manifests.largest(), job))
    assert len("\n".join(header)) + 1 == room
    assert header[-1].startswith(f"# written by idc-sql {idc_sql.__version__} at 20")
    assert header[-1].rstrip(" ").endswith("Z")
    assert header[-1].endswith(" ")  # padded
    assert all(not line.endswith(" ") for line in header[:-1])


def test_a_header_wider_than_the_room_rewrites_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a summary wider than the room made for it (none is, below BIGINT's limit): the lines
    # are moved down, and nothing is lost
    monkeypatch.setattr(manifests, "largest", lambda: Summary(0, 0, 0, 0, 0.0))
    _assert_written_whole(tmp_path / "rider.s5cmd")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rider.s5cmd"]


def test_destination_templates_and_standard_output_use_the_same_writer(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    result = idc_sql.run(idc_sql.parse_spec(SPEC))
    result.write("-")
    printed = capsys.readouterr().out.split("\n")
    assert [line for line in printed if line and not line.startswith("#")] == _expected_lines()
    out = tmp_path / "folders.s5cmd"
    writers.write(
        result, str(out), "s5cmd", destination="data", layout="{collection_id}/{SeriesInstanceUID}"
    )
    _, body = _split(out)
    assert body == _expected_lines("data/{collection_id}/{SeriesInstanceUID}/")


def test_a_reserved_line_not_as_asked_for_is_replaced_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # should DuckDB ever write the reserved line differently (quoted, another width), the
    # header must not be written over the first lines
    lines = manifests.manifest_lines

    def other_name(
        result: object, layout: object, cloud: object, *, alias: exp.Identifier
    ) -> exp.Select:
        reserved = exp.to_identifier("# reserved", quoted=True)
        return lines(result, layout, cloud, alias=reserved)  # type: ignore[arg-type]

    monkeypatch.setattr(manifests, "manifest_lines", other_name)
    _assert_written_whole(tmp_path / "rider.s5cmd")


def test_an_output_name_near_the_file_system_limit(tmp_path: Path) -> None:
    result = idc_sql.run(idc_sql.parse_spec(SPEC))
    out = tmp_path / ("r" * 249 + ".s5cmd")  # 255 bytes, the usual NAME_MAX
    result.write(str(out))
    assert _split(out)[1] == _expected_lines()
    assert [p.name for p in tmp_path.iterdir()] == [out.name]
