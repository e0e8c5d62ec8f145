"""The console's district list at state scale (issue 11): a state has ~300 districts, so the
list searches, filters by status and kind, and pages (50 a page), with "Add a district" at the
top rather than below 300 rows."""

from __future__ import annotations

import re
import secrets

import asyncpg
import httpx
import pytest

from tests.web.test_admin_pages import Console, sign_in_operator

COUNT = 120  # 40 charters, 30 suspended: three pages of one search


@pytest.fixture
async def console(client: httpx.AsyncClient, control: asyncpg.Connection) -> Console:
    return await sign_in_operator(client, control)


@pytest.fixture(scope="module")
async def tag(database: object) -> str:
    """A name part that only this module's districts carry."""
    from tests.conftest import PgDatabase

    assert isinstance(database, PgDatabase)
    mark = secrets.token_hex(2).upper()
    owner = await asyncpg.connect(database.owner_url)
    try:
        await owner.execute(
            "INSERT INTO districts (lea_code, name, kind, status)"
            " SELECT 'S' || $1 || lpad(n::text, 3, '0'), 'Scale ' || $1 || ' district ' || n,"
            "  CASE WHEN n % 3 = 0 THEN 'charter' ELSE 'lea' END,"
            "  CASE WHEN n % 4 = 0 THEN 'suspended' ELSE 'active' END"
            " FROM generate_series(1, $2) AS n",
            mark,
            COUNT,
        )
    finally:
        await owner.close()
    return mark


def rows(html: str) -> list[str]:
    return re.findall(r'<tr data-href="/admin/districts/([^"]+)">', html)


async def test_a_search_is_paged_fifty_at_a_time_keeping_its_filters(
    console: Console, tag: str
) -> None:
    first = (await console.get("/admin/districts", q=f"Scale {tag}")).text
    assert len(rows(first)) == 50
    assert f"{COUNT} districts matching “Scale {tag}”, page 1 of 3" in first
    assert rows(first)[0] == f"S{tag}001"
    match = re.search(r'<a rel="next" href="([^"]+)">Next page</a>', first)
    assert match
    next_url = match.group(1).replace("&amp;", "&")
    assert f"q=Scale+{tag}" in next_url and next_url.endswith("page=2")
    last = (await console.get("/admin/districts", q=f"Scale {tag}", page="3")).text
    assert len(rows(last)) == COUNT - 100
    assert 'rel="prev"' in last and 'rel="next"' not in last
    beyond = (await console.get("/admin/districts", q=f"Scale {tag}", page="99")).text
    assert rows(beyond) == rows(last)  # past the end: the last page


async def test_filters_by_status_and_kind(console: Console, tag: str) -> None:
    suspended = (await console.get("/admin/districts", q=tag, status="suspended")).text
    assert len(rows(suspended)) == COUNT // 4
    assert '<option value="suspended" selected>' in suspended
    charters = (await console.get("/admin/districts", q=tag, kind="charter")).text
    assert len(rows(charters)) == COUNT // 3
    both = (await console.get("/admin/districts", q=tag, kind="charter", status="suspended")).text
    assert len(rows(both)) == COUNT // 12
    assert all(int(code[-3:]) % 12 == 0 for code in rows(both))
    nonsense = (await console.get("/admin/districts", q=tag, kind="county", page="x")).text
    assert len(rows(nonsense)) == 50  # an unknown filter is no filter, a bad page the first


async def test_the_primary_action_is_at_the_top(console: Console, tag: str) -> None:
    page = (await console.get("/admin/districts", q=tag)).text
    add = page.index('class="button" href="#add-heading">Add a district</a>')
    assert add < page.index("<table")
