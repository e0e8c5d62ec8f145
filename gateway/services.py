"""What one worker holds for its lifetime: pools, caches, the change feed.

Built in the app's lifespan from Settings, handed to endpoints through `request.app.state`.
The order of `start()` matters: pools, then caches (loaded in full), then the change feed
(which, on connect, reloads the caches once more, so nothing changed in between is missed).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from gateway.settings import Settings
from tenants.directory import DistrictDirectory
from tenants.notifications import ChangeFeed
from tenants.stores import MAIN_STORE, StoreRegistry


def store_urls(settings: Settings) -> dict[str, str]:
    """Application-role URLs by store name ("main" is the control database)."""
    if settings.database_url is None:
        raise RuntimeError("database URL not resolved; start the embedded server first")
    urls = {MAIN_STORE: str(settings.database_url)}
    urls.update({name: str(url) for name, url in settings.stores.items()})
    return urls


@dataclass
class Services:
    settings: Settings
    stores: StoreRegistry
    directory: DistrictDirectory
    feed: ChangeFeed
    started: bool = field(default=False)

    @classmethod
    def create(cls, settings: Settings) -> Services:
        urls = store_urls(settings)
        stores = StoreRegistry(
            urls, min_size=settings.pool_min_size, max_size=settings.pool_max_size
        )
        return cls(
            settings=settings,
            stores=stores,
            directory=DistrictDirectory(stores),
            feed=ChangeFeed(urls[MAIN_STORE]),
        )

    async def start(self) -> None:
        await self.stores.open()
        await self.directory.load()

        async def district_changed(key: str) -> None:
            await self.directory.refresh(int(key))

        self.feed.on_change("districts", district_changed)
        self.feed.on_resync(self.directory.load)
        await self.feed.start()
        self.started = True

    async def stop(self) -> None:
        await self.feed.stop()
        await self.stores.close()
        self.started = False
