"""What the refresh tests share: the releases computed independently from the installed index,
and a state folder reduced to what must not depend on when or how often a refresh ran."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import idc_index_data
import pandas as pd
import pyarrow.parquet as pq

INDEX = Path(idc_index_data.IDC_INDEX_PARQUET_FILEPATH)
PRIOR = Path(idc_index_data.PRIOR_VERSIONS_INDEX_PARQUET_FILEPATH)
#: three collections that changed from v24 to v25 (series added, removed and revised)
COLLECTIONS = ["htan_ohsu", "htan_tnp_sardana", "tcga_kich"]
COLUMNS = ["collection_id", "SeriesInstanceUID", "Modality", "crdc_series_uuid", "aws_bucket"]


def served(
    release: int, collections: list[str], modalities: list[str] | None = None
) -> pd.DataFrame:
    """The series release ``release`` served in ``collections`` (of ``modalities``), one row each,
    from the index's version columns and prior_versions_index, indexed by SeriesInstanceUID."""
    now = pq.read_table(INDEX, columns=[*COLUMNS, "series_revised_idc_version"]).to_pandas()
    now = now[now.series_revised_idc_version <= release][COLUMNS]
    prior = pq.read_table(
        PRIOR, columns=[*COLUMNS, "min_idc_version", "max_idc_version"]
    ).to_pandas()
    prior = prior[(prior.min_idc_version <= release) & (prior.max_idc_version >= release)]
    # a version kept in several buckets has one row per bucket: the one served last holds it
    prior = prior.sort_values("max_idc_version").drop_duplicates("crdc_series_uuid", keep="last")
    both = pd.concat([now, prior[COLUMNS]], ignore_index=True)
    both = both[both.collection_id.isin(collections)]
    if modalities is not None:
        both = both[both.Modality.isin(modalities)]
    assert both.SeriesInstanceUID.is_unique
    return both.set_index("SeriesInstanceUID")


@dataclass(frozen=True)
class Delta:
    added: set[str]
    removed: set[str]
    revised: set[str]
    unchanged: set[str]
    #: the (bucket, crdc_series_uuid) to fetch: added and revised, as ``after`` serves them
    fetch: set[tuple[str, str]]


def delta(before: pd.DataFrame, after: pd.DataFrame) -> Delta:
    old, new = set(before.index), set(after.index)
    both = old & new
    revised = {
        uid
        for uid in both
        if before.at[uid, "crdc_series_uuid"] != after.at[uid, "crdc_series_uuid"]
    }
    added = new - old
    fetch = {
        (after.at[uid, "aws_bucket"], after.at[uid, "crdc_series_uuid"]) for uid in added | revised
    }
    return Delta(added, old - new, revised, both - revised, fetch)


def manifest_lines(path: Path) -> list[str]:
    return [line for line in path.read_text().splitlines() if not line.startswith("#")]


def manifest_series(path: Path) -> list[tuple[str, str]]:
    """(bucket, crdc_series_uuid) of each line of an s5cmd manifest."""
    found = []
    for line in manifest_lines(path):
        source = line.split()[1]  # cp s3://BUCKET/UUID/* DESTINATION
        bucket, uuid, _ = source.removeprefix("s3://").split("/")
        found.append((bucket, uuid))
    return found


def table(path: Path) -> pd.DataFrame:
    """A csv that idc-sql wrote (comment lines first), indexed by SeriesInstanceUID."""
    lines = [line for line in path.read_text().splitlines() if not line.startswith("#")]
    return pd.read_csv(io.StringIO("\n".join(lines)), dtype=str).set_index("SeriesInstanceUID")


def state_signature(root: Path) -> dict[str, Any]:
    """Everything a state holds, less what depends on when it was written: the history's
    records without ``when``, and every recorded snapshot's files (parquet as rows and
    provenance, text without the lines that tell the time). Anything else in the folder (a
    leftover of an interrupted refresh) is listed by name."""
    log = root / "history.jsonl"
    records = []
    if log.exists():
        for line in log.read_text().splitlines():
            record = json.loads(line)
            record.pop("when")
            records.append(record)
    files: dict[str, Any] = {}
    recorded = {f"{r['cohort']}/{r['snapshot']}" for r in records}
    stray = []
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        parts = rel.split("/")
        if rel in (".lock", "history.jsonl"):
            continue
        hidden = parts[-1].startswith(".")
        if len(parts) == 1 and path.is_dir() and not hidden:
            continue  # a cohort's folder
        if len(parts) == 2 and path.is_dir() and rel in recorded:
            continue
        if len(parts) != 3 or hidden or not path.is_file() or "/".join(parts[:2]) not in recorded:
            stray.append(rel)
            continue
        if path.suffix == ".parquet":
            table = pq.read_table(path)
            meta = json.loads(table.schema.metadata[b"idc_sql"])
            meta.pop("when")
            files[rel] = (table.to_pylist(), meta)
        else:
            # comment lines tell when a file was written; changes.txt when its snapshot was
            files[rel] = [
                line
                for line in path.read_text().splitlines()
                if not line.startswith("#") and "recorded" not in line
            ]
    return {"history": records, "files": files, "stray": stray}
