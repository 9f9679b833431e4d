"""Where a manifest puts each series: a destination root, then a layout over the result's fields.

A series' destination is ``<root>/<layout>/``, the layout's ``{field}`` names replaced by the
series' values made safe (the root ``.`` is left out: ``nlst/100002/...``). The default layout
gives every series a folder of its own, as idc-index lays out a download::

    {collection_id}/{PatientID}/{StudyInstanceUID}/{Modality}_{crdc_series_uuid}

A value is made safe for a path, and for a manifest line, as follows (:func:`safe_value`):

- every character outside ``A-Z a-z 0-9 . _ -`` becomes ``_``: whitespace of every kind, control
  characters, line and paragraph separators, ``/`` and ``\\``, quotes, ``#``, s5cmd's wildcards
  ``* ? [ ]``, ``~``, and every non-ASCII character (``ZZ RIDER 1`` -> ``ZZ_RIDER_1``);
- a value that starts with ``.`` or ``-`` gets a ``_`` in front (``.`` -> ``_.``, ``..`` ->
  ``_..``, ``-x`` -> ``_-x``), so no folder is ``.``, ``..``, hidden, or read as an option;
- an empty value becomes ``_empty_``, a missing one (NULL) ``_null_``;
- a value longer than 64 characters is cut to its first 64 (a DICOM UID or identifier has at
  most 64), so that a folder's name stays within the 255 bytes a file name may have; a layout
  whose folder could be longer (several fields in one folder) is refused.

So no value can leave the root, add a folder level, or start a line. A layout's own text is
held to the same alphabet (and ``/`` between folders), and its ``{field}``s name the result's
fields only: conversions (``{PatientID!r}``) and format specifications (``{PatientID:>40}``) are
refused. Two series never share a folder: when a folder of the layout begins or ends with
``{crdc_series_uuid}`` (checked to be a UUID, so of fixed length), distinct series differ
there by construction; for any other layout a query groups the destinations and a clash is an
error that names both series.

>>> layout = parse_layout("{collection_id}/{PatientID}", "data")
>>> layout.fields, layout.unique
(('collection_id', 'PatientID'), False)
>>> parse_layout(DEFAULT_LAYOUT, ".").unique
True
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlglot import exp

from .. import catalog
from ..errors import Option, UsageError
from ..formats import DEFAULT_LAYOUT, DEFAULT_ROOT
from ..outputs import header_safe
from .safety import quoted, unordered

if TYPE_CHECKING:
    from ..result import CohortResult

#: the characters a value keeps (``url_encode`` keeps these and ``~``)
SAFE = "A-Za-z0-9._-"
_UNSAFE_VALUE = f"[^{SAFE}]"
_NULL, _EMPTY = "_null_", "_empty_"
#: the longest a value gets in a destination, and the longest a folder's name may get
MAX_VALUE, MAX_NAME = 64, 255
#: the length of a checked crdc_series_uuid
_UUID_LENGTH = 36
#: the field whose values are UUIDs (checked): a folder that begins or ends with it is unique
_UNIQUE_FIELD = "crdc_series_uuid"
_LITERAL = re.compile(r"[A-Za-z0-9._/-]*")
#: characters a root may not hold: what s5cmd reads specially in a manifest line
_ROOT_UNSAFE = re.compile(r"[\s\"'#\\{}*?\[\]]")

Piece = tuple[str, "str | None"]


@dataclass(frozen=True)
class Layout:
    """A destination root and a layout template, checked: ``pieces`` are (literal, field)."""

    root: str
    template: str
    pieces: tuple[Piece, ...]

    @property
    def fields(self) -> tuple[str, ...]:
        """The fields the layout names, in order, each once."""
        return tuple(dict.fromkeys(f for _, f in self.pieces if f is not None))

    @property
    def unique(self) -> bool:
        """Distinct series get distinct folders by construction (no query needed)."""
        return any(
            folder and _UNIQUE_FIELD in (folder[0][1], folder[-1][1])
            for folder in _folders(self.pieces)
        )

    @property
    def shown(self) -> str:
        """Root and layout as one path, for a header."""
        return self.template if self.root == "." else f"{self.root.rstrip('/')}/{self.template}"

    def destination(self) -> exp.Expr:
        """The SQL of a series' destination: root, safe values, a closing ``/``.

        Nearly every value is safe as it is: when all of a series' values are (one cheap test
        each, see :func:`_clean`), the destination is built from them as they are, and only the
        other series have each value rewritten by :func:`safe_value`. (``crdc_series_uuid`` is
        not tested: every writer checks its shape in the same query, see :mod:`.safety`.)
        """
        tested = [exp.column(name) for name in self.fields if name != _UNIQUE_FIELD]
        fast = self._built(lambda column: column)
        if not tested:
            return fast
        clean = exp.and_(*(_clean(column) for column in tested))
        return exp.Case().when(clean, fast).else_(self._built(safe_value))

    def _built(self, value: Callable[[exp.Expr], exp.Expr]) -> exp.Expr:
        parts: list[exp.Expr | str] = [] if self.root == "." else [self.root.rstrip("/") + "/"]
        for literal, name in self.pieces:
            if literal:
                parts.append(literal)
            if name is not None:
                parts.append(value(exp.column(name)))
        parts.append("/")
        return concat(parts)


def concat(parts: list[exp.Expr | str]) -> exp.Expr:
    """``a || b || ...``, neighbouring strings joined into one literal."""
    merged: list[exp.Expr] = []
    text = ""
    for part in parts:
        if isinstance(part, str):
            text += part
            continue
        if text:
            merged.append(exp.Literal.string(text))
            text = ""
        merged.append(part)
    if text:
        merged.append(exp.Literal.string(text))
    line = merged[0]
    for part in merged[1:]:
        line = exp.DPipe(this=line, expression=part, safe=True)
    return line


def _text(value: exp.Expr) -> exp.Expr:
    return exp.cast(value, exp.DataType.build("TEXT"))


def _clean(value: exp.Expr) -> exp.Expr:
    """The SQL that is true when ``value`` is safe as it is, at little cost (no regex, no copy
    beyond ``url_encode``'s).

    DuckDB's ``url_encode`` keeps exactly ``A-Z a-z 0-9 . _ - ~``; of these characters, only
    ``-`` and ``.`` sort before ``0``, so a value of them that is ``>= '0'`` is neither empty
    nor begins with ``.`` or ``-``; it is ASCII, so ``strlen`` counts its characters.
    """
    text = _text(value)
    return exp.and_(
        exp.EQ(this=exp.Anonymous(this="url_encode", expressions=[text.copy()]), expression=text),
        exp.GTE(this=text.copy(), expression=exp.Literal.string("0")),
        exp.Not(this=exp.Contains(this=text.copy(), expression=exp.Literal.string("~"))),
        exp.LTE(
            this=exp.Anonymous(this="strlen", expressions=[text.copy()]),
            expression=exp.Literal.number(MAX_VALUE),
        ),
    )


def safe_value(value: exp.Expr) -> exp.Expr:
    """The SQL of ``value`` made safe for a path (see the module's rules)."""
    text = _text(value)
    leading = exp.or_(
        exp.StartsWith(this=text.copy(), expression=exp.Literal.string(".")),
        exp.StartsWith(this=text.copy(), expression=exp.Literal.string("-")),
    )
    rewritten = exp.Left(
        this=exp.DPipe(
            this=exp.Case().when(leading, exp.Literal.string("_")).else_(exp.Literal.string("")),
            expression=exp.RegexpReplace(
                this=text.copy(),
                expression=exp.Literal.string(_UNSAFE_VALUE),
                replacement=exp.Literal.string("_"),
                modifiers=exp.Literal.string("g"),
            ),
            safe=True,
        ),
        expression=exp.Literal.number(MAX_VALUE),
    )
    return (
        exp.Case()
        .when(_clean(value), text.copy())
        .when(exp.Is(this=text.copy(), expression=exp.Null()), exp.Literal.string(_NULL))
        .when(
            exp.EQ(this=text.copy(), expression=exp.Literal.string("")), exp.Literal.string(_EMPTY)
        )
        .else_(rewritten)
    )


def parse_layout(template: str | None, root: str | None) -> Layout:
    """Check ``template`` (default :data:`DEFAULT_LAYOUT`) and ``root`` (default ``.``)."""
    template = DEFAULT_LAYOUT if template is None else template
    root = _check_root(DEFAULT_ROOT if root is None else root)
    if not template.strip("/"):
        raise UsageError(
            Option("layout", template),
            " names no folder; a layout gives every series a folder, e.g. ",
            Option("layout", DEFAULT_LAYOUT),
        )
    try:
        parsed = list(string.Formatter().parse(template.rstrip("/")))
    except ValueError as e:
        raise UsageError(Option("layout", template), f": {e}") from None
    pieces: list[Piece] = []
    for literal, name, spec, conversion in parsed:
        _check_literal(template, literal)
        field = None if name is None else _check_field(template, name, spec, conversion)
        pieces.append((literal, field))
    for folder in _folders(tuple(pieces)):
        _check_folder(template, folder)
    return Layout(root, template.rstrip("/"), tuple(pieces))


def _check_root(root: str) -> str:
    if not root:
        raise UsageError(Option("destination"), " must not be empty (the current folder is .)")
    if _ROOT_UNSAFE.search(root) or header_safe(root) != root:
        raise UsageError(
            Option("destination", root),
            " holds a space, control character, quote, #, backslash, brace or wildcard, which "
            "s5cmd cannot read in a manifest line",
            *(("; name fields with ", Option("layout")) if "{" in root else ()),
        )
    if root.startswith("-"):
        raise UsageError(
            Option("destination", root), " would be read as an option; write ./" + root
        )
    return root.rstrip("/") or "/"


def _check_literal(template: str, literal: str) -> None:
    if _LITERAL.fullmatch(literal):
        return
    bad = next(c for c in literal if not _LITERAL.fullmatch(c))
    raise UsageError(
        Option("layout", template),
        f" holds {quoted(bad)} outside the fields; the text of a layout is made of "
        f"letters, digits, '.', '_', '-' and '/' between folders",
    )


def _check_field(template: str, name: str, spec: str | None, conversion: str | None) -> str:
    whole = "{" + name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "")
    whole += "}"
    if conversion is not None:
        raise UsageError(
            Option("layout", template),
            f" converts a field ({header_safe(whole)}); conversions (!{header_safe(conversion)})"
            f" are not supported: name the field only, {{{header_safe(name)}}}",
        )
    if spec:
        raise UsageError(
            Option("layout", template),
            f" formats a field ({header_safe(whole)}); format specifications "
            f"(:{header_safe(spec)}) are not supported: name the field only, "
            f"{{{header_safe(name)}}}",
        )
    if not name.isidentifier():
        raise UsageError(
            Option("layout", template),
            f" holds {header_safe(whole)}; a layout names fields of the result, e.g. {{PatientID}}",
        )
    try:
        field = catalog.field(name)
    except KeyError:
        close = catalog.suggest(name, catalog.FIELDS)
        hint = f"; did you mean {', '.join('{' + c + '}' for c in close)}?" if close else ""
        raise UsageError(
            Option("layout", template), f" names {{{name}}}, which is not a field{hint}"
        ) from None
    if field.instance_level or field.segment_level:
        raise UsageError(
            Option("layout", template),
            f" names {{{field.name}}}, which is recorded per instance: a series has many "
            "values; name series-level fields",
        )
    return field.name


def _folders(pieces: tuple[Piece, ...]) -> list[list[Piece]]:
    """The layout split at its ``/``: each folder's pieces (a literal, then a field or None)."""
    folders: list[list[Piece]] = [[]]
    for literal, name in pieces:
        *whole, last = literal.split("/")
        for text in whole:
            if text:
                folders[-1].append((text, None))
            folders.append([])
        folders[-1].append((last, name))
    return [[(lit, name) for lit, name in folder if lit or name] for folder in folders]


def _check_folder(template: str, folder: list[Piece]) -> None:
    if not folder:
        raise UsageError(
            Option("layout", template),
            " has an empty folder (a leading or doubled /); a layout is relative to ",
            Option("destination"),
        )
    longest = sum(
        len(literal) + (0 if name is None else _UUID_LENGTH if name == _UNIQUE_FIELD else MAX_VALUE)
        for literal, name in folder
    )
    if longest > MAX_NAME:
        raise UsageError(
            Option("layout", template),
            f" has a folder whose name could be {longest} characters long (a value takes up to "
            f"{MAX_VALUE}), more than the {MAX_NAME} a file name may have; put fewer fields in "
            "one folder",
        )
    first = folder[0][0]
    if first.startswith((".", "-")):
        raise UsageError(
            Option("layout", template),
            f" has a folder beginning with {quoted(first[0])}; a folder of a layout begins with "
            "a letter, a digit, '_' or a field",
        )


def check_collisions(result: CohortResult, layout: Layout) -> None:
    """Fail when two series of ``result`` go to the same folder, naming both."""
    if layout.unique:
        return
    named = "SeriesInstanceUID" in result.fields
    columns = [
        exp.alias_(layout.destination(), "destination"),
        exp.alias_(exp.column("crdc_series_uuid"), "uuid"),
    ]
    if named:
        columns.append(exp.alias_(exp.column("SeriesInstanceUID"), "uid"))
    rows = unordered(result.projected(*columns)).subquery("rows")
    uuid = exp.column("uuid")
    clash = (
        exp.select(
            exp.column("destination"),
            exp.Min(this=uuid.copy()),
            exp.Max(this=uuid.copy()),
            *(
                (
                    exp.ArgMin(this=exp.column("uid"), expression=uuid.copy()),
                    exp.ArgMax(this=exp.column("uid"), expression=uuid.copy()),
                )
                if named
                else (exp.Null(), exp.Null())
            ),
        )
        .from_(rows)
        .group_by(exp.column("destination"))
        .having(exp.GT(this=exp.Count(this=exp.Star()), expression=exp.Literal.number(1)))
        .limit(1)
    )
    found = result.fetch(clash)
    if not found:
        return
    destination, first, second, first_uid, second_uid = found[0]
    if first == second:
        both = f"the series with crdc_series_uuid {quoted(first)} is listed twice, both times"
    else:
        both = f"{_series(first, first_uid)} and {_series(second, second_uid)} would both"
    raise UsageError(
        Option("layout", layout.template),
        f" does not give every series a folder of its own: {both} go to "
        f"{quoted(destination)}; end the layout with {{{_UNIQUE_FIELD}}}",
    )


def _series(uuid: str | None, uid: str | None) -> str:
    named = f"series {quoted(uid)}, " if uid is not None else "series with "
    return f"{named}crdc_series_uuid {quoted(uuid)}"
