"""Signals: end the process, but only once the private folder is gone.

:func:`_intercepting` makes SIGINT, SIGTERM and SIGHUP raise while writes are in progress in the
main thread; :func:`_held` marks a step that a signal waits for.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

from ..errors import Terminated


class _Signals:
    """The handlers installed while writes are in progress (in the main thread)."""

    def __init__(self) -> None:
        self.depth = 0  # atomic writes in progress
        self.held = 0  # steps in progress that a signal must not cut short
        self.pending: int | None = None
        self.previous: dict[int, signal._HANDLER] = {}

    def handle(self, signum: int, frame: FrameType | None) -> None:
        if self.held:
            self.pending = self.pending or signum
            return
        raise _ending(signum)


_signals = _Signals()


def _ending(signum: int) -> BaseException:
    return KeyboardInterrupt() if signum == signal.SIGINT else Terminated(signum)


def _in_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


@contextmanager
def _intercepting() -> Iterator[None]:
    """SIGINT, SIGTERM and SIGHUP raise while the block runs, where their handler is the default."""
    if not _in_main_thread():
        yield
        return
    if _signals.depth == 0:
        defaults = (
            (signal.SIGINT, signal.default_int_handler),
            (signal.SIGTERM, signal.SIG_DFL),
            (signal.SIGHUP, signal.SIG_DFL),
        )
        for signum, default in defaults:
            if signal.getsignal(signum) == default:
                _signals.previous[signum] = signal.signal(signum, _signals.handle)
    _signals.depth += 1
    try:
        yield
    finally:
        _signals.depth -= 1
        if _signals.depth == 0:
            for number, previous in _signals.previous.items():
                signal.signal(number, previous)
            _signals.previous.clear()
            pending, _signals.pending = _signals.pending, None
            if pending is not None:
                raise _ending(pending)


@contextmanager
def _held() -> Iterator[None]:
    """A step a signal waits for; a signal that came meanwhile is raised once it is done."""
    if not _in_main_thread():
        yield
        return
    _signals.held += 1
    try:
        yield
    finally:
        _signals.held -= 1
    if _signals.held == 0 and _signals.pending is not None:
        pending, _signals.pending = _signals.pending, None
        raise _ending(pending)
