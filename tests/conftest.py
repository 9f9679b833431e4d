"""Fixtures shared by the top-level test modules (tests/bigquery and tests/s3 have their own)."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The repository's top folder; the shared reference files sit beside it in ``../shared``."""
    return REPO_ROOT
