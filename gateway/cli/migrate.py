"""`gateway migrate`: apply the SQL migrations to the control database and every data store."""

from __future__ import annotations

from typing import Any

import click

from gateway.cli.context import resolved, run, state
from gateway.cli.output import emit
from gateway.database.distribution import distributed_tables
from gateway.database.migrations import CONTROL, DISTRICT, migrate, pending
from gateway.settings import Settings
from tenants.stores import MAIN_STORE


def migration_targets(settings: Settings) -> list[tuple[str, str, list[str]]]:
    """(store, owner URL, streams): the control plane and district data on main, district
    data alone on every other store."""
    main_url = str(settings.migration_database_url or settings.database_url)
    targets = [(MAIN_STORE, main_url, [CONTROL, DISTRICT])]
    for name in sorted(settings.stores):
        owner = settings.migration_stores.get(name) or settings.stores[name]
        targets.append((name, str(owner), [DISTRICT]))
    return targets


async def migrate_all(settings: Settings) -> list[dict[str, Any]]:
    applied: list[dict[str, Any]] = []
    for store, url, streams in migration_targets(settings):
        for item in await migrate(url, streams):
            applied.append(
                {"store": store, "stream": item.stream, "version": item.version, "name": item.name}
            )
    return applied


@click.command("migrate")
@click.option("--status", is_flag=True, help="Only list migrations not yet applied.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@click.pass_context
def migrate_command(ctx: click.Context, status: bool, as_json: bool) -> None:
    """Apply pending migrations (forward-only; safe to run again).

    Runs as the owner role (GATEWAY_MIGRATION_DATABASE_URL) under an advisory lock, records each
    file with its SHA-256, and refuses to run if an applied file has changed since.

    On a Citus coordinator (the citus extension is installed) every district table is
    distributed by district_id, co-located, including tables added by later migrations;
    control tables stay local. See docs/scale-out.md.
    """

    async def go() -> tuple[list[dict[str, Any]], dict[str, list[str]]]:
        settings = await resolved(state(ctx).settings, create=True)
        rows: list[dict[str, Any]] = []
        if not status:
            rows = await migrate_all(settings)
        else:
            for store, url, streams in migration_targets(settings):
                for m in await pending(url, streams):
                    rows.append(
                        {"store": store, "stream": m.stream, "version": m.version, "name": m.name}
                    )
        citus: dict[str, list[str]] = {}
        for store, url, _ in migration_targets(settings):
            tables = await distributed_tables(url)
            if tables is not None:
                citus[store] = tables
        return rows, citus

    rows, citus = run(go())
    if as_json:
        out: dict[str, Any] = {"pending" if status else "applied": rows}
        if citus:
            out["citus"] = {store: {"distributed": tables} for store, tables in citus.items()}
        emit(out, as_json=True)
        return
    if not rows:
        click.echo(
            "Nothing pending: the database is up to date." if status else "Already up to date."
        )
    else:
        emit(
            rows,
            as_json=False,
            columns=["store", "stream", "version", "name"],
            title="Pending" if status else "Applied",
        )
    for store, tables in citus.items():
        click.echo(
            f"Citus on store {store}: {len(tables)} district tables distributed by district_id"
            " (co-located); control tables local on the coordinator."
        )


COMMANDS = [migrate_command]
