"""The same cohorts on both engines: BigQuery SQL run on the emulator against the local engine.

The emulator holds whole patients of the local index (``fixture_series()``), one ``dicom_all``
row per instance. For every spec, the local engine answers over the same series (the spec is
restricted to them with a ``SeriesInstanceUID`` condition, which keeps order and limit
comparable) and both answers must hold exactly the same series, in the same order, with the same
whole-series counts, sizes and attributes.
"""

from __future__ import annotations

import math
import random
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
import yaml

import idc_sql
from idc_sql.engines.bigquery import BigQueryEngine, Settings

from .emulator import Emulator
from .fixture import fixture_collections, fixture_series

GOLDEN = Path(__file__).resolve().parents[1] / "golden"
COMPARED = [
    "SeriesInstanceUID",
    "collection_id",
    "PatientID",
    "StudyInstanceUID",
    "Modality",
    "instanceCount",
    "series_size_MB",
    "BodyPartExamined",
    "PatientAge",
    "patient_age_years",
    "StudyDate",
    "SeriesDescription",
    "SeriesNumber",
    "TransferSyntaxUID",
    "transfer_syntax_name",
    "PhotometricInterpretation",
    "PixelRepresentation",
    "collection_name",
    "collection_cancerType",
    "collection_tumorLocation",
    "collection_species",
    "sop_class_name",
    "series_aws_url",
    "source_DOI",
    "series_init_idc_version",
    "series_revised_idc_version",
    "aws_bucket",
    "crdc_series_uuid",
    "viewer_url",
]


@pytest.fixture(scope="module")
def engine(bq_emulator: Emulator) -> BigQueryEngine:
    settings = Settings(project="idc-sql-tests", endpoint=bq_emulator.endpoint, deadline=10)
    return BigQueryEngine(settings)


@pytest.fixture(scope="module")
def series_uids() -> list[str]:
    return sorted(fixture_series().column("SeriesInstanceUID").to_pylist())


def _local(spec: dict[str, Any], uids: list[str]) -> pa.Table:
    """The local answer over the fixture's series only."""
    where = spec.get("where")
    restricted = {"SeriesInstanceUID": uids}
    local = {**spec, "where": {"all": [restricted, where]} if where else restricted}
    return idc_sql.run(local).to_arrow()


def _bigquery(spec: dict[str, Any], engine: BigQueryEngine) -> pa.Table:
    result = idc_sql.run(idc_sql.parse_spec(spec), engine)
    return result.to_arrow()


def assert_same(local: pa.Table, remote: pa.Table, label: str) -> None:
    assert remote.column_names == local.column_names, label
    assert remote.num_rows == local.num_rows, (
        f"{label}: local {local.num_rows} series, BigQuery {remote.num_rows}"
    )
    for name in local.column_names:
        mine, theirs = local.column(name).to_pylist(), remote.column(name).to_pylist()
        for i, (a, b) in enumerate(zip(mine, theirs, strict=True)):
            if isinstance(a, float) and isinstance(b, float):
                assert math.isclose(a, b, rel_tol=1e-12), f"{label}: {name}[{i}] {a} != {b}"
            else:
                assert a == b, f"{label}: {name}[{i}]: local {a!r}, BigQuery {b!r}"


# ----------------------------------------------------------------------------- golden specs


def _golden_specs() -> list[tuple[str, dict[str, Any]]]:
    """The golden cohort specs both engines answer (no sets, no instance-level fields)."""
    out = []
    for folder in sorted(GOLDEN.iterdir()):
        spec_file = folder / "spec.yaml"
        if not spec_file.is_file() or (folder / "local.error.txt").exists():
            continue
        spec = yaml.safe_load(spec_file.read_text())
        if any(k in spec for k in ("union", "intersect", "except")):
            continue
        spec["idc_version"] = 25
        out.append((folder.name, spec))
    return out


@pytest.mark.parametrize(
    ("case", "spec"), _golden_specs(), ids=lambda v: v if isinstance(v, str) else ""
)
def test_golden_specs_agree(
    case: str,
    spec: dict[str, Any],
    engine: BigQueryEngine,
    series_uids: list[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(GOLDEN / case)  # files of values are read relative to the spec
    spec = {**spec, "columns": COMPARED}
    assert_same(_local(spec, series_uids), _bigquery(spec, engine), case)


# ----------------------------------------------------------------------------- random specs

RANDOM_SPECS = 40


class _Specs:
    """Random specs whose values come from the fixture's own series."""

    def __init__(self, table: pa.Table, seed: int) -> None:
        self.rng = random.Random(seed)
        self.units = random.Random(seed + 1)
        self.values = {
            name: sorted({v for v in table.column(name).to_pylist() if v is not None}, key=str)
            for name in (
                "collection_id",
                "Modality",
                "BodyPartExamined",
                "Manufacturer",
                "PatientSex",
                "SeriesNumber",
                "instanceCount",
                "StudyDate",
                "SeriesDescription",
                "PatientAge",
                "series_init_idc_version",
            )
        }
        # each value of the multi-valued fields, as a condition names it
        for name in ("TransferSyntaxUID", "PhotometricInterpretation"):
            joined = {v for v in table.column(name).to_pylist() if v is not None}
            self.values[name] = sorted({one for v in joined for one in v.split(",")})
        collections = fixture_collections()
        held = [collections[c] for c in self.values["collection_id"]]
        for name, source in (("collection_cancerType", "cancer_types"), ("species", "species")):
            self.values[name] = sorted({one for c in held for one in c[source].split(", ")})

    def pick(self, name: str) -> Any:
        return self.rng.choice(self.values[name])

    def atom(self) -> dict[str, Any]:
        r = self.rng
        kind = r.randrange(16)
        if kind == 0:
            return {"collection_id": r.sample(self.values["collection_id"], 3)}
        if kind == 1:
            return {"Modality": self.pick("Modality")}
        if kind == 2:
            return {"BodyPartExamined": {"ne": self.pick("BodyPartExamined")}}
        if kind == 3:
            return {"Manufacturer": {"not_in": [self.pick("Manufacturer")]}}
        if kind == 4:
            n = float(self.pick("SeriesNumber")) if _is_number(self.pick("SeriesNumber")) else 3
            return {"SeriesNumber": {r.choice(["lt", "lte", "gt", "gte"]): n}}
        if kind == 5:
            lo = self.pick("instanceCount")
            return {"instanceCount": {"between": [lo, lo + r.randrange(20)]}}
        if kind == 6:
            return {"StudyDate": {r.choice(["lt", "gte"]): self.pick("StudyDate")}}
        if kind == 7:
            word = self.pick("SeriesDescription")[:3]
            return {"SeriesDescription": {"ilike": f"%{word}%"}}
        if kind == 8:
            return {
                r.choice(["PatientAge", "BodyPartExamined", "SeriesDescription"]): {
                    "is_null": r.random() < 0.5
                }
            }
        if kind == 9:
            return {"patient_age_years": {"gte": r.randrange(10, 80)}}
        if kind == 10:
            return {"series_size_MB": {"lt": r.choice([0.5, 5.0, 50.0])}}
        if kind == 11:
            return {"SeriesDescription": {"regex": r.choice(["^[A-Z]", "[0-9]", "(?i)ax", "seg"])}}
        if kind == 12:  # multi-valued: one of the values, by operator
            name = r.choice(["TransferSyntaxUID", "PhotometricInterpretation"])
            op = r.choice(["eq", "in", "ne", "not_in", "contains", "like"])
            value = self.pick(name)
            if op in ("in", "not_in"):
                return {name: {op: [value, self.pick(name)]}}
            return {name: {op: value[:6] + "%" if op == "like" else value}}
        if kind == 13:
            return {
                "transfer_syntax_name": {
                    r.choice(["like", "ilike"]): r.choice(["JPEG%", "%endian"])
                }
            }
        if kind == 14:
            return {
                "collection_cancerType": {
                    r.choice(["eq", "contains"]): self.pick("collection_cancerType")
                }
            }
        return {"collection_species": {"in": [self.pick("species"), "Canine"]}}

    def predicate(self, depth: int = 0) -> dict[str, Any]:
        r = self.rng
        roll = r.random()
        if depth >= 2 or roll < 0.45:
            return self.atom()
        if roll < 0.65:
            return {"all": [self.predicate(depth + 1) for _ in range(r.randrange(1, 4))]}
        if roll < 0.8:
            return {"any": [self.predicate(depth + 1) for _ in range(r.randrange(1, 4))]}
        if roll < 0.88:
            return {"not": self.predicate(depth + 1)}
        if roll < 0.95:
            return {"study_has": self.predicate(depth + 1)}
        return {"patient_has": self.predicate(depth + 1)}

    def spec(self, i: int) -> dict[str, Any]:
        spec: dict[str, Any] = {
            "name": f"random-{i}",
            "idc_version": 25,
            "where": self.predicate(),
            "columns": COMPARED,
        }
        if self.rng.random() < 0.3:
            spec["order_by"] = [
                self.rng.choice(["-series_size_MB", "instanceCount", "-StudyDate", "Modality"])
            ]
        if self.rng.random() < 0.3:
            spec["limit"] = self.rng.randrange(1, 200)
        if self.rng.random() < 0.2:
            spec["instances"] = "all"
        if self.units.random() < 0.3:  # drawn apart: the other draws stay as they were
            spec["unit"] = self.units.choice(["study", "patient"])
            if "limit" not in spec and self.units.random() < 0.7:
                spec["limit"] = self.units.randrange(1, 20)
        return spec


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def test_random_specs_agree(engine: BigQueryEngine, series_uids: list[str]) -> None:
    specs = _Specs(fixture_series(), seed=25)
    nonempty = 0
    for i in range(RANDOM_SPECS):
        spec = specs.spec(i)
        local = _local(spec, series_uids)
        assert_same(local, _bigquery(spec, engine), f"random spec {i}: {spec['where']}")
        nonempty += local.num_rows > 0
    # the comparison means something only if most answers hold series
    assert nonempty >= RANDOM_SPECS // 2, nonempty


def test_set_specs_agree(engine: BigQueryEngine, series_uids: list[str], tmp_path: Path) -> None:
    members = {
        "ct.yaml": {"name": "ct", "idc_version": 25, "where": {"Modality": "CT"}},
        "seg-studies.yaml": {
            "name": "seg-studies",
            "idc_version": 25,
            "where": {"study_has": {"Modality": "SEG"}},
        },
        "small.yaml": {"name": "small", "idc_version": 25, "where": {"instanceCount": {"lte": 5}}},
    }
    for name, body in members.items():
        (tmp_path / name).write_text(yaml.safe_dump(body))
    for op, paths in (
        ("union", ["ct.yaml", "small.yaml"]),
        ("intersect", ["ct.yaml", "seg-studies.yaml"]),
        ("except", ["seg-studies.yaml", "ct.yaml", "small.yaml"]),
    ):
        spec_file = tmp_path / f"{op}.yaml"
        spec_file.write_text(
            yaml.safe_dump({"name": op, "idc_version": 25, op: paths, "columns": COMPARED})
        )
        remote = idc_sql.run(idc_sql.load_spec(spec_file), engine).to_arrow()
        local = idc_sql.run(spec_file).to_arrow()
        keep = set(series_uids)
        local = local.filter(
            pa.array([u in keep for u in local.column("SeriesInstanceUID").to_pylist()])
        )
        assert_same(local, remote, op)
        assert remote.num_rows > 0, op


def test_set_specs_by_unit_agree(
    engine: BigQueryEngine, series_uids: list[str], tmp_path: Path
) -> None:
    # the members keep to the emulator's series on both engines, so that the first units of
    # their combination are the same units
    within = {"SeriesInstanceUID": series_uids}
    members = {
        "ct.yaml": {"all": [within, {"Modality": "CT"}]},
        "small.yaml": {"all": [within, {"instanceCount": {"lte": 5}}]},
        "seg-studies.yaml": {"all": [within, {"study_has": {"Modality": "SEG"}}]},
    }
    for name, where in members.items():
        body = {"name": name.removesuffix(".yaml"), "idc_version": 25, "where": where}
        (tmp_path / name).write_text(yaml.safe_dump(body))
    cases = [
        ("union", ["ct.yaml", "small.yaml"], "study", ["-series_size_MB"], 4),
        ("intersect", ["ct.yaml", "seg-studies.yaml"], "patient", [], 2),
        ("except", ["seg-studies.yaml", "ct.yaml"], "study", ["instanceCount"], 3),
    ]
    for op, paths, unit, order_by, limit in cases:
        spec = {"name": op, "idc_version": 25, op: paths, "columns": COMPARED}
        spec.update(unit=unit, order_by=order_by, limit=limit)
        spec_file = tmp_path / f"{op}.yaml"
        spec_file.write_text(yaml.safe_dump(spec))
        remote = idc_sql.run(idc_sql.load_spec(spec_file), engine).to_arrow()
        local = idc_sql.run(spec_file).to_arrow()
        assert_same(local, remote, f"{op} by {unit}")
        key = ["StudyInstanceUID"] if unit == "study" else ["collection_id", "PatientID"]
        units = {tuple(row[k] for k in key) for row in local.to_pylist()}
        assert len(units) == limit, op


# ----------------------------------------------------------------------------- narrowing


def test_cohorts_narrowed_to_their_collections_agree(
    engine: BigQueryEngine, series_uids: list[str]
) -> None:
    # a top-level collection_id condition also filters dicom_all before grouping (BigQuery then
    # reads only those collections' blocks); with patient_has beside it, and with study_has
    # (which is left whole), the answers must not change
    table = fixture_series()
    with_seg = sorted(
        {
            c
            for c, m in zip(
                table["collection_id"].to_pylist(), table["Modality"].to_pylist(), strict=True
            )
            if m == "SEG"
        }
    )[:2]
    assert len(with_seg) == 2
    other = next(c for c in sorted(set(table["collection_id"].to_pylist())) if c not in with_seg)
    cases = {
        "in-list, patient_has": {
            "all": [{"collection_id": [*with_seg, other]}, {"patient_has": {"Modality": "SEG"}}]
        },
        "eq operator, study_has": {
            "all": [
                {"collection_id": {"eq": with_seg[0]}, "Modality": {"ne": "SEG"}},
                {"study_has": {"Modality": "SEG"}},
            ]
        },
        "nested all": {"all": [{"all": [{"collection_id": {"in": with_seg}}]}, {"Modality": "CT"}]},
    }
    for label, where in cases.items():
        spec = {"name": "narrowed", "idc_version": 25, "where": where, "columns": COMPARED}
        local = _local(spec, series_uids)
        assert local.num_rows > 0, label
        assert_same(local, _bigquery(spec, engine), label)
