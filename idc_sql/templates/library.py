"""Where templates are found: by path, by name in templates folders, in the package's own
``queries/``, and IDC's index SQL in idc-index-data (under the index's name).

Folders are searched in order: those named by ``templates`` (``--templates DIR``), then those of
``IDC_SQL_TEMPLATES`` (separated as in ``PATH``), then the package's ``queries/``, then IDC's
index SQL. A name is a template's ``name:`` or its file's name without ``.sql``.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..errors import SpecError, UsageError
from .loading import load_template
from .model import Template

#: the templates idc-sql ships, reviewed and tested
PACKAGE_QUERIES = Path(__file__).resolve().parents[1] / "queries"
ENV_TEMPLATES = "IDC_SQL_TEMPLATES"


@dataclass(frozen=True)
class Broken:
    """A file in a templates folder that does not load, and why."""

    path: Path
    error: SpecError


def folders(
    templates: Sequence[str | Path] | None = None, environ: Mapping[str, str] | None = None
) -> list[tuple[Path, str]]:
    """The folders searched, in order, each with its source: ``folder`` or ``queries``."""
    env = os.environ if environ is None else environ
    named = [(Path(t), "--templates") for t in templates or ()]
    named += [(Path(p), ENV_TEMPLATES) for p in env.get(ENV_TEMPLATES, "").split(os.pathsep) if p]
    for folder, given in named:  # a folder misspelt would hide its templates without a word
        if not folder.is_dir():
            what = "is not a folder" if folder.exists() else "does not exist"
            raise UsageError(f"{given}: {folder} {what}; templates are .sql files in a folder")
    return [*((p, "folder") for p, _ in named), (PACKAGE_QUERIES, "queries")]


def _files(searched: list[tuple[Path, str]]) -> Iterator[tuple[Path, str]]:
    for folder, source in searched:
        if folder.is_dir():
            for path in sorted(folder.glob("*.sql")):
                yield path, source


def catalog(
    templates: Sequence[str | Path] | None = None, *, with_indices: bool = True
) -> tuple[list[Template], list[Broken]]:
    """Every template found (the first of a name wins), and the files that do not load."""
    found: dict[str, Template] = {}
    broken: list[Broken] = []
    for path, source in _files(folders(templates)):
        try:
            template = load_template(path, source=source)
        except SpecError as e:
            broken.append(Broken(path, e))
            continue
        found.setdefault(template.name, template)
    if with_indices:
        for name, template_or_error in _index_templates():
            if isinstance(template_or_error, SpecError):
                sql = _index_sql(name)
                broken.append(Broken(sql if sql is not None else Path(name), template_or_error))
            elif name not in found:
                found[name] = template_or_error
    return list(found.values()), broken


def find(name_or_path: str | Path, templates: Sequence[str | Path] | None = None) -> Template:
    """The template a path or a name names."""
    text = str(name_or_path)
    path = Path(text)
    if path.suffix.lower() == ".sql" or os.sep in text or path.is_file():
        return load_template(path, source="file")
    for candidate, source in _files(folders(templates)):
        if candidate.stem == text:
            return load_template(candidate, source=source)
    found, _ = catalog(templates, with_indices=False)
    for template in found:
        if template.name == text:
            return template
    if _index_sql(text) is not None:
        from .inline import index_template

        index = index_template(text)
        assert index is not None
        return index
    names = sorted({t.name for t in found} | set(_index_names()))
    close = difflib.get_close_matches(text, names, n=1, cutoff=0.6)
    hint = f"; did you mean {close[0]}?" if close else ""
    raise UsageError(
        f"no template {text!r}{hint} (`idc-sql template list` lists them; a file is named by "
        "its path)"
    )


def _index_names() -> tuple[str, ...]:
    from ..indexes.wheel import index_names

    return index_names()


def _index_sql(name: str) -> Path | None:
    from ..indexes.wheel import sql_path

    return sql_path(name)


def _index_templates() -> Iterator[tuple[str, Template | SpecError]]:
    from .inline import index_template

    for name in _index_names():
        try:
            template = index_template(name)
        except SpecError as e:
            yield name, e
            continue
        if template is not None:
            yield name, template
