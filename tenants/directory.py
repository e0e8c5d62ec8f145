"""The district directory: LEA code → district (id, status, store), cached in memory.

Every request names a district, so the directory answers from memory. It is loaded whole at
start-up (a state has hundreds of districts, not millions) and refreshed row by row when the
control database announces a change (see `tenants.notifications`).
"""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

from tenants.stores import StoreRegistry

_SELECT_ALL = "SELECT district_id, lea_code, name, kind, status, store FROM districts"
_SELECT_BY_ID = _SELECT_ALL + " WHERE district_id = $1"
_SELECT_BY_LEA = _SELECT_ALL + " WHERE lea_code = $1"


@dataclass(frozen=True)
class District:
    id: int
    lea_code: str
    name: str
    kind: str
    status: str
    store: str

    @property
    def active(self) -> bool:
        return self.status == "active"

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> District:
        return cls(
            id=row["district_id"],
            lea_code=row["lea_code"],
            name=row["name"],
            kind=row["kind"],
            status=row["status"],
            store=row["store"],
        )


class DistrictDirectory:
    """In-memory map of districts, kept fresh by `refresh(district_id)` calls."""

    def __init__(self, stores: StoreRegistry) -> None:
        self._stores = stores
        self._by_lea: dict[str, District] = {}
        self._by_id: dict[int, District] = {}

    async def load(self) -> None:
        rows = await self._stores.control.fetch(_SELECT_ALL)
        districts = [District.from_row(r) for r in rows]
        self._by_lea = {d.lea_code: d for d in districts}
        self._by_id = {d.id: d for d in districts}

    async def refresh(self, district_id: int) -> None:
        """Re-read one district after a change notification (or drop it if deleted)."""
        row = await self._stores.control.fetchrow(_SELECT_BY_ID, district_id)
        old = self._by_id.pop(district_id, None)
        if old is not None:
            self._by_lea.pop(old.lea_code, None)
        if row is not None:
            self._put(District.from_row(row))

    def _put(self, district: District) -> None:
        self._by_lea[district.lea_code] = district
        self._by_id[district.id] = district

    async def by_lea(self, lea_code: str) -> District | None:
        """The district with this LEA code, from memory; one read on a miss (a district
        added a moment ago whose notification has not arrived yet)."""
        found = self._by_lea.get(lea_code)
        if found is not None:
            return found
        row = await self._stores.control.fetchrow(_SELECT_BY_LEA, lea_code)
        if row is None:
            return None
        district = District.from_row(row)
        self._put(district)
        return district

    def by_id(self, district_id: int) -> District | None:
        return self._by_id.get(district_id)

    def cached(self, lea_code: str) -> District | None:
        return self._by_lea.get(lea_code)

    def all(self) -> list[District]:
        return sorted(self._by_id.values(), key=lambda d: d.lea_code)
