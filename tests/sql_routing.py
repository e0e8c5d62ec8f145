"""A static reading of district SQL: is each statement routable to one district's shard?

Citus sends a query to one shard only when every distributed table in it is pinned to one
value of the distribution column: `district_id = $n` on the table itself, or an equality on
`district_id` with another table of the query that is pinned (a co-located join). This is the
rule the checker reads off the SQL text, table reference by table reference:

* `INSERT INTO t (district_id, ...) VALUES (...)` is routed by the district_id value it writes,
  and `INSERT INTO t (district_id, ...) SELECT ...` by its SELECT, if that reads district
  tables only and each is pinned;
* any other reference `t [alias]` needs `alias.district_id = $n` (or unqualified
  `district_id = $n` when the table has no alias), or `alias.district_id = other.district_id`
  with `other` pinned itself.

`= ANY($n)` pins a reference to a few shards, not one: accepted only where `bulk` is set
(the seed, which works across many districts as the owner and never serves a request).
The check on a real Citus coordinator is `EXPLAIN` (tests/citus); this one runs everywhere.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_KEYWORDS = {
    "where",
    "join",
    "left",
    "right",
    "inner",
    "full",
    "cross",
    "on",
    "order",
    "group",
    "limit",
    "offset",
    "using",
    "set",
    "values",
    "returning",
    "union",
    "natural",
    "for",
    "having",
    "window",
}


@dataclass(frozen=True)
class Reference:
    table: str
    alias: str | None
    verb: str
    end: int  # where the reference ends in the statement


def references(sql: str, tables: tuple[str, ...]) -> list[Reference]:
    pattern = re.compile(
        r"\b(FROM|JOIN|INTO|UPDATE)\s+("
        + "|".join(tables)
        + r")\b(?:\s+(?:AS\s+)?([A-Za-z_]\w*))?",
        re.IGNORECASE,
    )
    found = []
    for m in pattern.finditer(sql):
        alias = m.group(3)
        if alias is not None and alias.lower() in _KEYWORDS:
            alias = None
        found.append(Reference(m.group(2).lower(), alias, m.group(1).upper(), m.end()))
    return found


def _pinned_by_parameter(sql: str, qualifier: str | None, bulk: bool) -> bool:
    column = (re.escape(qualifier) + r"\.") if qualifier else r"(?<![\w.])"
    value = r"\$\d+\b(?:::\w+)?"
    if bulk:
        value = r"(?:" + value + r"|ANY\s*\(\s*\$\d+(?:::\w+(?:\[\])?)?\s*\))"
    return re.search(column + r"district_id\s*=\s*" + value, sql, re.IGNORECASE) is not None


def _joined_to(sql: str, qualifier: str) -> set[str]:
    """Qualifiers whose district_id this reference's district_id is set equal to."""
    q = re.escape(qualifier)
    other = r"([A-Za-z_]\w*)\.district_id"
    found = set(re.findall(q + r"\.district_id\s*=\s*" + other, sql, re.IGNORECASE))
    found |= set(re.findall(other + r"\s*=\s*" + q + r"\.district_id", sql, re.IGNORECASE))
    return {f for f in found if f.lower() != qualifier.lower()}


def _own_clause(sql: str, ref: Reference) -> str:
    """The text from `ref` to the next table reference: where its own WHERE clause is."""
    rest = sql[ref.end :]
    following = re.search(r"\b(?:FROM|JOIN)\b", rest, re.IGNORECASE)
    return rest[: following.start()] if following else rest


def _insert_routed(sql: str, ref: Reference, tables: tuple[str, ...], bulk: bool) -> bool:
    """INSERT ... VALUES naming district_id; or INSERT ... SELECT naming district_id whose
    SELECT reads only district tables that are pinned themselves (Citus runs it on the one
    shard of that district, co-located)."""
    m = re.search(
        r"\bINTO\s+" + ref.table + r"\s*\(([^)]*)\)\s*(VALUES|SELECT)\b",
        sql,
        re.IGNORECASE | re.DOTALL,
    )
    if m is None or "district_id" not in [c.strip().lower() for c in m.group(1).split(",")]:
        return False
    if m.group(2).upper() == "VALUES":
        return True
    source = sql[m.start(2) :]
    return bool(references(source, tables)) and not unrouted(source, tables, bulk=bulk)


def unrouted(sql: str, tables: tuple[str, ...], *, bulk: bool = False) -> list[str]:
    """The district tables of `sql` not pinned to one district (empty: routable)."""
    refs = references(sql, tables)
    pinned: set[str] = set()
    pending: list[Reference] = []
    for ref in refs:
        qualifier = ref.alias or ref.table
        if ref.verb == "INTO":
            ok = _insert_routed(sql, ref, tables, bulk)
        else:
            ok = _pinned_by_parameter(sql, qualifier, bulk) or (
                ref.alias is None and _pinned_by_parameter(_own_clause(sql, ref), None, bulk)
            )
        if ok:
            pinned.add(qualifier.lower())
        else:
            pending.append(ref)
    # Co-located joins: pinned through a district_id equality with a pinned reference.
    changed = True
    while changed and pending:
        changed = False
        for ref in list(pending):
            qualifier = ref.alias or ref.table
            if {q.lower() for q in _joined_to(sql, qualifier)} & pinned:
                pinned.add(qualifier.lower())
                pending.remove(ref)
                changed = True
    return [f"{r.table}{' ' + r.alias if r.alias else ''}" for r in pending]


# What a Citus coordinator refuses outright, whatever the routing (both were found on a real
# cluster after passing every test on PostgreSQL): an anonymous ROW, which it cannot read back
# from the worker that built it, and a join of a distributed table with a session's own
# (local) staging table, which must be read through a MATERIALIZED CTE instead.
_ANONYMOUS_ROW = re.compile(r"\bROW\s*\(", re.IGNORECASE)
_LOCAL_TABLE = re.compile(r"\bstage_\w+", re.IGNORECASE)
_LOCAL_CTE = re.compile(r"\bAS\s+MATERIALIZED\s*\(\s*SELECT\s+\*\s+FROM\s+stage_\w+\s*\)", re.I)


def coordinator_refusals(sql: str, tables: tuple[str, ...]) -> list[str]:
    """Why a coordinator would refuse `sql` (empty: it would not, on these two counts)."""
    found = []
    if _ANONYMOUS_ROW.search(sql):
        found.append("an anonymous ROW(...) crosses from a worker")
    if references(sql, tables) and _LOCAL_TABLE.search(_LOCAL_CTE.sub("", sql)):
        found.append("a local staging table is joined outside a MATERIALIZED CTE")
    return found
