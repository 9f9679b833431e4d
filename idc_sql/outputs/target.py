"""What an accepted output is, the errors of writing one, and names made safe for messages."""

from __future__ import annotations

import stat
import unicodedata
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class OutputTarget:
    """An output that :func:`check_output` accepted.

    ``given`` is the path as the user wrote it; ``path`` the regular file that will be replaced
    or created (a symlink's final target), absolute, or ``None`` for standard output; ``shown``
    the output's name made safe for a message or a comment header (see :func:`header_safe`).
    """

    given: str
    path: Path | None
    is_stdout: bool
    shown: str


# ---------------------------------------------------------------------------------------------
# names in messages and headers

_ESCAPES = {"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
# control, format, surrogate, private-use and unassigned characters, line and paragraph
# separators: every character str.splitlines breaks at is among them
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


def header_safe(name: str) -> str:
    """``name`` with every character that could break a line, or hide, written as an escape.

    Backslash, newline, carriage return and tab become ``\\\\``, ``\\n``, ``\\r``, ``\\t``; other
    control, format and separator characters (U+2028, U+2029, U+0085, bidirectional marks),
    surrogates (bytes of a name that is not UTF-8) and unassigned characters become ``\\xNN``,
    ``\\uNNNN`` or ``\\UNNNNNNNN``. Every other character is kept, so readable names read the
    same; the escaping is reversible, so distinct names stay distinct.

    >>> header_safe("données/cohort.s5cmd")
    'données/cohort.s5cmd'
    >>> header_safe("a\\u2028b\\x0bc")
    'a\\\\u2028b\\\\x0bc'
    """
    return "".join(_escape(c) for c in name)


def _escape(c: str) -> str:
    if c in _ESCAPES:
        return _ESCAPES[c]
    if unicodedata.category(c) not in _UNSAFE_CATEGORIES:
        return c
    code = ord(c)
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISLNK, "a symlink"),
)


def _kind(mode: int) -> str:
    for test, name in _KINDS:
        if test(mode):
            return name
    return "not a regular file"


def _reason(e: OSError) -> str:
    return e.strerror.lower() if e.strerror else str(e)
