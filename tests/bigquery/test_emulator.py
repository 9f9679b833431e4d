"""The emulator's life cycle: start-up errors, port races, stop and kill."""

from __future__ import annotations

import socket

import pytest
from google.api_core import exceptions
from google.cloud import bigquery

from . import emulator as emulator_module
from .emulator import Emulator, EmulatorError, run_query

pytestmark = pytest.mark.bigquery


def test_kill_mid_session_makes_queries_fail_fast() -> None:
    with Emulator() as emulator:
        client = emulator.client()
        assert [tuple(row) for row in run_query(client, "SELECT 1 AS one")] == [(1,)]
        emulator.kill()
        assert not emulator.running
        with pytest.raises((exceptions.RetryError, exceptions.ServiceUnavailable)):
            client.query(
                "SELECT 1 AS one", retry=bigquery.DEFAULT_RETRY.with_deadline(1), job_retry=None
            ).result()


def test_stop_is_idempotent() -> None:
    emulator = Emulator().start()
    emulator.stop()
    emulator.stop()
    assert not emulator.running


def test_start_up_timeout_is_a_clear_error() -> None:
    emulator = Emulator(startup_timeout=0.0)
    with pytest.raises(EmulatorError, match=r"did not answer .*/healthz"):
        emulator.start()
    assert not emulator.running


def test_a_port_taken_before_start_up_is_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    free_ports = emulator_module._free_ports
    with socket.socket() as taken:
        taken.bind((emulator_module.HOST, 0))
        taken.listen()
        answers = iter([[taken.getsockname()[1], free_ports(1)[0]]])
        monkeypatch.setattr(
            emulator_module, "_free_ports", lambda count: next(answers, None) or free_ports(count)
        )
        with Emulator() as emulator:
            assert emulator.rest_port != taken.getsockname()[1]
            assert [tuple(row) for row in run_query(emulator.client(), "SELECT 2 AS two")] == [(2,)]
