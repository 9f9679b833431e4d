"""Messages of the ``idc-sql`` command, exactly as a user reads them: every problem of a
specification, and warnings about values that match nothing. A process of its own each time,
on the local index; outputs are checked untouched."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

CLI = (sys.executable, "-m", "idc_sql.cli")
OLD = b"an earlier manifest\n"


def idc_sql(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args], cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )


BAD = """\
name: bad
where:
  all:
    - collection_id: rider_pilot
    - Modalty: CT
    - PatientAge: {gt: 60}
  limit: 10
"""
BAD_LINES = [
    "idc-sql: error: bad.yaml: where.all[1].Modalty: unknown field 'Modalty'; did you mean "
    "Modality? (`idc-sql fields --engine local` lists the local fields)",
    "idc-sql: error: bad.yaml: where.all[2].PatientAge.gt: PatientAge is text in DICOM's form "
    "('065Y', '018M', '003W', '010D'), not a number; compare ages in years with "
    "patient_age_years (e.g. patient_age_years: {gt: 60})",
]


def test_every_problem_is_a_line_of_its_own(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text(BAD, encoding="utf-8")
    (tmp_path / "bad.s5cmd").write_bytes(OLD)
    for command in (["run", "bad.yaml", "-o", "bad.s5cmd"], ["count", "bad.yaml"]):
        done = idc_sql(*command, cwd=tmp_path)
        assert (done.returncode, done.stdout) == (2, "")
        # limit beside all: the predicate's structure is refused first, alone
        assert done.stderr.splitlines() == [
            "idc-sql: error: bad.yaml: where: a predicate has exactly one of all, any, not, "
            "study_has, patient_has, segmented_by, segments and nothing beside it; got keys all, "
            "limit ('limit' belongs to the specification's top level, beside name: move it out "
            "of where)"
        ]
    (tmp_path / "bad.yaml").write_text(BAD.replace("  limit: 10\n", ""), encoding="utf-8")
    for command in (["run", "bad.yaml", "-o", "bad.s5cmd"], ["count", "bad.yaml"]):
        done = idc_sql(*command, cwd=tmp_path)
        assert (done.returncode, done.stdout, done.stderr.splitlines()) == (2, "", BAD_LINES)
    done = idc_sql("validate", "bad.yaml", cwd=tmp_path)
    assert (done.returncode, done.stderr.splitlines()) == (2, BAD_LINES)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.s5cmd", "bad.yaml"]
    assert (tmp_path / "bad.s5cmd").read_bytes() == OLD


def test_top_level_keys_under_where(tmp_path: Path) -> None:
    spec = "name: x\nwhere:\n  Modality: CT\n  instances: all\n  columns: [PatientID]\n"
    (tmp_path / "x.yaml").write_text(spec, encoding="utf-8")
    done = idc_sql("run", "x.yaml", "-o", "x.s5cmd", cwd=tmp_path)
    top = "is not a field but a key of the specification's top level, beside name"
    assert (done.returncode, done.stdout, done.stderr.splitlines()) == (
        2,
        "",
        [
            f"idc-sql: error: x.yaml: where.instances: 'instances' {top} (instances: all makes "
            "every instance-level condition hold for every instance of a series; the default, "
            "any, for at least one): move it out of where",
            f"idc-sql: error: x.yaml: where.columns: 'columns' {top}: move it out of where",
        ],
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.yaml"]


def test_an_unknown_unit(tmp_path: Path) -> None:
    spec = "name: x\nunit: studies\nlimit: 10\nwhere:\n  Modality: CT\n"
    (tmp_path / "x.yaml").write_text(spec, encoding="utf-8")
    (tmp_path / "x.s5cmd").write_bytes(OLD)
    for command in (
        ["run", "x.yaml", "-o", "x.s5cmd"],
        ["count", "x.yaml"],
        ["validate", "x.yaml"],
    ):
        done = idc_sql(*command, cwd=tmp_path)
        assert (done.returncode, done.stdout, done.stderr.splitlines()) == (
            2,
            "",
            [
                "idc-sql: error: x.yaml: unit: input should be 'series', 'study' or 'patient', "
                "got str 'studies'"
            ],
        )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.s5cmd", "x.yaml"]
    assert (tmp_path / "x.s5cmd").read_bytes() == OLD


def test_a_one_member_union(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("name: a\nwhere: {Modality: CT}\n", encoding="utf-8")
    (tmp_path / "u.yaml").write_text("name: u\nunion: [a.yaml]\nlimit: 0\n", encoding="utf-8")
    done = idc_sql("count", "u.yaml", cwd=tmp_path)
    assert (done.returncode, done.stdout, done.stderr.splitlines()) == (
        2,
        "",
        [
            "idc-sql: error: u.yaml: limit: input should be greater than 0, got int 0",
            "idc-sql: error: u.yaml: union: union combines at least 2 cohorts, got 1",
        ],
    )


# ----------------------------------------------------------------------------- values


TYPOS = """\
name: typos
where:
  collection_id: [rider_pilot, lidc-idri, RIDER-Pilot]
  Modality: [CT, MRI]
"""
TYPO_WARNINGS = [
    "idc-sql: warning: no series has collection_id 'lidc-idri'; did you mean 'lidc_idri'?",
    "idc-sql: warning: no series has collection_id 'RIDER-Pilot'; did you mean 'rider_pilot'?",
    "idc-sql: warning: no series has Modality 'MRI'; did you mean 'MR'?",
]


def _body(path: Path) -> list[str]:
    return [line for line in path.read_text().splitlines() if not line.startswith("#")]


def test_values_that_match_nothing_are_warned_of(tmp_path: Path) -> None:
    (tmp_path / "typos.yaml").write_text(TYPOS, encoding="utf-8")
    plain = TYPOS.replace(", lidc-idri, RIDER-Pilot", "").replace(", MRI", "")
    (tmp_path / "plain.yaml").write_text(plain.replace("typos", "plain"), encoding="utf-8")
    done = idc_sql("run", "typos.yaml", "-o", "typos.s5cmd", cwd=tmp_path)
    assert (done.returncode, done.stderr.splitlines()) == (0, TYPO_WARNINGS)
    assert "wrote typos.s5cmd (s5cmd, " in done.stdout
    done = idc_sql("run", "plain.yaml", "-o", "plain.s5cmd", cwd=tmp_path)
    assert (done.returncode, done.stderr) == (0, "")
    # the warnings change nothing of the result
    assert _body(tmp_path / "typos.s5cmd") == _body(tmp_path / "plain.s5cmd")
    assert len(_body(tmp_path / "plain.s5cmd")) > 0
    counted = idc_sql("count", "typos.yaml", "--json", cwd=tmp_path)
    plain_count = idc_sql("count", "plain.yaml", "--json", cwd=tmp_path)
    assert (counted.returncode, counted.stderr.splitlines()) == (0, TYPO_WARNINGS)
    assert json.loads(counted.stdout)["series"] == json.loads(plain_count.stdout)["series"]


def test_like_patterns_written_with_stars(tmp_path: Path) -> None:
    spec = (
        "name: stars\nwhere:\n  any:\n    - collection_id: {like: 'tcga*'}\n"
        "    - SeriesDescription: {ilike: '?ung'}\n    - PatientID: {like: 'LIDC*_0001'}\n"
    )
    (tmp_path / "stars.yaml").write_text(spec, encoding="utf-8")
    done = idc_sql("count", "stars.yaml", cwd=tmp_path)
    wildcards = "whose wildcards are % (any text) and _ (one character); did you mean"
    assert (done.returncode, done.stderr.splitlines()) == (
        0,
        [
            f"idc-sql: warning: collection_id like 'tcga*': * and ? match themselves in like, "
            f"{wildcards} 'tcga%'?",
            f"idc-sql: warning: SeriesDescription ilike '?ung': * and ? match themselves in "
            f"ilike, {wildcards} '_ung'?",
        ],
    )
    assert "series                  0" in done.stdout
