"""Split a migration file into its SQL statements (pure).

PostgreSQL runs a whole file sent as one simple query. A Citus coordinator forwards some DDL
to the shards as the text it received (DROP POLICY, some ALTER TABLE forms), and that text
would be the whole file: the workers refuse it ("cannot insert multiple commands into a
prepared statement"). So on Citus the runner sends the statements one by one, still inside
the file's single transaction.

Citus also refuses some ALTER TABLE subcommands combined with others on a distributed table
("cannot execute ADD CONSTRAINT command with other subcommands"), so on Citus an ALTER TABLE
with several subcommands is sent as one ALTER TABLE per subcommand, in order, in the same
transaction: the same end state.

The split honours what may hide a semicolon: '...' and E'...' strings, "..." identifiers,
$tag$...$tag$ bodies, -- line comments and (nested) /* */ comments.
"""

from __future__ import annotations

import re

_DOLLAR_TAG = re.compile(r"\$(?:[A-Za-z_][A-Za-z0-9_]*)?\$")


def split_statements(sql: str) -> list[str]:
    """The statements of `sql`, without their terminating semicolons or blank remainders."""
    statements: list[str] = []
    start = 0
    i = 0
    n = len(sql)
    while i < n:
        ch = sql[i]
        if ch == "-" and sql.startswith("--", i):
            end = sql.find("\n", i)
            i = n if end < 0 else end + 1
        elif ch == "/" and sql.startswith("/*", i):
            i = _block_comment_end(sql, i)
        elif ch == "'":
            escapes = i > 0 and sql[i - 1] in "eE" and (i < 2 or not _word_char(sql[i - 2]))
            i = _quoted_end(sql, i, "'", backslash=escapes)
        elif ch == '"':
            i = _quoted_end(sql, i, '"', backslash=False)
        elif ch == "$" and (i == 0 or not _word_char(sql[i - 1])):
            tag = _DOLLAR_TAG.match(sql, i)
            if tag is None:
                i += 1
            else:
                end = sql.find(tag.group(0), tag.end())
                i = n if end < 0 else end + len(tag.group(0))
        elif ch == ";":
            statements.append(sql[start:i])
            i += 1
            start = i
        else:
            i += 1
    statements.append(sql[start:])
    return [s.strip() for s in statements if _has_code(s)]


_ALTER_TABLE = re.compile(
    r"^(ALTER\s+TABLE\s+(?:IF\s+EXISTS\s+)?(?:ONLY\s+)?(?:\"[^\"]+\"|[\w.]+)\s+)(.*)$",
    re.IGNORECASE | re.DOTALL,
)


def split_alter_table(statement: str) -> list[str]:
    """`ALTER TABLE t a, b, c` as `ALTER TABLE t a`, `... b`, `... c`; anything else as is.
    Commas inside parentheses, strings, identifiers and bodies do not split."""
    match = _ALTER_TABLE.match(statement.strip())
    if match is None:
        return [statement]
    head, rest = match.groups()
    parts = _top_level_commas(rest)
    if len(parts) < 2:
        return [statement]
    return [head + part for part in parts]


def _top_level_commas(text: str) -> list[str]:
    parts: list[str] = []
    depth = 0
    start = 0
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "'":
            i = _quoted_end(text, i, "'", backslash=False)
            continue
        if ch == '"':
            i = _quoted_end(text, i, '"', backslash=False)
            continue
        if ch == "$" and (tag := _DOLLAR_TAG.match(text, i)) is not None:
            end = text.find(tag.group(0), tag.end())
            i = len(text) if end < 0 else end + len(tag.group(0))
            continue
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(text[start:i].strip())
            start = i + 1
        i += 1
    parts.append(text[start:].strip())
    return [p for p in parts if p]


def _word_char(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


def _quoted_end(sql: str, i: int, quote: str, *, backslash: bool) -> int:
    """Index just past the quote closing the one at `i` (a doubled quote stays inside)."""
    j = i + 1
    while j < len(sql):
        if backslash and sql[j] == "\\":
            j += 2
            continue
        if sql[j] == quote:
            if sql.startswith(quote * 2, j):
                j += 2
                continue
            return j + 1
        j += 1
    return len(sql)


def _block_comment_end(sql: str, i: int) -> int:
    depth = 0
    j = i
    while j < len(sql):
        if sql.startswith("/*", j):
            depth += 1
            j += 2
        elif sql.startswith("*/", j):
            depth -= 1
            j += 2
            if depth == 0:
                return j
        else:
            j += 1
    return len(sql)


def _has_code(statement: str) -> bool:
    """Whether anything but whitespace and comments is left."""
    text = re.sub(r"--[^\n]*", "", statement)
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.DOTALL)
    return bool(text.strip())
