"""Every synthetic district (what `gateway seed` makes) is a valid bundle: the loader's rules
accept what the rest of the gateway already serves, and the load keeps every row."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import asyncpg

from tenants import District, StoreRegistry
from tenants.synthetic.bundle import write_bundle
from tenants.synthetic.generator import Term, district_rows
from tenants.synthetic.nc_places import district_plans
from tests.loading.conftest import district_state, load


async def test_a_synthetic_district_written_as_a_bundle_loads_whole(
    stores: StoreRegistry, district: District, tmp_path: Path, owner_conn: asyncpg.Connection
) -> None:
    rows = district_rows(
        district_plans(1)[0],
        district_id=district.id,
        students=120,
        seed=3,
        term=Term.containing(date(2025, 3, 1)),
    )
    write_bundle(rows, tmp_path / "bundle")
    result = await load(stores, district, tmp_path / "bundle")
    assert result.status == "succeeded", [str(p) for p in result.problems.problems[:5]]
    assert result.counts["rows"] == rows.counts()
    state = await district_state(owner_conn, district.id)
    for table, count in rows.counts().items():
        assert len(state[table]) == count, table  # type: ignore[arg-type]
