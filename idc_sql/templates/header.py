"""A template's header: the comment block at the top of a ``.sql`` file that names it, says what
it does and declares its parameters.

The header is optional. When present it is the first block of comment lines (``--`` or ``#``),
and holds, one a line::

    -- name: ct-seg-studies
    -- description: Studies that hold both a CT and a SEG series,
    --   with how many of each.
    -- param collection STRING DEFAULT 'nlst': the collection to look in
    -- param min_size FLOAT64 DEFAULT 0: the least series size, in MB
    -- param modalities ARRAY<STRING>: required, as it has no default

- ``name:`` the template's name (default: the file's name without ``.sql``);
- ``description:`` a sentence or more;
- ``param NAME TYPE [DEFAULT literal] [: description]``: a BigQuery named parameter
  (``@NAME`` in the SQL), a BigQuery type (scalar or ``ARRAY<...>``), a default written as a
  BigQuery literal (``'text'``, ``25``, ``TRUE``, ``DATE '2024-01-01'``, ``['CT', 'MR']``,
  ``NULL``); a parameter without a default is required.

A line indented by two spaces or more after the comment marker continues the line above it.
Comment lines before the first key are free text; the header ends at the first line that is
not a comment.

>>> h = parse_header(["-- name: x", "-- param n INT64 DEFAULT 3: how many", "SELECT @n"])
>>> h.name, [(p.name, p.type_text, p.default_text, p.description) for p in h.params]
('x', [('n', 'INT64', '3', 'how many')])
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

#: a comment line: its marker, then its text
_COMMENT = re.compile(r"^\s*(?:--|#)(?P<text>.*)$")
_KEY = re.compile(r"^\s?(?P<key>name|description)\s*:\s*(?P<value>.*)$", re.IGNORECASE)
_PARAM = re.compile(r"^\s?param\s+(?P<rest>.*)$", re.IGNORECASE)
_PARAM_NAME = re.compile(r"^@?(?P<name>[A-Za-z_][A-Za-z0-9_]*)\s+(?P<rest>.+)$")
_CONTINUATION = re.compile(r"^\s{2,}\S")
_DEFAULT = re.compile(r"\s+DEFAULT(?:\s+|$)", re.IGNORECASE)
#: a template's name, as a cohort's
NAME = re.compile(r"^[a-z0-9][a-z0-9._-]*$")


class HeaderProblem(ValueError):
    """A header line that cannot be read; ``line`` is its number in the file (from 1)."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line


@dataclass
class DeclaredParam:
    """A parameter as the header declares it (checked when the template is loaded)."""

    name: str
    type_text: str
    default_text: str | None
    description: str
    line: int


@dataclass
class Header:
    name: str | None = None
    description: str = ""
    params: list[DeclaredParam] = field(default_factory=list)
    #: the line the header's last line is on (0: no header)
    end: int = 0

    @property
    def present(self) -> bool:
        return self.end > 0


def parse_header(lines: list[str]) -> Header:
    """Read the header at the top of ``lines`` (a file's lines, without line ends)."""
    header = Header()
    started = False
    last: str | None = None  # what a continuation line continues: "description" or a param
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            if started:
                break
            continue
        comment = _COMMENT.match(line)
        if comment is None:
            break
        text = comment["text"]
        key = _KEY.match(text)
        param = _PARAM.match(text)
        if key is not None:
            started = True
            header.end = number
            if key["key"].lower() == "name":
                if header.name is not None:
                    raise HeaderProblem(number, "a second name: line")
                header.name = key["value"].strip()
                if not NAME.match(header.name):
                    raise HeaderProblem(
                        number,
                        f"name {header.name!r}: a name is lower case letters, digits, '.', "
                        "'_' and '-', starting with a letter or digit",
                    )
                last = None
            else:
                if header.description:
                    raise HeaderProblem(number, "a second description: line")
                header.description = key["value"].strip()
                last = "description"
        elif param is not None:
            started = True
            header.end = number
            header.params.append(_param(param["rest"], number))
            last = "param"
        elif started and _CONTINUATION.match(text) and last is not None:
            header.end = number
            more = text.strip()
            if last == "description":
                header.description = f"{header.description} {more}".strip()
            else:
                declared = header.params[-1]
                declared.description = f"{declared.description} {more}".strip()
        elif started:
            if not text.strip():  # an empty comment line ends a continued entry
                last = None
                header.end = number
                continue
            raise HeaderProblem(
                number,
                "expected 'name:', 'description:', 'param NAME TYPE ...' or a continuation "
                "indented by two spaces; free comments go before the header or after a blank line",
            )
    return header


def _param(text: str, line: int) -> DeclaredParam:
    match = _PARAM_NAME.match(text.strip())
    if match is None:
        raise HeaderProblem(
            line, "a parameter is declared as 'param NAME TYPE [DEFAULT literal] [: description]'"
        )
    rest, description = _split_description(match["rest"])
    parts = _DEFAULT.split(f" {rest}", maxsplit=1)
    type_text = parts[0].strip()
    default = parts[1].strip() if len(parts) > 1 else None
    if not type_text:
        raise HeaderProblem(line, f"parameter {match['name']} has no type")
    if default == "":
        raise HeaderProblem(line, f"parameter {match['name']}: DEFAULT needs a value")
    return DeclaredParam(match["name"], type_text, default, description, line)


def _split_description(text: str) -> tuple[str, str]:
    """``TYPE DEFAULT literal: description`` split at the first ``:`` outside quotes and
    brackets (a default such as ``'a:b'`` keeps its colon)."""
    quote: str | None = None
    depth = 0
    escaped = False
    for i, c in enumerate(text):
        if quote is not None:
            if escaped:
                escaped = False
            elif c == "\\":
                escaped = True
            elif c == quote:
                quote = None
        elif c in "'\"":
            quote = c
        elif c in "[(<":
            depth += 1
        elif c in "])>":
            depth -= 1
        elif c == ":" and depth == 0:
            return text[:i].strip(), text[i + 1 :].strip()
    return text.strip(), ""
