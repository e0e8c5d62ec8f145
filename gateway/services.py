"""What one worker holds for its lifetime: pools, caches, the change feed, background writers.

Built in the app's lifespan from Settings, handed to endpoints through `request.app.state`.
Start-up order matters: pools, then caches (loaded in full), then the change feed, which on
connect reloads every cache once more so that nothing changed in between is missed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from functools import partial

from gateway.audit import AuditBuffer
from gateway.control import district_loads
from gateway.housekeeping import Housekeeping
from gateway.lockout import Lockout, LockoutPolicy
from gateway.oauth.bearer import BearerVerifier
from gateway.oauth.cache import CredentialCache
from gateway.oauth.client_auth import ClientAuthenticator
from gateway.oauth.keys import SigningKeys
from gateway.oauth.revocation import RevokedTokens
from gateway.oauth.usage import UsageTracker
from gateway.offload import Offload
from gateway.oidc import flows as oidc_flows
from gateway.oidc.flows import FlowStore
from gateway.oidc.provider import OidcProvider
from gateway.ratelimit import RateLimiter
from gateway.settings import Settings
from gateway.web import sessions as web_sessions
from tenants.directory import DistrictDirectory
from tenants.loading.uploads import load_slots
from tenants.notifications import ChangeFeed
from tenants.stores import MAIN_STORE, StoreRegistry


def store_urls(settings: Settings) -> dict[str, str]:
    """Application-role URLs by store name ("main" is the control database)."""
    if settings.database_url is None:
        raise RuntimeError("database URL not resolved; start the embedded server first")
    urls = {MAIN_STORE: str(settings.database_url)}
    urls.update({name: str(url) for name, url in settings.stores.items()})
    return urls


def lockout_policy(settings: Settings, subject_scope: str, address_scope: str) -> LockoutPolicy:
    """The configured lockout thresholds, counted under the given scopes: the token endpoint
    (client id + address, address) and web sign-in (email + address, address) share them."""
    return LockoutPolicy(
        subject_scope=subject_scope,
        address_scope=address_scope,
        threshold=settings.lockout_threshold,
        address_threshold=settings.lockout_address_threshold,
        window=timedelta(seconds=settings.lockout_window_seconds),
        duration=timedelta(seconds=settings.lockout_seconds),
    )


@dataclass
class Services:
    settings: Settings
    stores: StoreRegistry
    directory: DistrictDirectory
    feed: ChangeFeed
    audit: AuditBuffer
    credentials: CredentialCache
    keys: SigningKeys
    revoked: RevokedTokens
    lockout: Lockout
    login_lockout: Lockout
    token_rate: RateLimiter
    usage: UsageTracker
    slow_hashes: Offload  # argon2id verifications
    documents: Offload  # TranscriptRequest parsing and validation
    loads: Offload  # district data uploads running or waiting in this process
    client_auth: ClientAuthenticator
    bearer: BearerVerifier
    housekeeping: Housekeeping
    # Staff sign-in through the state's OpenID provider, when one is configured.
    oidc: OidcProvider | None = None

    @classmethod
    async def open(cls, settings: Settings) -> Services:
        """Open the pools, load every cache, start listening and the background writers."""
        urls = store_urls(settings)
        stores = StoreRegistry(
            urls,
            min_size=settings.pool_min_size,
            max_size=settings.pool_max_size,
            acquire_timeout=settings.pool_acquire_timeout_seconds,
            close_timeout=settings.shutdown_timeout_seconds,
        )
        await stores.open()
        control = stores.control
        directory = DistrictDirectory(stores)
        audit = AuditBuffer(control)
        credentials = CredentialCache(control)
        keys = SigningKeys(control, settings.master_keys)
        revoked = RevokedTokens(control)
        lockout = Lockout(control, lockout_policy(settings, "client_addr", "addr"))
        # Shared by every worker and host (rate_buckets), keyed by client id.
        token_rate = RateLimiter(
            control, "token", settings.token_rate_per_second, settings.token_rate_burst
        )
        slow_hashes = Offload(
            settings.slow_hash_concurrency,
            settings.slow_hash_queue,
            "Too many sign-in checks at once; try again shortly.",
        )
        svc = cls(
            settings=settings,
            stores=stores,
            directory=directory,
            feed=ChangeFeed(urls[MAIN_STORE]),
            audit=audit,
            credentials=credentials,
            keys=keys,
            revoked=revoked,
            lockout=lockout,
            login_lockout=Lockout(control, lockout_policy(settings, "login_addr", "login_any")),
            token_rate=token_rate,
            usage=UsageTracker(control),
            slow_hashes=slow_hashes,
            documents=Offload(
                settings.document_concurrency,
                settings.document_concurrency * 4,
                "Too many TranscriptRequests at once; try again shortly.",
            ),
            loads=load_slots(settings.load_concurrency, settings.load_queue),
            client_auth=ClientAuthenticator(credentials, lockout, audit, slow_hashes),
            bearer=BearerVerifier(
                keys,
                credentials,
                revoked,
                directory,
                issuer=settings.issuer,
                audience=f"{settings.issuer}/api",
            ),
            housekeeping=Housekeeping(
                {
                    "lockout_counters": lockout.purge,
                    "revoked_tokens": revoked.purge,
                    "sessions": partial(web_sessions.purge, control),
                    "oidc_flows": partial(oidc_flows.purge, control),
                    "rate_buckets": token_rate.purge,
                    "interrupted_loads": partial(district_loads.reap, control),
                    "load_errors": partial(
                        district_loads.purge_errors, control, settings.load_errors_days
                    ),
                }
            ),
            oidc=(
                OidcProvider(
                    settings.oidc,
                    settings.oidc_redirect_uri,
                    FlowStore(control, settings.master_keys),
                )
                if settings.oidc is not None
                else None
            ),
        )
        try:
            await svc._start()
        except BaseException:
            await stores.close()
            raise
        return svc

    async def _start(self) -> None:
        await self.directory.load()
        await self.credentials.load()
        await self.keys.ensure_active()
        await self.revoked.load()
        await self.lockout.load()
        await self.login_lockout.load()

        async def district_changed(key: str) -> None:
            await self.directory.refresh(int(key))

        async def consumer_changed(_key: str) -> None:
            await self.credentials.load()

        async def keys_changed(_key: str) -> None:
            await self.keys.load()

        feed = self.feed
        feed.on_change("districts", district_changed)
        feed.on_change("credentials", self.credentials.refresh_client)
        feed.on_change("credential_secrets", self.credentials.refresh_credential)
        feed.on_change("consumers", consumer_changed)
        feed.on_change("signing_keys", keys_changed)
        feed.on_change("revoked_tokens", self.revoked.refresh)
        feed.on_change("auth_failures", self.lockout.refresh)
        feed.on_change("auth_failures", self.login_lockout.refresh)
        for reload in (
            self.directory.load,
            self.credentials.load,
            self.keys.load,
            self.revoked.load,
            self.lockout.load,
            self.login_lockout.load,
        ):
            feed.on_resync(reload)
        await feed.start()
        await self.audit.start()
        await self.usage.start()
        await self.housekeeping.start()

    async def stop(self) -> None:
        await self.housekeeping.stop()
        await self.feed.stop()
        await self.usage.stop()
        await self.audit.stop()
        await self.stores.close()
