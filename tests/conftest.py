"""Fixtures shared by the top-level test modules (tests/bigquery and tests/s3 have their own)."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
_MADE = pytest.StashKey[str]()


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The repository's top folder; the shared reference files sit beside it in ``../shared``."""
    return REPO_ROOT


def pytest_configure(config: pytest.Config) -> None:
    """Every run of the tests keeps what idc-sql caches (values of fields, BigQuery results) in
    a folder of its own, never in the user's cache: a test starts from nothing it did not make.
    Subprocesses inherit it. A test that needs another sets its own."""
    if "IDC_SQL_CACHE_DIR" not in os.environ:
        folder = tempfile.mkdtemp(prefix="idc-sql-tests-cache-")
        os.environ["IDC_SQL_CACHE_DIR"] = folder
        config.stash[_MADE] = folder


def pytest_unconfigure(config: pytest.Config) -> None:
    folder = config.stash.get(_MADE, None)
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)
