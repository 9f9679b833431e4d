"""``python -m idc_sql.cli``: the ``idc-sql`` command."""

from ..entry import console

console()
