"""Every district statement of the query modules, EXPLAINed on the coordinator: one task.

The static check (tests/test_architecture.py) reads the SQL; this asks Citus itself. Each
complete statement (a module constant, or a literal that starts with SELECT, WITH or INSERT)
is explained inside a tenant transaction as the application role, with the district's id
for every parameter compared with district_id and NULL for the rest: the plan must be a
single task on a single worker.
"""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import pytest
from starlette.applications import Starlette

from tenants import tenant_transaction
from tenants.loading import replace
from tests.citus.conftest import shard_queries
from tests.conftest import unique_lea
from tests.factories import add_district
from tests.test_architecture import BULK_LOADER, DISTRICT_SQL, QUERY_MODULES, REPO

pytestmark = pytest.mark.citus

_STATEMENT = re.compile(r"^\s*(SELECT|WITH|INSERT)\b", re.IGNORECASE)


def whole_literals(path: Path) -> list[str]:
    """The module's string literals, less the pieces of f-strings: a piece is not a statement
    (the f-string's value is, and it is among the module's constants)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    pieces = {id(v) for n in ast.walk(tree) if isinstance(n, ast.JoinedStr) for v in n.values}
    return [
        n.value
        for n in ast.walk(tree)
        if isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in pieces
    ]


def statements() -> list[tuple[str, str]]:
    """(module, SQL) for each complete district statement of the query modules and loader."""
    found: dict[str, str] = {}
    for name in sorted(QUERY_MODULES | BULK_LOADER):
        module = importlib.import_module(name.removesuffix(".py").replace("/", "."))
        constants = [v for v in vars(module).values() if isinstance(v, str)]
        literals = [s for s in whole_literals(REPO / name) if _STATEMENT.match(s)]
        for sql in constants + literals:
            many = re.search(r"district_id\s*=\s*ANY", sql, re.IGNORECASE)
            if DISTRICT_SQL.search(sql) and _STATEMENT.match(sql) and not many:
                found.setdefault(" ".join(sql.split()), name)
    return sorted((module, sql) for sql, module in found.items())


def arguments(sql: str, district_id: int) -> list[object]:
    count = max((int(n) for n in re.findall(r"\$(\d+)", sql)), default=0)
    pinned = {int(n) for n in re.findall(r"district_id\s*=\s*\$(\d+)", sql)}
    pinned |= {1} if re.search(r"INSERT INTO \w+ \(district_id", sql) else set()
    return [district_id if n in pinned else None for n in range(1, count + 1)]


def test_the_collection_sees_the_statements_it_is_about() -> None:
    found = statements()
    assert len(found) >= 10
    assert {m for m, _ in found} == QUERY_MODULES | BULK_LOADER


@pytest.mark.parametrize(
    ("module", "sql"), statements(), ids=[f"{m}:{' '.join(s.split()[:4])}" for m, s in statements()]
)
async def test_statement_runs_on_one_shard(gateway_app: Starlette, module: str, sql: str) -> None:
    services = gateway_app.state.services
    async with services.stores.control.acquire() as control:
        district = await add_district(control, unique_lea())
    async with tenant_transaction(services.stores, district, readonly=True) as tx:
        if module == "tenants/loading/replace.py":
            await replace.take_ingest_role(tx)  # the loader's statements run as gateway_ingest
        plan = "\n".join(
            r[0] for r in await tx.fetch("EXPLAIN " + sql, *arguments(sql, district.id))
        )
    assert "Task Count: 1\n" in plan + "\n", f"{module}: not routed to one shard\n{plan}"
    assert "Citus Adaptive" in plan


async def test_shard_counters_see_a_multi_shard_query(gateway_app: Starlette) -> None:
    """The counters the transcript test relies on do count what they claim to."""
    services = gateway_app.state.services
    async with services.stores.control.acquire() as conn:
        _, many_before = await shard_queries(conn)
        await conn.fetchval("SELECT count(*) FROM students")
        _, many_after = await shard_queries(conn)
    assert many_after == many_before + 1


async def test_an_unpinned_statement_explains_as_many_tasks(gateway_app: Starlette) -> None:
    """The EXPLAIN check above can fail: a query not pinned to a district is many tasks."""
    async with gateway_app.state.services.stores.control.acquire() as conn:
        plan = "\n".join(r[0] for r in await conn.fetch("EXPLAIN SELECT count(*) FROM students"))
    count = re.search(r"Task Count: (\d+)", plan)
    assert count is not None and int(count.group(1)) > 1
