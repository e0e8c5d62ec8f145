from __future__ import annotations

from dataclasses import dataclass

import asyncpg
import pytest

from gateway.control.credentials import IssuedSecret
from tests.conftest import unique_lea
from tests.factories import add_consumer, add_district, issue


@dataclass(frozen=True)
class Pair:
    lea: str
    district_id: int
    consumer: str
    issued: IssuedSecret

    @property
    def client_id(self) -> str:
        return self.issued.client_id

    @property
    def secret(self) -> str:
        return self.issued.client_secret


@pytest.fixture
async def pair(owner_conn: asyncpg.Connection, control: asyncpg.Connection) -> Pair:
    """A fresh district, consumer and credential, as an operator would set them up."""
    district = await add_district(owner_conn, unique_lea())
    consumer = await add_consumer(control)
    issued = await issue(control, district.lea_code, consumer)
    return Pair(district.lea_code, district.id, consumer, issued)
