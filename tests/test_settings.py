"""Settings are read in one place and every number is checked before anything runs."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from idc_sql.engines.bigquery.client import is_loopback
from idc_sql.errors import UsageError
from idc_sql.settings import DEFAULT_DEADLINE, DEFAULT_MAX_GB, Settings


def test_defaults_and_the_environment() -> None:
    s = Settings.resolve(environ={})
    assert (s.max_gb, s.deadline, s.project, s.endpoint) == (
        DEFAULT_MAX_GB,
        DEFAULT_DEADLINE,
        None,
        None,
    )
    env = {
        "IDC_SQL_PROJECT": "p",
        "IDC_SQL_BIGQUERY_ENDPOINT": "http://127.0.0.1:9050",
        "IDC_SQL_MAX_GB": "7",
        "IDC_SQL_BIGQUERY_DEADLINE": "30",
        "IDC_SQL_CACHE_DIR": "/somewhere",
    }
    s = Settings.resolve(environ=env)
    assert (s.project, s.endpoint, s.max_gb, s.deadline) == ("p", "http://127.0.0.1:9050", 7, 30)
    assert s.cache_dir == Path("/somewhere")
    # arguments come first
    assert Settings.resolve(project="q", max_gb=3, deadline=5, environ=env).project == "q"
    assert Settings.resolve(max_gb=3, environ=env).cap_bytes == 3 * 10**9


@pytest.mark.parametrize("raw", ["nan", "inf", "-inf", "1e309", "0", "-5", "0.5", "3601"])
def test_a_deadline_from_the_environment_must_be_finite_and_bounded(raw: str) -> None:
    with pytest.raises(UsageError) as caught:
        Settings.resolve(environ={"IDC_SQL_BIGQUERY_DEADLINE": raw})
    assert str(caught.value) == (
        f"IDC_SQL_BIGQUERY_DEADLINE={raw!r} is not allowed: give a number from 1 to 3600 s"
    )


@pytest.mark.parametrize("value", [math.nan, math.inf, 0.0, 1e-30, 2e6, True])
def test_a_cap_must_be_finite_and_bounded(value: float) -> None:
    with pytest.raises(UsageError, match=r"^max_gb=.* is not allowed: give a number from 0.001"):
        Settings.resolve(max_gb=value, environ={})


def test_a_word_is_not_a_number() -> None:
    with pytest.raises(UsageError, match=r"^IDC_SQL_MAX_GB='lots' is not a number of gigabytes$"):
        Settings.resolve(environ={"IDC_SQL_MAX_GB": "lots"})


@pytest.mark.parametrize(
    ("endpoint", "loopback"),
    [
        ("http://127.0.0.1:9050", True),
        ("http://127.8.9.10", True),
        ("http://[::1]:9050", True),
        ("localhost:9050", True),
        ("http://127.evil.example", False),
        ("http://127.0.0.1.nip.io", False),
        ("https://bigquery.googleapis.com", False),
        ("http://10.0.0.1", False),
        ("http://[::1", False),
    ],
)
def test_loopback_is_decided_by_address(endpoint: str, loopback: bool) -> None:
    assert is_loopback(endpoint) is loopback
