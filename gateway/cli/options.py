"""Shared option types and small parsers for the CLI."""

from __future__ import annotations

import getpass
import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import click

from gateway.audit import Actor

json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")

_DURATION = re.compile(r"^(\d+)\s*([smhd]?)$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def cli_actor() -> Actor:
    """Operator actions from the CLI are audited under the OS user who ran them."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return Actor("cli", user)


class Duration(click.ParamType[timedelta]):
    name = "duration"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> timedelta:
        if isinstance(value, timedelta):
            return value
        match = _DURATION.match(str(value).strip().lower())
        if not match:
            self.fail("use a number with s, m, h or d, e.g. 24h or 7d", param, ctx)
        return timedelta(seconds=int(match.group(1)) * _UNITS[match.group(2)])


class ExpiryDate(click.ParamType[datetime]):
    """A date (valid through the end of that day, UTC) or an ISO 8601 date-time."""

    name = "date"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> datetime:
        text = str(value).strip()
        try:
            if len(text) == 10:
                day = date.fromisoformat(text)
                return datetime.combine(day + timedelta(days=1), time(0), tzinfo=UTC)
            moment = datetime.fromisoformat(text)
        except ValueError:
            self.fail("use YYYY-MM-DD or an ISO 8601 date-time", param, ctx)
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class StartDate(click.ParamType[datetime]):
    """A date (from the start of that day, UTC) or an ISO 8601 date-time."""

    name = "date"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> datetime:
        text = str(value).strip()
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            self.fail("use YYYY-MM-DD or an ISO 8601 date-time", param, ctx)
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
