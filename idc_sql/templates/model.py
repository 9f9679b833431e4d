"""A loaded template: its name, description, parameters, the tables it reads and its query."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlglot import exp

from ..errors import Option, SpecError
from ..release import Requested
from .tables import Reference
from .types import ParamType, TypeProblem


@dataclass(frozen=True)
class Parameter:
    """A BigQuery named parameter of a template (``@name`` in its SQL)."""

    name: str
    type: ParamType
    #: the default value (None with ``required``: there is none)
    default: Any = None
    required: bool = True
    description: str = ""
    #: the header line that declares it (None: found in the SQL only)
    line: int | None = None

    @property
    def shown_default(self) -> str:
        if self.required:
            return "(required)"
        if self.default is None:
            return "NULL"
        return repr(self.default) if not isinstance(self.default, list) else str(self.default)


@dataclass(frozen=True)
class Template:
    """A saved query: checked when loaded, compiled for an engine when run."""

    name: str
    description: str
    #: the file it was read from
    path: Path
    #: where it was found: "queries" (the package's), "folder" (a templates folder),
    #: "idc-index-data" (IDC's index SQL), "file" (a path)
    source: str
    text: str
    #: the query, in BigQuery's dialect, declared constants replaced by parameters
    tree: exp.Query
    params: Mapping[str, Parameter]
    tables: tuple[Reference, ...]
    #: the release its datasets name (None: none; the engine's, or --idc-version)
    release: Requested
    #: the line of the query's first word
    line: int = 1
    #: parameters that stand for an IDC script's DECLAREd constants (name -> DEFAULT literal)
    constants: Mapping[str, exp.Expr] = field(default_factory=dict)

    @property
    def digest(self) -> str:
        """SHA-256 of the file's text (hex, 16 characters), for provenance."""
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()[:16]

    @property
    def where(self) -> str:
        return str(self.path)

    def values(self, given: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Every parameter's value: ``given`` (text or Python values) over the defaults.

        Unknown names, missing required values and values of the wrong type are refused,
        naming the parameter and what it takes.
        """
        given = dict(given or {})
        unknown = sorted(set(given) - set(self.params))
        if unknown:
            known = ", ".join(self.params) or "none"
            raise SpecError(
                self.where,
                f"no parameter {', '.join(unknown)} (its parameters: {known})",
            )
        values: dict[str, Any] = {}
        missing = []
        for name, p in self.params.items():
            if name in given:
                try:
                    value = p.type.convert(given[name])
                except TypeProblem as e:
                    raise SpecError(
                        self.where, Option("param", f"{name}={given[name]}"), f": {e}"
                    ) from None
            elif p.required:
                missing.append(p)
                continue
            else:
                value = p.default
            values[name] = [] if value is None and p.type.array else value
        if missing:
            needed = ", ".join(f"{p.name} ({p.type.name})" for p in missing)
            raise SpecError(
                self.where,
                f"needs a value for {needed}: give ",
                *(Option("param", f"{p.name}=...") for p in missing[:1]),
            )
        return values
