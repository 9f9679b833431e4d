"""Session fixture: one moto S3 server for every ``s3`` test, stopped at the end however it ends."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .server import MotoS3


@pytest.fixture(scope="session")
def moto_s3() -> Iterator[MotoS3]:
    """A running ``MotoS3`` on 127.0.0.1; tests share it, so use distinct series uuids."""
    with MotoS3() as server:
        yield server
