"""Where the tests get PostgreSQL from, in this order:

1. GATEWAY_TEST_DATABASE_URL: a superuser URL of a server you run;
2. testcontainers, when a Docker engine answers a quick ping;
3. the embedded server (pgserver), in a fresh folder per test session.

Roles and a fresh database are bootstrapped on it, migrations applied as the owner role, and
the tests connect as the application role, so row-level security is really exercised.
"""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path


def _docker_answers() -> bool:
    if not Path("/var/run/docker.sock").exists() and not os.environ.get("DOCKER_HOST"):
        return False
    try:
        import docker

        client = docker.from_env(timeout=2)
        return bool(client.ping())
    except Exception:
        return False


@contextmanager
def superuser_url() -> Iterator[tuple[str, str | None, str]]:
    """Yield (superuser URL, role password or None, how) for the session's server."""
    configured = os.environ.get("GATEWAY_TEST_DATABASE_URL")
    if configured:
        yield configured, secrets.token_urlsafe(16), "GATEWAY_TEST_DATABASE_URL"
        return
    if _docker_answers():
        from testcontainers.postgres import PostgresContainer

        with PostgresContainer("postgres:16-alpine", driver=None) as container:
            yield container.get_connection_url(), secrets.token_urlsafe(16), "testcontainers"
        return
    from gateway.database.embedded import start_embedded

    folder = Path(tempfile.mkdtemp(prefix="gateway-test-"))
    server = start_embedded(folder)
    try:
        yield server.url(), None, "embedded"
    finally:
        with suppress(Exception):
            server.handle.cleanup()
        # The cluster is 50-130 MB; a session that leaves it behind fills /tmp in a few runs.
        shutil.rmtree(folder, ignore_errors=True)
