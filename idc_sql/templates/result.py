"""A template's result: any rows, read through DuckDB like a cohort's.

A template's rows need not be series: a report by collection, ROI names, a count. So a
:class:`TemplateResult` is a :class:`~idc_sql.result.CohortResult` whose columns are whatever
the query yields, and whose summary exists only when the rows are series (they carry
``collection_id``, ``PatientID``, ``StudyInstanceUID`` and ``series_size_MB``). Such a result
can be written as a manifest too (with ``aws_bucket`` and ``crdc_series_uuid`` for s5cmd);
any other is written as csv, tsv, parquet or jsonl.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlglot import exp

from ..errors import Option, UsageError
from ..result import SUMMARY_FIELDS, CohortResult, Provenance

if TYPE_CHECKING:
    from ..engines.base import Rows
    from ..summary import Summary
    from .model import Template


class TemplateResult(CohortResult):
    """The rows of a template, every column it yields, and their provenance."""

    def __init__(self, rows: Rows, provenance: Provenance, template: Template) -> None:
        super().__init__(rows, rows.fields, provenance)
        self.template = template
        self._count: int | None = None

    @property
    def is_series(self) -> bool:
        """Whether the rows are series a summary can count."""
        return all(f in self.fields for f in SUMMARY_FIELDS)

    @property
    def summary(self) -> Summary:
        """Series, studies, patients, collections and size, when the rows are series."""
        if not self.is_series:
            lacking = [f for f in SUMMARY_FIELDS if f not in self.fields]
            raise UsageError(
                f"the rows of template {self.template.name} are not series: a summary needs "
                f"{', '.join(lacking)} among its columns"
            )
        return super().summary

    @property
    def row_count(self) -> int:
        """How many rows the template returned."""
        if self._count is None:
            ((n,),) = self.fetch(self.count_query())
            self._count = int(n)
        return self._count

    @row_count.setter
    def row_count(self, n: int) -> None:
        """The count, when writing the rows has counted them already."""
        self._count = n

    def count_query(self) -> exp.Select:
        """The query that counts the rows."""
        return exp.select(exp.Count(this=exp.Star())).from_(self.query.subquery("rows"))

    def __len__(self) -> int:
        return self.row_count

    def writable_as(
        self,
        fmt: str,
        destination: str | None = None,
        layout: str | None = None,
        cloud: str | None = None,
    ) -> None:
        """Refuse ``fmt`` when the rows lack what it needs (a manifest needs series)."""
        from ..writers import WRITERS, needs

        manifest = WRITERS[fmt].manifest  # one line per series, with a summary
        wanted = list(needs(fmt, destination, layout, cloud) if manifest else needs(fmt))
        if manifest:
            wanted += SUMMARY_FIELDS
        lacking = [f for f in dict.fromkeys(wanted) if f not in self.fields]
        if lacking:
            raise UsageError(
                f"a {fmt} file needs rows that are series, with {', '.join(lacking)}; "
                f"template {self.template.name} yields {', '.join(self.fields)}. Write it as "
                "csv, tsv, parquet or jsonl (",
                Option("format"),
                "), or select those columns in the template",
            )

    def write(
        self,
        path: str,
        fmt: str | None = None,
        *,
        destination: str | None = None,
        layout: str | None = None,
        cloud: str | None = None,
    ) -> str:
        """Write the rows atomically (``fmt`` defaults from the suffix); returns the format."""
        from ..writers import resolve_format, write

        fmt = resolve_format(path, fmt)
        self.writable_as(fmt, destination, layout, cloud)
        return write(self, path, fmt, destination=destination, layout=layout, cloud=cloud)
