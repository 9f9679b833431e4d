"""Reading specifications: files, decoding, set members, and the digest.

One load reads each member file once, however often the set specifications name it, and keeps
every limit of :mod:`.limits` on the way.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..errors import Option, SpecError, several
from .files import ValueFile, kind_of, read_values
from .keys import FILE_OPERATORS
from .limits import (
    MAX_FILE_BYTES,
    MAX_FILE_NESTING,
    MAX_LIST,
    MAX_PREDICATES,
    MAX_SET_NESTING,
    MAX_YAML_ALIASES,
    MAX_YAML_EXPANSION,
    check_predicate,
)
from .messages import describe, explain, join
from .models import CohortSpec, Ops, SetSpec, Spec, _SpecRoot
from .walk import conditions, each_spec


def parse_spec(
    data: Any, *, origin: str = "", base_dir: Path | None = None, allow_outside: bool = False
) -> Spec:
    """Validate ``data`` (a mapping, as loaded from YAML or JSON) into a specification.

    ``origin`` names the source in messages; ``base_dir`` is where set members' paths start
    (the spec file's folder; the working directory when omitted). A member outside that folder
    is refused unless ``allow_outside`` is true.
    """
    return _Load(allow_outside).parse(
        data, origin=origin, base_dir=base_dir or Path.cwd(), stack=(), depth=0
    )


def load_spec(path: str | Path, *, allow_outside: bool = False) -> Spec:
    """Read a specification from a ``.yaml``, ``.yml`` or ``.json`` file.

    A set specification's members are read relative to its folder, each file once; a member
    outside the folder (``../x.yaml``, or a link that leads out) is refused unless
    ``allow_outside`` is true.
    """
    return _Load(allow_outside).load(Path(path), stack=(), depth=0)


class _Load:
    """One load: the specifications read so far by resolved path, and their sizes."""

    def __init__(self, allow_outside: bool) -> None:
        self.allow_outside = allow_outside
        self.specs: dict[Path, Spec] = {}
        #: predicates (members once per reference) and levels of sets, by id of the spec
        self.size: dict[int, int] = {}
        self.height: dict[int, int] = {}
        #: files of values read so far, by resolved path and column
        self.files: dict[tuple[Path, str | None], ValueFile] = {}

    def load(self, path: Path, stack: tuple[Path, ...], depth: int) -> Spec:
        resolved = path.resolve()
        known = self.specs.get(resolved)
        if known is not None:
            return known
        data = _decode(_read(path), path)
        spec = self.parse(
            data, origin=str(path), base_dir=path.parent, stack=(*stack, resolved), depth=depth
        )
        self.specs[resolved] = spec
        return spec

    def parse(
        self, data: Any, *, origin: str, base_dir: Path, stack: tuple[Path, ...], depth: int
    ) -> Spec:
        """``data`` validated; a set's members loaded. ``depth``: the sets around this one."""
        spec = _validate(data, origin)
        spec._origin = origin
        if isinstance(spec, CohortSpec):
            where = spec.where
            self.size[id(spec)] = 0 if where is None else check_predicate(where, ("where",))
            self.height[id(spec)] = 0
            if where is not None:
                spec._files = self.read_files(where, origin, base_dir)
            return spec
        if depth >= MAX_SET_NESTING:
            raise SpecError(join(origin, spec.operation), _too_deep())
        folder = base_dir.resolve()
        members: list[Spec] = []
        size = height = 0
        for i, rel in enumerate(spec.paths):
            path = (base_dir / rel).resolve()
            place = join(origin, f"{spec.operation}[{i}]")
            if path in stack:
                raise SpecError(place, f"{rel} includes itself (a cycle)")
            if not self.allow_outside and not path.is_relative_to(folder):
                raise SpecError(
                    place,
                    f"{rel} is outside the spec's folder (allowed with ",
                    Option("allow_outside", True),
                    ")",
                )
            if not path.is_file():
                what = "is a directory" if path.is_dir() else "no such file"
                raise SpecError(place, f"{rel}: {what} (paths are relative to the spec's folder)")
            member = self.load(path, stack, depth + 1)
            height = max(height, self.height[id(member)] + 1)
            if depth + height > MAX_SET_NESTING:
                raise SpecError(place, _too_deep())
            size += 1 + self.size[id(member)]
            if size > MAX_PREDICATES:
                raise SpecError(
                    join(origin, spec.operation),
                    f"more predicates than the limit of {MAX_PREDICATES:,}, "
                    "counting each member once per reference",
                )
            members.append(member)
        spec._members = tuple(members)
        self.size[id(spec)] = size
        self.height[id(spec)] = height
        return spec

    def read_files(self, where: Any, origin: str, base_dir: Path) -> tuple[ValueFile, ...]:
        """Read the files of values the conditions of ``where`` name (each file once a load),
        and attach their values to the conditions."""
        read: dict[int, ValueFile] = {}
        for place, name, ops in _file_conditions(where):
            for op in FILE_OPERATORS:
                rel = getattr(ops, op)
                if rel is None:
                    continue
                at = join(origin, f"{place}.{name}.{op}")
                values = self.value_file(base_dir, rel, ops.column, name, at)
                ops._files[op] = values
                read.setdefault(id(values), values)
        return tuple(read.values())

    def value_file(
        self, base_dir: Path, rel: str, column: str | None, name: str, place: str
    ) -> ValueFile:
        """The values of file ``rel``: its ``column`` (default: the field ``name``'s)."""
        path = (base_dir / rel).resolve()
        if not self.allow_outside and not path.is_relative_to(base_dir.resolve()):
            raise SpecError(
                place,
                f"{rel} is outside the spec's folder (allowed with ",
                Option("allow_outside", True),
                ")",
            )
        if not path.is_file():
            what = "is a directory" if path.is_dir() else "no such file"
            raise SpecError(place, f"{rel}: {what} (paths are relative to the spec's folder)")
        by_column = kind_of(rel) in ("csv", "tsv", "parquet")
        key = (path, (column or name) if by_column else column)
        known = self.files.get(key)
        if known is None:
            known = read_values(path, _shown(base_dir / rel), column, name)
            self.files[key] = known
        return known


def _file_conditions(where: Any) -> Iterator[tuple[str, str, Ops]]:
    """(place, field name, operators) of every condition under ``where`` that names a file,
    in order."""
    for place, name, condition in conditions(where, "where"):
        if isinstance(condition, Ops) and (condition.in_file or condition.not_in_file):
            yield place, name, condition


def _shown(path: Path) -> str:
    """A file as messages name it: relative to the working folder when it is inside it."""
    if path.is_absolute():
        try:
            return str(path.relative_to(Path.cwd()))
        except ValueError:
            return str(path)
    return str(path)


def _too_deep() -> str:
    return f"sets nested deeper than the limit of {MAX_SET_NESTING} levels"


def _validate(data: Any, origin: str) -> Spec:
    if isinstance(data, CohortSpec | SetSpec):
        return data
    if not isinstance(data, Mapping):
        raise SpecError(origin, f"a specification is a mapping, got {describe(data)}")
    try:
        return _SpecRoot.model_validate(data).root
    except ValidationError as e:
        problems = [SpecError(join(origin, at), message) for at, message in explain(e, data)]
        raise several(problems) from None
    except SpecError as e:  # a limit, checked before validation (see limits.check_spec)
        raise SpecError(join(origin, e.location), e.message) from None


def _read(path: Path) -> str:
    """The text of a specification file: at most MAX_FILE_BYTES of UTF-8, newlines as ``\\n``."""
    where = str(path)
    try:
        with path.open("rb") as file:
            raw = file.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise SpecError(where, "no such file") from None
    except IsADirectoryError:
        raise SpecError(where, "is a directory, not a specification file") from None
    except OSError as e:
        raise SpecError(where, f"cannot read: {e}") from e
    if len(raw) > MAX_FILE_BYTES:
        raise SpecError(
            where,
            f"larger than the limit of {MAX_FILE_BYTES // 2**20} MiB for a specification file",
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise SpecError(where, f"cannot read: {e}") from e
    if "\r" in text:  # as reading in text mode does
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text


def _decode(text: str, path: Path) -> Any:
    suffix = path.suffix.lower()
    if suffix == ".json":
        _check_json_nesting(text, path)
        try:
            return json.loads(text, object_pairs_hook=_no_duplicates_json)
        except RecursionError:  # not past the limit, but the caller's stack was deep already
            raise SpecError(str(path), _nested_too_deep()) from None
        except json.JSONDecodeError as e:
            raise SpecError(f"{path}:{e.lineno}:{e.colno}", f"malformed JSON: {e.msg}") from e
        except _DuplicateKey as e:
            line, column = _second_key_position(text, e.key)
            raise SpecError(
                f"{path}:{line}:{column}", f"malformed JSON: duplicate key {e.key!r}"
            ) from None
    if suffix in (".yaml", ".yml"):
        from .._yaml import Limits, YamlError, load_yaml

        limits = Limits(MAX_FILE_NESTING, MAX_YAML_ALIASES, MAX_YAML_EXPANSION, MAX_LIST)
        try:
            return load_yaml(text, limits)
        except YamlError as e:
            problem = e.problem if e.limit else f"malformed YAML: {e.problem}"
            raise SpecError(f"{path}{e.position}", problem) from e
    raise SpecError(str(path), "a specification file ends in .yaml, .yml or .json")


class _DuplicateKey(Exception):
    def __init__(self, key: str) -> None:
        self.key = key


def _no_duplicates_json(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKey(key)
        out[key] = value
    return out


def _second_key_position(text: str, key: str) -> tuple[int, int]:
    """Line and column of the second ``"key":`` in ``text`` (json does not say where)."""
    hits = list(re.finditer(re.escape(json.dumps(key)) + r"\s*:", text))
    offset = hits[1].start() if len(hits) > 1 else 0
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


_JSON_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]')  # a string, or a bracket


def _check_json_nesting(text: str, path: Path) -> None:
    """Refuse JSON nested deeper than MAX_FILE_NESTING before the (recursive) decoder sees it."""
    if text.count("[") + text.count("{") <= MAX_FILE_NESTING:
        return  # cannot be nested deeper: most files stop here
    depth = 0
    for token in _JSON_TOKEN.finditer(text):
        bracket = token.group()
        if bracket in "[{":
            depth += 1
            if depth > MAX_FILE_NESTING:
                offset = token.start()
                line = text.count("\n", 0, offset) + 1
                column = offset - (text.rfind("\n", 0, offset) + 1) + 1
                raise SpecError(f"{path}:{line}:{column}", _nested_too_deep())
        elif bracket in "]}":
            depth -= 1


def _nested_too_deep() -> str:
    return f"lists and mappings nested deeper than the limit of {MAX_FILE_NESTING} levels"


def source_files(spec: Spec) -> list[Path]:
    """The files a specification was read from: its own, its members' and the files of values
    they read, resolved, each once."""
    out: dict[Path, None] = {}
    for current in each_spec(spec):
        if current.origin:
            out.setdefault(Path(current.origin).resolve())
        if not isinstance(current, SetSpec):
            for values in current.value_files:
                if values.path is not None:
                    out.setdefault(values.path)
    return list(out)


def digest(spec: Spec) -> str:
    """SHA-256 of the specification's canonical content, members included (hex, 16 chars)."""
    bodies: dict[int, dict[str, Any]] = {}
    payload = json.dumps(
        _canonical(spec, bodies), sort_keys=True, separators=(",", ":"), default=str
    )
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def _canonical(spec: Spec, bodies: dict[int, dict[str, Any]]) -> dict[str, Any]:
    """The spec's content, members included; a member named many times is dumped once."""
    body = bodies.get(id(spec))
    if body is None:
        body = spec.model_dump(mode="json", by_alias=True, exclude_none=True)
        if body.get("unit") == "series":  # the default, as before units were: digests kept
            del body["unit"]
        if isinstance(spec, SetSpec):
            body["members"] = [_canonical(m, bodies) for m in spec.members]
        elif spec.value_files:  # what the files held: a changed list is a changed cohort
            body["value_files"] = [values.sha256 for values in spec.value_files]
        bodies[id(spec)] = body
    return body
