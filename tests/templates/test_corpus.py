"""A corpus of queries in the shapes IDC users write (UNNEST of nested sequences and private
tags, joins to segmentations, measurements and clinical tables, legacy ``canceridc-data``
names, pinned releases, wildcard tables, series-level GROUP BY, manifest-building SELECTs),
written for these tests. Each file's first line says what must happen: ``-- expect: ok``, or
``-- expect: refused: <the reason stated>``."""

from __future__ import annotations

from pathlib import Path

import pytest

from idc_sql.errors import SpecError
from idc_sql.pipeline import open_engine
from idc_sql.templates.loading import load_template
from idc_sql.templates.run import prepare

CORPUS = sorted((Path(__file__).parent / "corpus").glob("*.sql"))


def test_the_corpus_is_large_and_mixed() -> None:
    expectations = [p.read_text().splitlines()[0] for p in CORPUS]
    assert len(CORPUS) >= 30
    assert sum(e == "-- expect: ok" for e in expectations) >= 20
    assert sum(e.startswith("-- expect: refused: ") for e in expectations) >= 8


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.stem)
def test_corpus_query(path: Path) -> None:
    expect = path.read_text().splitlines()[0].removeprefix("-- expect: ")
    if expect == "ok":
        template = load_template(path)
        # and it compiles for BigQuery (no connection needed): every table resolves
        required = {n: "x" for n, p in template.params.items() if p.required}
        query = prepare(template, open_engine("bigquery"), required)
        assert query.sql
        return
    reason = expect.removeprefix("refused: ")
    with pytest.raises(SpecError) as caught:
        load_template(path)
    message = str(caught.value)
    assert message.startswith(f"{path}:")
    assert reason in message
