"""``python -m idc_sql.cli``: the ``idc-sql`` command."""

from . import console

console()
