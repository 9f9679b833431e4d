"""The licenses IDC publishes its data under, spelt as ``license_short_name`` spells them.

A specification's ``licenses`` lists the ones a cohort may hold (see :mod:`idc_sql.plan`);
a name that is not one of these is refused with the closest ones:

>>> closest("CC-BY 4.0")
['CC BY 4.0', 'CC BY 3.0', 'CC BY-NC 4.0']
"""

from __future__ import annotations

#: every ``license_short_name`` of IDC release 25 (``idc_index``, the sources of
#: ``collections_index`` and ``analysis_results_index``), most series first
LICENSES: tuple[str, ...] = (
    "CC BY 4.0",
    "CC BY 3.0",
    "CC BY-NC 4.0",
    "CC BY-NC 3.0",
    "National Library of Medicine Terms and Conditions; May 21, 2019",
)


def closest(name: str) -> list[str]:
    """The licenses of :data:`LICENSES` closest to ``name``, best first."""
    from . import suggest

    return suggest(name, LICENSES)
