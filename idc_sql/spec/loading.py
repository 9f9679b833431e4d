"""Reading specifications: files, decoding, set members, and the digest."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..errors import SpecError
from .messages import describe, explain, join
from .models import CohortSpec, SetSpec, Spec, _SpecRoot


def parse_spec(data: Any, *, origin: str = "", base_dir: Path | None = None) -> Spec:
    """Validate ``data`` (a mapping, as loaded from YAML or JSON) into a specification.

    ``origin`` names the source in messages; ``base_dir`` is where set members' paths start
    (the spec file's folder; the working directory when omitted).
    """
    return _parse(data, origin=origin, base_dir=base_dir or Path.cwd(), stack=())


def load_spec(path: str | Path) -> Spec:
    """Read a specification from a ``.yaml``, ``.yml`` or ``.json`` file."""
    return _load(Path(path), stack=())


def _load(path: Path, stack: tuple[Path, ...]) -> Spec:
    where = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError(where, "no such file") from None
    except IsADirectoryError:
        raise SpecError(where, "is a directory, not a specification file") from None
    except (OSError, UnicodeDecodeError) as e:
        raise SpecError(where, f"cannot read: {e}") from e
    data = _decode(text, path)
    return _parse(data, origin=where, base_dir=path.parent, stack=(*stack, path.resolve()))


def _decode(text: str, path: Path) -> Any:
    suffix = path.suffix.lower()
    if suffix == ".json":
        try:
            return json.loads(text, object_pairs_hook=_no_duplicates_json)
        except json.JSONDecodeError as e:
            raise SpecError(f"{path}:{e.lineno}:{e.colno}", f"malformed JSON: {e.msg}") from e
        except _DuplicateKey as e:
            line, column = _second_key_position(text, e.key)
            raise SpecError(
                f"{path}:{line}:{column}", f"malformed JSON: duplicate key {e.key!r}"
            ) from None
    if suffix in (".yaml", ".yml"):
        from .._yaml import YamlError, load_yaml

        try:
            return load_yaml(text)
        except YamlError as e:
            raise SpecError(f"{path}{e.position}", f"malformed YAML: {e.problem}") from e
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
    import re

    hits = list(re.finditer(re.escape(json.dumps(key)) + r"\s*:", text))
    offset = hits[1].start() if len(hits) > 1 else 0
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def _parse(data: Any, *, origin: str, base_dir: Path, stack: tuple[Path, ...]) -> Spec:
    if isinstance(data, CohortSpec | SetSpec):
        spec: Spec = data
    else:
        if not isinstance(data, Mapping):
            raise SpecError(origin, f"a specification is a mapping, got {describe(data)}")
        try:
            spec = _SpecRoot.model_validate(data).root
        except ValidationError as e:
            location, message = explain(e, data)
            raise SpecError(join(origin, location), message) from None
    spec._origin = origin
    if isinstance(spec, SetSpec):
        members = []
        for i, rel in enumerate(spec.paths):
            path = (base_dir / rel).resolve()
            place = join(origin, f"{spec.operation}[{i}]")
            if path in stack:
                raise SpecError(place, f"{rel} includes itself (a cycle)")
            if not path.is_file():
                what = "is a directory" if path.is_dir() else "no such file"
                raise SpecError(place, f"{rel}: {what} (paths are relative to the spec's folder)")
            members.append(_load(path, stack))
        spec._members = tuple(members)
    return spec


def source_files(spec: Spec) -> list[Path]:
    """The files a specification was read from: its own and its members', resolved."""
    out = [Path(spec.origin).resolve()] if spec.origin else []
    if isinstance(spec, SetSpec):
        for member in spec.members:
            out += source_files(member)
    return out


def digest(spec: Spec) -> str:
    """SHA-256 of the specification's canonical content, members included (hex, 16 chars)."""
    payload = json.dumps(_canonical(spec), sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def _canonical(spec: Spec) -> dict[str, Any]:
    body = spec.model_dump(mode="json", by_alias=True, exclude_none=True)
    if isinstance(spec, SetSpec):
        body["members"] = [_canonical(m) for m in spec.members]
    return body
