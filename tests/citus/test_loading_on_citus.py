"""Loading districts' records onto the cluster: the loader's suites (tests/loading), run
unchanged against a Citus coordinator. Each load is one tenant transaction as the ingest role,
whose rows reach the district's shard through its row-level security.

One test is replaced: on a cluster gateway_ingest must be able to log in, because Citus opens
the load's connections to the workers as the role the transaction has SET (clients are kept
out by pg_hba.conf, docs/scale-out.md). What it may do is the same as on one server.
"""

from __future__ import annotations

import asyncpg
import pytest

from tenants import District, StoreRegistry, tenant_transaction
from tenants.loading import replace
from tests.loading.test_atomicity import *  # noqa: F403 - the same suites, on the cluster
from tests.loading.test_csv_load import *  # noqa: F403
from tests.loading.test_pesc_load import *  # noqa: F403
from tests.loading.test_renumbered_sessions import *  # noqa: F403

pytestmark = pytest.mark.citus

del test_the_ingest_role_cannot_touch_disclosures_or_bypass_row_level_security  # noqa: F821


async def test_the_ingest_role_logs_in_to_workers_but_cannot_touch_disclosures_or_bypass_rls(
    stores: StoreRegistry, district: District, superuser_conn: asyncpg.Connection
) -> None:
    roles = await superuser_conn.fetch(
        "SELECT result FROM run_command_on_all_nodes($$SELECT rolbypassrls::text || ' '"
        " || rolcanlogin FROM pg_roles WHERE rolname = 'gateway_ingest'$$)"
    )
    assert {r["result"] for r in roles} == {"false true"}
    for statement in (
        "DELETE FROM disclosures WHERE district_id = $1",
        "UPDATE disclosures SET recipient = 'x' WHERE district_id = $1",
    ):
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            async with tenant_transaction(stores, district) as tx:
                await replace.take_ingest_role(tx)
                await tx.execute(statement, district.id)
    # Its writes are held to the transaction's district on the shard.
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="row-level security"):
        async with tenant_transaction(stores, district) as tx:
            await replace.take_ingest_role(tx)
            await tx.execute(
                "INSERT INTO schools (district_id, school_id, name, address_line, city,"
                " state_code, postal_code) VALUES ($1, 1, 'X', 'a', 'b', 'NC', '27601')",
                district.id + 1,
            )
