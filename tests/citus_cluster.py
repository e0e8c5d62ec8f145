"""A fresh database on a Citus cluster for one test session.

GATEWAY_TEST_CITUS_URL is a superuser URL of a coordinator database whose workers are added
(`citus_add_node`). Citus keeps its metadata per database, so a fresh database needs the
extension on every node and the workers added again; the workers are found in the given
database's `pg_dist_node`, and reached with the same user and password at their own host
and port.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import asyncpg


@dataclass(frozen=True)
class Node:
    host: str
    port: int


def node_url(url: str, node: Node, database: str) -> str:
    parts = urlsplit(url)
    auth = parts.netloc.rpartition("@")[0]
    host = f"[{node.host}]" if ":" in node.host else node.host
    netloc = (auth + "@" if auth else "") + f"{host}:{node.port}"
    return urlunsplit((parts.scheme, netloc, "/" + database, parts.query, ""))


async def workers(url: str) -> list[Node]:
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch(
            "SELECT nodename, nodeport FROM pg_dist_node"
            " WHERE groupid <> 0 AND noderole = 'primary' AND isactive ORDER BY nodeid"
        )
    finally:
        await conn.close()
    return [Node(r["nodename"], r["nodeport"]) for r in rows]


async def fresh_database(url: str, name: str) -> str:
    """Create database `name` anew on the coordinator and every worker of `url`'s cluster,
    with the citus extension and the workers added; returns its superuser URL."""
    if not name.replace("_", "").isalnum():
        raise ValueError(f"unsafe database name {name!r}")
    parts = urlsplit(url)
    coordinator = Node(parts.hostname or "localhost", parts.port or 5432)
    nodes = await workers(url)
    if not nodes:
        raise RuntimeError(f"{coordinator.host}:{coordinator.port} has no active workers")
    for node in [coordinator, *nodes]:
        conn = await asyncpg.connect(node_url(url, node, parts.path.lstrip("/") or "postgres"))
        try:
            await conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            await conn.execute(f"CREATE DATABASE {name} ENCODING 'UTF8' TEMPLATE template0")
        finally:
            await conn.close()
        conn = await asyncpg.connect(node_url(url, node, name))
        try:
            await conn.execute("CREATE EXTENSION citus")
        finally:
            await conn.close()
    fresh = node_url(url, coordinator, name)
    conn = await asyncpg.connect(fresh)
    try:
        await conn.execute(
            "SELECT citus_set_coordinator_host($1, $2)", coordinator.host, coordinator.port
        )
        for node in nodes:
            await conn.execute("SELECT citus_add_node($1, $2)", node.host, node.port)
    finally:
        await conn.close()
    return fresh
