"""A template's SQL: exactly one read-only query, in BigQuery's dialect.

A template is one ``SELECT`` (or ``WITH ... SELECT``, or a set operation of them). A read-only
script is accepted too when it only declares constants before its query::

    DECLARE tolerance FLOAT64 DEFAULT 0.01;
    SELECT ... WHERE spacing < tolerance

Each such variable becomes a parameter of the template with its ``DEFAULT`` as default (IDC's
``volume_geometry_index.sql`` is written so). Anything else is refused with the reason, on the
line of the statement: DML and DDL change data, ``EXPORT DATA`` and ``LOAD DATA`` write files or
tables, ``CALL`` runs a procedure that may do anything, and scripting (``SET``, ``IF``, loops,
``EXECUTE IMMEDIATE``, ``BEGIN``) computes its statements as it runs, so that what it reads
and writes cannot be checked before it runs.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlglot
from sqlglot import Token, TokenType, exp
from sqlglot.errors import ParseError, TokenError

DIALECT = "bigquery"

_DML = "changes data (DML); a template only reads"
_DDL = "creates, changes or drops objects (DDL); a template only reads"
_SCRIPT = (
    "is BigQuery scripting: a script computes what it runs as it runs, so it cannot be checked "
    "as read-only beforehand; a template is one SELECT (after DECLAREs of constants, if any)"
)
#: the first word of a statement a template may not hold, and why
REFUSED = {
    **dict.fromkeys(("INSERT", "UPDATE", "DELETE", "MERGE", "TRUNCATE"), _DML),
    **dict.fromkeys(("CREATE", "DROP", "ALTER", "UNDROP", "REPLACE", "RENAME"), _DDL),
    **dict.fromkeys(("GRANT", "REVOKE"), "changes access rights (DCL); a template only reads"),
    "EXPORT": "writes files (EXPORT DATA); a template only reads, idc-sql writes its outputs",
    "LOAD": "loads data into a table (LOAD DATA); a template only reads",
    "CALL": "runs a procedure, which may do anything; a template only reads",
    **dict.fromkeys(
        (
            "SET",
            "IF",
            "LOOP",
            "WHILE",
            "REPEAT",
            "FOR",
            "BEGIN",
            "END",
            "EXECUTE",
            "RAISE",
            "RETURN",
            "BREAK",
            "LEAVE",
            "CONTINUE",
            "ITERATE",
            "ASSERT",
            "CASE",
            "COMMIT",
            "ROLLBACK",
        ),
        _SCRIPT,
    ),
}
#: the first words of a query
QUERY_STARTS = {TokenType.SELECT, TokenType.WITH, TokenType.L_PAREN, TokenType.FROM}


class SqlProblem(ValueError):
    """What is wrong, and on which line of the file (from 1)."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line


@dataclass
class Variable:
    """A ``DECLARE``d constant of a read-only script."""

    name: str
    kind: exp.DataType
    default: exp.Expr | None
    line: int


@dataclass
class Statement:
    """The template's query and the constants declared before it."""

    query: exp.Query
    line: int
    variables: list[Variable]
    #: every ``@name`` the SQL uses, with the line it is first used on
    used: dict[str, int]


def read_statement(text: str) -> Statement:
    """Check ``text`` holds one read-only query (after DECLAREs) and parse it."""
    tokens = _tokenize(text)
    starts = _statement_starts(tokens)
    if not starts:
        raise SqlProblem(1, "holds no SQL statement; a template is one SELECT")
    queries = []
    for first in starts:
        word = first.text.upper()
        if first.token_type in QUERY_STARTS:
            queries.append(first)
        elif word == "DECLARE":
            if queries:
                raise SqlProblem(first.line, "DECLARE must come before the query")
        else:
            reason = REFUSED.get(word, "is not a query; a template is one SELECT")
            raise SqlProblem(first.line, f"{word} {reason}")
    if not queries:
        raise SqlProblem(starts[-1].line, "declares constants but holds no query")
    if len(queries) > 1:
        raise SqlProblem(
            queries[1].line,
            f"a second statement (the first query is on line {queries[0].line}); "
            "a template is exactly one query",
        )
    try:
        parsed = sqlglot.parse(text, read=DIALECT)
    except ParseError as e:
        error = e.errors[0] if e.errors else {}
        line = int(error.get("line") or 1)
        raise SqlProblem(line, f"syntax error: {error.get('description') or e}") from None
    statements = [s for s in parsed if s is not None and not isinstance(s, exp.Semicolon)]
    variables: list[Variable] = []
    query: exp.Query | None = None
    for statement, first in zip(statements, starts, strict=False):
        if isinstance(statement, exp.Declare):
            variables += _variables(statement, first.line)
        elif isinstance(statement, exp.Query):
            query = statement
        else:
            raise SqlProblem(first.line, "is not a query; a template is one SELECT")
    if query is None:
        raise SqlProblem(queries[0].line, "is not a query; a template is one SELECT")
    return Statement(query, queries[0].line, variables, _parameters_used(tokens))


def _tokenize(text: str) -> list[Token]:
    try:
        return list(sqlglot.Dialect.get_or_raise(DIALECT).tokenize(text))
    except TokenError:
        line, what = unclosed(text)
        raise SqlProblem(line, f"syntax error: {what} is never closed") from None


def _statement_starts(tokens: list[Token]) -> list[Token]:
    """The first token of every statement (statements end at ``;`` outside brackets)."""
    starts: list[Token] = []
    depth = 0
    expecting = True
    for token in tokens:
        if token.token_type == TokenType.SEMICOLON and depth == 0:
            expecting = True
            continue
        if expecting:
            starts.append(token)
            expecting = False
        if token.token_type in (TokenType.L_PAREN, TokenType.L_BRACKET):
            depth += 1
        elif token.token_type in (TokenType.R_PAREN, TokenType.R_BRACKET):
            depth = max(0, depth - 1)
    return starts


def _parameters_used(tokens: list[Token]) -> dict[str, int]:
    """``@name`` -> the line it is first used on (``@@system_variables`` are not parameters)."""
    used: dict[str, int] = {}
    for i, token in enumerate(tokens[:-1]):
        if token.token_type != TokenType.PARAMETER:
            continue
        if i and tokens[i - 1].token_type == TokenType.PARAMETER:
            continue
        name = tokens[i + 1]
        if name.token_type == TokenType.PARAMETER:
            continue
        used.setdefault(name.text, token.line)
    return used


def _variables(declare: exp.Declare, line: int) -> list[Variable]:
    found = []
    for item in declare.expressions:
        default = item.args.get("default")
        default = default if isinstance(default, exp.Expr) else None
        kind = item.args.get("kind")
        if not isinstance(kind, exp.DataType):
            raise SqlProblem(line, "a DECLARE in a template names its type")
        names = item.this if isinstance(item.this, list) else [item.this]
        for name in names:
            found.append(Variable(name.name, kind, default, line))
    return found


def unclosed(text: str) -> tuple[int, str]:
    """Where an unterminated string, quoted name or comment starts, for the message."""
    line = 1
    i = 0
    n = len(text)
    while i < n:
        c = text[i]
        if c == "\n":
            line += 1
            i += 1
            continue
        if text.startswith("--", i) or c == "#":
            end = text.find("\n", i)
            i = n if end < 0 else end
            continue
        if text.startswith("/*", i):
            end = text.find("*/", i + 2)
            if end < 0:
                return line, "a /* comment"
            line += text.count("\n", i, end)
            i = end + 2
            continue
        if c in "'\"`":
            quote = text[i : i + 3] if text[i : i + 3] in ("'''", '"""') else c
            start = line
            j = i + len(quote)
            while j < n and not text.startswith(quote, j):
                j += 2 if text[j] == "\\" else 1
            if j >= n:
                kind = "a quoted name" if c == "`" else "a string"
                return start, f"{kind} opened with {quote}"
            line += text.count("\n", i, j)
            i = j + len(quote)
            continue
        i += 1
    return line, "a string or comment"
