"""Session fixtures for tests against the BigQuery emulator seeded with the IDC v25 fixture.

Any test that uses ``bq_emulator`` (directly or through ``bq_client``) gets the ``bigquery``
marker, so ``-m "not bigquery"`` skips the emulator altogether.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from google.cloud import bigquery

from .emulator import Emulator
from .fixture import load_fixture


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "bq_emulator" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.bigquery)


@pytest.fixture(scope="session")
def bq_emulator() -> Iterator[Emulator]:
    """A running emulator holding ``bigquery-public-data.idc_v25``; stopped at session end."""
    with Emulator() as emulator:
        load_fixture(emulator.client())
        yield emulator


@pytest.fixture(scope="session")
def bq_client(bq_emulator: Emulator) -> bigquery.Client:
    """An official BigQuery client on the session's emulator."""
    return bq_emulator.client()
