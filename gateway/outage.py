"""What a database outage looks like from a request.

Shared vocabulary of the edge (middleware, problem handlers) and the data-store routing, so
that neither has to import the other.
"""

from __future__ import annotations

import asyncpg

# The server refused or dropped the connection, is starting or shutting down (57P0x), or a
# connection died under a query.
# Answered 503 with Retry-After, not 500: nothing is wrong with the request.
OUTAGE_ERRORS: tuple[type[BaseException], ...] = (
    ConnectionError,
    asyncpg.PostgresConnectionError,
    asyncpg.exceptions.ConnectionDoesNotExistError,
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.CrashShutdownError,
    asyncpg.exceptions.CannotConnectNowError,
)
