"""A relay between the gateway and PostgreSQL that a test can cut and mend: a database outage
without stopping the session's database. The embedded server listens on a Unix socket only,
so the relay does too (a socket of its own, in a directory of its own)."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import tempfile
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit


class OutageProxy:
    def __init__(self, target_url: str) -> None:
        parts = urlsplit(target_url)
        query = dict(parse_qsl(parts.query))
        if "host" not in query:
            raise ValueError("OutageProxy relays to a Unix-socket URL (?host=DIR)")
        port = parts.port or 5432
        self._target = str(Path(query["host"]) / f".s.PGSQL.{port}")
        self._dir = tempfile.mkdtemp(prefix="outage-")
        self._listen = str(Path(self._dir) / f".s.PGSQL.{port}")
        self.url = urlunsplit(parts._replace(query=urlencode({**query, "host": self._dir})))
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self.up = True

    async def start(self) -> None:
        self._server = await asyncio.start_unix_server(self._relay, path=self._listen)

    def cut(self) -> None:
        """Drop every relayed connection and refuse new ones (as a dead server would)."""
        self.up = False
        for writer in list(self._writers):
            writer.transport.abort()

    def mend(self) -> None:
        self.up = True

    async def close(self) -> None:
        self.cut()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        shutil.rmtree(self._dir, ignore_errors=True)  # its socket's folder: leave nothing in /tmp

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if not self.up:
            writer.transport.abort()
            return
        try:
            up_reader, up_writer = await asyncio.open_unix_connection(self._target)
        except OSError:
            writer.transport.abort()
            return
        self._writers |= {writer, up_writer}

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError, asyncio.CancelledError):
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            dst.transport.abort()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        self._writers -= {writer, up_writer}
