"""Loading a template: read the file, its header, its one read-only query, its parameters and
the tables it reads; every problem is a :class:`~idc_sql.errors.SpecError` naming the file and
the line (``query.sql:12: ...``).

>>> t = parse_template("-- param n INT64 DEFAULT 3\\nSELECT @n AS n", "inline.sql")
>>> t.name, t.params["n"].type.name, t.params["n"].default
('inline', 'INT64', 3)
>>> parse_template("DELETE FROM t WHERE TRUE", "bad.sql")
Traceback (most recent call last):
...
idc_sql.errors.SpecError: bad.sql:1: DELETE changes data (DML); a template only reads
"""

from __future__ import annotations

from pathlib import Path

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError

from ..errors import SpecError
from .header import DeclaredParam, Header, HeaderProblem, parse_header
from .model import Parameter, Template
from .statement import DIALECT, SqlProblem, Statement, Variable, read_statement
from .tables import pinned_release, read_by
from .types import ParamType, TypeProblem, literal_value, parse_type

#: what no template parameter's name may begin with (the writers bind the file to one)
RESERVED_PREFIX = "idc_sql_"


def load_template(
    path: str | Path, *, source: str = "file", indices: frozenset[str] | None = None
) -> Template:
    """Read and check the template in ``path`` (a ``.sql`` file)."""
    path = Path(path)
    where = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError(where, "no such file") from None
    except IsADirectoryError:
        raise SpecError(where, "is a directory, not a template") from None
    except (OSError, UnicodeDecodeError) as e:
        raise SpecError(where, f"cannot read: {e}") from e
    return parse_template(text, where, source=source, indices=indices)


def parse_template(
    text: str,
    where: str,
    *,
    source: str = "file",
    indices: frozenset[str] | None = None,
    description: str = "",
) -> Template:
    """Check ``text`` as a template; ``where`` names it in messages (a file name).

    ``indices`` are the index names a template may read (default: those the installed
    idc-index-data knows of); ``description`` is used when the header gives none.
    """
    path = Path(where)
    if "\x00" in text:
        raise SpecError(f"{where}:{text[: text.index(chr(0))].count(chr(10)) + 1}", "holds NUL")
    try:
        header = parse_header(text.splitlines())
        statement = read_statement(text)
        params, constants = _parameters(header, statement)
        tree = _replace_variables(statement.query, statement.variables)
        _named_columns(tree, statement.line)
        references = read_by(tree, indices if indices is not None else _indices())
    except (HeaderProblem, SqlProblem) as e:
        raise SpecError(f"{where}:{e.line}", str(e)) from None
    name = header.name or path.stem
    return Template(
        name=name,
        description=header.description or description,
        path=path,
        source=source,
        text=text,
        tree=tree,
        params=params,
        tables=tuple(references),
        release=pinned_release(references),
        line=statement.line,
        constants=constants,
    )


def _indices() -> frozenset[str]:
    from ..indexes.wheel import index_names

    return frozenset(index_names())


def _parameters(
    header: Header, statement: Statement
) -> tuple[dict[str, Parameter], dict[str, exp.Expr]]:
    """The template's parameters: declared in the header or by DECLARE, else found in the
    SQL (each then a required STRING); declared and used ones must agree."""
    used = dict(statement.used)
    for name, line in used.items():
        if name.lower().startswith(RESERVED_PREFIX):
            raise SqlProblem(
                line,
                f"@{name}: parameter names beginning with {RESERVED_PREFIX} are idc-sql's own "
                "(it binds the file it writes to one); name it otherwise",
            )
    declared: dict[str, Parameter] = {}
    constants: dict[str, exp.Expr] = {}
    for d in header.params:
        if d.name in declared:
            raise HeaderProblem(d.line, f"parameter {d.name} is declared twice")
        declared[d.name] = _declared(d)
    for v in statement.variables:
        if v.name in declared:
            raise SqlProblem(v.line, f"{v.name} is declared in the header and by DECLARE")
        declared[v.name] = _variable(v)
        used.setdefault(v.name, v.line)
        if v.default is not None:
            constants[v.name] = v.default
    if not header.params and not statement.variables:
        found = {n: Parameter(n, ParamType("STRING"), line=None) for n in used}
        return found, constants
    for name, line in used.items():
        if name not in declared:
            close = [d for d in declared if d.lower() == name.lower()]
            hint = f" (declared: {close[0]}; names are matched exactly)" if close else ""
            raise SqlProblem(
                line,
                f"@{name} is not declared in the header{hint}: add "
                f"'-- param {name} TYPE [DEFAULT value]: description'",
            )
    for name, p in declared.items():
        if name not in used:
            raise HeaderProblem(p.line or 1, f"parameter {name} is declared but @{name} is unused")
    return declared, constants


def _declared(d: DeclaredParam) -> Parameter:
    try:
        kind = parse_type(d.type_text)
    except TypeProblem as e:
        raise HeaderProblem(d.line, f"parameter {d.name}: {e}") from None
    if d.default_text is None:
        return Parameter(d.name, kind, None, True, d.description, d.line)
    try:
        node = sqlglot.parse_one(d.default_text, read=DIALECT)
        value = literal_value(node, kind)
    except (ParseError, TypeProblem) as e:
        problem = e.errors[0]["description"] if isinstance(e, ParseError) and e.errors else e
        raise HeaderProblem(
            d.line, f"parameter {d.name}: DEFAULT {d.default_text}: {problem}"
        ) from None
    return Parameter(d.name, kind, value, False, d.description, d.line)


def _variable(v: Variable) -> Parameter:
    try:
        kind = parse_type(v.kind.sql(DIALECT))
        value = literal_value(v.default, kind) if v.default is not None else None
    except TypeProblem as e:
        raise SqlProblem(v.line, f"DECLARE {v.name}: {e}; a template declares constants") from None
    return Parameter(v.name, kind, value, False, "a constant the script declares", v.line)


def _replace_variables(query: exp.Query, variables: list[Variable]) -> exp.Query:
    """Bare references to DECLAREd variables become parameters of the same name."""
    if not variables:
        return query
    names = {v.name.lower(): v.name for v in variables}

    def swap(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Column) and not node.table and node.name.lower() in names:
            return exp.Parameter(this=exp.var(names[node.name.lower()]))
        return node

    replaced = query.transform(swap)
    assert isinstance(replaced, exp.Query)
    return replaced


def _named_columns(tree: exp.Query, line: int) -> None:
    """Every column of the result has a name: engines name an unnamed expression each their
    own way (BigQuery ``f0_``, DuckDB the expression's text), so results would not agree."""
    select: exp.Expr = tree
    while isinstance(select, exp.SetOperation | exp.Subquery):
        select = select.this
    if not isinstance(select, exp.Select):
        return
    for i, e in enumerate(select.expressions, start=1):
        if isinstance(e, exp.Column | exp.Star | exp.Alias | exp.Dot):
            continue
        at = next((int(n.meta["line"]) for n in e.walk() if n.meta.get("line")), line)
        raise SqlProblem(
            at,
            f"column {i} of the result ({e.sql(DIALECT)[:40]}) has no name: name it with AS "
            "(engines name an unnamed expression differently)",
        )
