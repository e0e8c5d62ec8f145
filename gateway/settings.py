"""Settings, read once at start-up from the environment (and an optional `.env` file).

Nothing else in the code base reads `os.environ`: the CLI calls `load_settings()` once and
passes the result down. Secrets are wrapped in `starlette.datastructures.Secret` so that a
stray `repr()` in a log line or a traceback shows `Secret('**********')`.

Every variable is prefixed `GATEWAY_` (uvicorn's own FORWARDED_ALLOW_IPS is honoured too, and
the standard OTEL_* variables turn tracing on); `gateway --help` and the README list them.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from starlette.config import Config
from starlette.datastructures import Secret

from gateway.errors import ConfigurationError

Environment = Literal["dev", "test", "production"]
LogFormat = Literal["json", "console"]

_REPO_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class MasterKey:
    """One AEAD key-encryption key; `kid` is stored beside every ciphertext it made."""

    kid: str
    key: bytes = field(repr=False)


@dataclass(frozen=True)
class OidcSettings:
    """Staff sign-in through the state's OpenID provider (OpenID Connect Core 1.0).

    The client authenticates to the token endpoint with `client_secret` (client_secret_basic)
    or, when `private_key` is set, with a signed JWT (private_key_jwt, RFC 7523 §2.2). Groups
    in `groups_claim` map to roles: `operator_group` makes an operator, and `district_group`
    with `{lea}` replaced by a district's LEA code makes that district's staff.
    """

    issuer: str
    client_id: str
    client_secret: Secret | None = None
    private_key: Secret | None = None  # a private JWK (JSON) or PEM, for private_key_jwt
    scopes: tuple[str, ...] = ("openid", "email", "profile")
    groups_claim: str = "groups"
    operator_group: str = "etranscripts-operators"
    district_group: str = "etranscripts-{lea}"
    provider_name: str = "your state account"

    @property
    def metadata_url(self) -> str:
        """Where discovery reads the provider's metadata (OpenID Connect Discovery 1.0 §4)."""
        return f"{self.issuer.rstrip('/')}/.well-known/openid-configuration"


@dataclass(frozen=True)
class Settings:
    env: Environment = "dev"
    database_url: Secret | None = None
    migration_database_url: Secret | None = None
    # Extra district data stores beyond "main" (the control database), by store name.
    stores: Mapping[str, Secret] = field(default_factory=dict)
    migration_stores: Mapping[str, Secret] = field(default_factory=dict)
    base_url: str = "http://127.0.0.1:8000"
    # True when GATEWAY_BASE_URL was set: then it is the address handed out, always; otherwise
    # `gateway dev` uses the address it bound (see gateway/database/served.py).
    base_url_configured: bool = False
    home: Path = Path(".gateway")
    # The first key encrypts; every key listed can decrypt (rotation).
    master_keys: tuple[MasterKey, ...] = ()
    log_level: str = "INFO"
    log_format: LogFormat = "json"
    host: str = "127.0.0.1"
    port: int = 8000
    # Proxies whose X-Forwarded-For/-Proto are believed (addresses or CIDR networks). None by
    # default: a forged X-Forwarded-For from any other peer, loopback included, would pick the
    # address that lockout and the audit log use.
    forwarded_allow_ips: tuple[str, ...] = ()
    workers: int = 1
    pool_min_size: int = 2
    pool_max_size: int = 10
    # How long a request waits for a pooled connection before it is answered 503 (issue 12).
    pool_acquire_timeout_seconds: float = 5.0
    # How long shutdown waits for in-flight requests and pooled connections before it cuts them.
    shutdown_timeout_seconds: float = 10.0
    # argon2 verifications (imported client secrets, web passwords) run in threads, at most
    # this many at once; this many more may wait, further ones are answered 503.
    slow_hash_concurrency: int = 2
    slow_hash_queue: int = 32
    # TranscriptRequests parsed and validated at once (in threads), and the most elements one
    # document may have (a real request has a few dozen; the red team's 1 MiB one had 40,000).
    document_concurrency: int = 2
    max_document_elements: int = 500
    # District data uploads (admin API, console) applied at once by this process, and how
    # many more may wait; further uploads are answered 503 before anything is recorded.
    load_concurrency: int = 2
    load_queue: int = 8
    token_ttl_seconds: int = 900
    max_body_bytes: int = 64 * 1024
    max_document_bytes: int = 1024 * 1024
    pesc_dir: Path = _REPO_ROOT.parent / "shared" / "pesc"
    validate_pesc: bool = False
    # Client authentication protection (token endpoint and web sign-in).
    lockout_threshold: int = 5
    lockout_address_threshold: int = 50
    lockout_window_seconds: int = 900
    lockout_seconds: int = 900
    token_rate_per_second: float = 20.0
    token_rate_burst: int = 40
    session_ttl_seconds: int = 8 * 3600
    # Days a finished load keeps its error list (which may quote student values), then emptied.
    load_errors_days: int = 30
    # Staff sign-in through the state's OpenID provider; None: local accounts only.
    oidc: OidcSettings | None = None
    # Local (password) sign-in, the break-glass way in; GATEWAY_LOCAL_LOGIN=off removes it.
    local_login: bool = True
    bench_routes: bool = False
    # OpenTelemetry tracing (the `otel` extra): on when a collector is named by the standard
    # OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT; the SDK reads the other OTEL_* variables itself.
    tracing: bool = False
    # When set, /metrics answers only `Authorization: Bearer <token>` (a scraper's secret).
    metrics_token: Secret | None = None
    # Set by `gateway serve` for its workers so that /metrics adds up every worker.
    metrics_multiproc_dir: str | None = None
    # GATEWAY_METRICS_PORT: when set, `gateway serve` answers /metrics on this port of
    # GATEWAY_METRICS_HOST only (loopback by default), never on the public listener.
    metrics_port: int | None = None
    metrics_host: str = "127.0.0.1"
    # GATEWAY_WORKER_METRICS_PORT: `gateway worker`'s /metrics and /healthz (off by default:
    # several workers may share a host, and each needs a port of its own).
    worker_metrics_port: int | None = None

    @property
    def embedded(self) -> bool:
        """True when no database URL is configured: the gateway runs its own Postgres."""
        return self.database_url is None

    @property
    def cookie_secure(self) -> bool:
        return self.env == "production" or self.base_url.startswith("https://")

    @property
    def issuer(self) -> str:
        return self.base_url.rstrip("/")

    @property
    def oidc_redirect_uri(self) -> str:
        """The one redirect URI registered with the provider."""
        return f"{self.issuer}/login/oidc/callback"

    def with_database(
        self,
        database_url: str,
        migration_database_url: str | None = None,
        stores: Mapping[str, str] | None = None,
        migration_stores: Mapping[str, str] | None = None,
    ) -> Settings:
        """A copy pointing at concrete databases (used once the embedded server is up)."""
        return replace(
            self,
            database_url=Secret(database_url),
            migration_database_url=Secret(migration_database_url or database_url),
            stores={k: Secret(v) for k, v in (stores or {}).items()},
            migration_stores={k: Secret(v) for k, v in (migration_stores or {}).items()},
        )

    def require_production(self) -> None:
        """Refuse to serve in production without what production needs.

        Raises ConfigurationError naming every missing or unsafe setting at once, so an operator
        fixes them in one go rather than one restart at a time.
        """
        problems: list[str] = []
        if self.database_url is None:
            problems.append("GATEWAY_DATABASE_URL is required (the application role's URL)")
        if not self.master_keys:
            problems.append(
                "GATEWAY_MASTER_KEY is required (kid:base64 of 32 random bytes; "
                "generate one with `gateway keys master-key`)"
            )
        if self.base_url == Settings.base_url:
            problems.append("GATEWAY_BASE_URL is required (the public https:// address)")
        elif not self.base_url.startswith("https://"):
            problems.append("GATEWAY_BASE_URL must be https:// in production")
        if self.oidc is not None and not self.oidc.issuer.startswith("https://"):
            problems.append("GATEWAY_OIDC_ISSUER must be https:// in production")
        if problems:
            raise ConfigurationError(
                "production mode cannot start:\n  - " + "\n  - ".join(problems)
            )


def _secret_map(raw: str, name: str) -> dict[str, Secret]:
    if not raw.strip():
        return {}
    try:
        parsed = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ConfigurationError(
            f'{name} must be a JSON object {{"store": "postgresql://..."}}'
        ) from exc
    if not isinstance(parsed, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in parsed.items()
    ):
        raise ConfigurationError(f"{name} must map store names to URLs")
    if "main" in parsed:
        raise ConfigurationError(f"{name}: 'main' is GATEWAY_DATABASE_URL itself")
    return {k: Secret(v) for k, v in parsed.items()}


def parse_master_keys(raw: str) -> tuple[MasterKey, ...]:
    """Parse `kid:base64key[,kid:base64key...]`; each key must be 32 bytes (AES-256-GCM)."""
    keys: list[MasterKey] = []
    for item in filter(None, (part.strip() for part in raw.split(","))):
        kid, sep, encoded = item.partition(":")
        if not sep or not kid:
            raise ConfigurationError("GATEWAY_MASTER_KEY entries look like kid:base64key")
        try:
            key = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
        except (binascii.Error, ValueError) as exc:
            raise ConfigurationError(f"GATEWAY_MASTER_KEY {kid}: not base64") from exc
        if len(key) != 32:
            raise ConfigurationError(f"GATEWAY_MASTER_KEY {kid}: must decode to 32 bytes")
        keys.append(MasterKey(kid, key))
    if len({k.kid for k in keys}) != len(keys):
        raise ConfigurationError("GATEWAY_MASTER_KEY: key ids must be unique")
    return tuple(keys)


def parse_forwarded_allow_ips(
    raw: str, name: str = "GATEWAY_FORWARDED_ALLOW_IPS"
) -> tuple[str, ...]:
    """Comma-separated addresses or networks (uvicorn's own syntax, without its `*`)."""
    found: list[str] = []
    for item in filter(None, (part.strip() for part in raw.split(","))):
        if item == "*":
            raise ConfigurationError(
                f"{name}: '*' would trust a forged X-Forwarded-For from anyone; "
                "name the TLS proxy's address or network"
            )
        try:
            ipaddress.ip_network(item, strict=False)
        except ValueError as exc:
            raise ConfigurationError(f"{name}: {item!r} is not an address or network") from exc
        found.append(item)
    return tuple(found)


_OIDC_NAMES = (
    "GATEWAY_OIDC_ISSUER",
    "GATEWAY_OIDC_CLIENT_ID",
    "GATEWAY_OIDC_CLIENT_SECRET",
    "GATEWAY_OIDC_PRIVATE_KEY_FILE",
)


def _oidc(get: Callable[[str, str], str]) -> OidcSettings | None:
    """GATEWAY_OIDC_*: None when no issuer is set (and nothing else OIDC is)."""
    issuer = get("GATEWAY_OIDC_ISSUER", "").strip().rstrip("/")
    if not issuer:
        stray = [name for name in _OIDC_NAMES[1:] if get(name, "")]
        if stray:
            raise ConfigurationError(f"{', '.join(stray)} set but GATEWAY_OIDC_ISSUER is not")
        return None
    parts = urlsplit(issuer)
    if parts.scheme not in {"http", "https"} or not parts.netloc or parts.query or parts.fragment:
        raise ConfigurationError("GATEWAY_OIDC_ISSUER must be the provider's https:// issuer URL")
    client_id = get("GATEWAY_OIDC_CLIENT_ID", "").strip()
    if not client_id:
        raise ConfigurationError("GATEWAY_OIDC_CLIENT_ID is required with GATEWAY_OIDC_ISSUER")
    secret = get("GATEWAY_OIDC_CLIENT_SECRET", "")
    key_file = get("GATEWAY_OIDC_PRIVATE_KEY_FILE", "")
    if bool(secret) == bool(key_file):
        raise ConfigurationError(
            "set one of GATEWAY_OIDC_CLIENT_SECRET (client_secret_basic) or "
            "GATEWAY_OIDC_PRIVATE_KEY_FILE (private_key_jwt)"
        )
    private_key = None
    if key_file:
        try:
            private_key = Secret(Path(key_file).read_text())
        except OSError as exc:
            raise ConfigurationError(
                f"GATEWAY_OIDC_PRIVATE_KEY_FILE: cannot read {key_file}"
            ) from exc
    scopes = tuple(get("GATEWAY_OIDC_SCOPES", "openid email profile").split())
    if "openid" not in scopes:
        raise ConfigurationError("GATEWAY_OIDC_SCOPES must include openid")
    district_group = get("GATEWAY_OIDC_DISTRICT_GROUP", OidcSettings.district_group).strip()
    if district_group.count("{lea}") != 1 or district_group.replace("{lea}", "", 1).count("{"):
        raise ConfigurationError(
            "GATEWAY_OIDC_DISTRICT_GROUP must contain {lea} once, e.g. etranscripts-{lea}"
        )
    return OidcSettings(
        issuer=issuer,
        client_id=client_id,
        client_secret=Secret(secret) if secret else None,
        private_key=private_key,
        scopes=scopes,
        groups_claim=get("GATEWAY_OIDC_GROUPS_CLAIM", OidcSettings.groups_claim).strip()
        or OidcSettings.groups_claim,
        operator_group=get("GATEWAY_OIDC_OPERATOR_GROUP", OidcSettings.operator_group).strip(),
        district_group=district_group,
        provider_name=get("GATEWAY_OIDC_PROVIDER_NAME", OidcSettings.provider_name).strip()
        or OidcSettings.provider_name,
    )


def _url(raw: str | None, name: str) -> Secret | None:
    if not raw:
        return None
    if urlsplit(raw).scheme not in {"postgres", "postgresql"}:
        raise ConfigurationError(f"{name} must be a postgresql:// URL")
    return Secret(raw)


def load_settings(
    environ: Mapping[str, str] | None = None, env_file: str | Path | None = ".env"
) -> Settings:
    """Read every GATEWAY_* setting once. Raises ConfigurationError on a bad value."""
    source = dict(os.environ if environ is None else environ)
    path = Path(env_file) if env_file is not None else None
    config = Config(env_file=path if path is not None and path.is_file() else None, environ=source)

    def get(name: str, default: str = "") -> str:
        return str(config(name, default=default))

    def number(name: str, default: int, minimum: int = 0) -> int:
        raw = get(name, str(default))
        try:
            value = int(raw)
        except ValueError as exc:
            raise ConfigurationError(f"{name} must be an integer, got {raw!r}") from exc
        if value < minimum:
            raise ConfigurationError(f"{name} must be at least {minimum}")
        return value

    def optional_port(name: str) -> int | None:
        """A TCP port, or None when unset or empty (the listener is off)."""
        if not get(name).strip():
            return None
        port = number(name, 0, 1)
        if port > 65535:
            raise ConfigurationError(f"{name} must be a TCP port (1-65535)")
        return port

    def flag(name: str, default: bool) -> bool:
        raw = get(name, "1" if default else "0").strip().lower()
        if raw in {"1", "true", "yes", "on"}:
            return True
        if raw in {"0", "false", "no", "off", ""}:
            return False
        raise ConfigurationError(f"{name} must be true or false, got {raw!r}")

    env = get("GATEWAY_ENV", "dev")
    if env not in ("dev", "test", "production"):
        raise ConfigurationError("GATEWAY_ENV must be dev, test or production")
    log_format = get("GATEWAY_LOG_FORMAT", "json")
    if log_format not in ("json", "console"):
        raise ConfigurationError("GATEWAY_LOG_FORMAT must be json or console")
    base_url = get("GATEWAY_BASE_URL", Settings.base_url).rstrip("/")
    if urlsplit(base_url).scheme not in {"http", "https"} or not urlsplit(base_url).netloc:
        raise ConfigurationError("GATEWAY_BASE_URL must be an http(s):// URL")
    pesc_default = str(Settings.pesc_dir)
    token_rate = get("GATEWAY_TOKEN_RATE_PER_SECOND", str(Settings.token_rate_per_second))
    try:
        token_rate_value = float(token_rate)
    except ValueError as exc:
        raise ConfigurationError("GATEWAY_TOKEN_RATE_PER_SECOND must be a number") from exc

    oidc = _oidc(get)
    local_login = flag("GATEWAY_LOCAL_LOGIN", True)
    if not local_login and oidc is None:
        raise ConfigurationError(
            "GATEWAY_LOCAL_LOGIN=off needs GATEWAY_OIDC_ISSUER: otherwise nobody can sign in"
        )

    return Settings(
        env=env,  # type: ignore[arg-type]
        database_url=_url(get("GATEWAY_DATABASE_URL"), "GATEWAY_DATABASE_URL"),
        migration_database_url=_url(
            get("GATEWAY_MIGRATION_DATABASE_URL"), "GATEWAY_MIGRATION_DATABASE_URL"
        )
        or _url(get("GATEWAY_DATABASE_URL"), "GATEWAY_DATABASE_URL"),
        stores=_secret_map(get("GATEWAY_STORES"), "GATEWAY_STORES"),
        migration_stores=_secret_map(get("GATEWAY_MIGRATION_STORES"), "GATEWAY_MIGRATION_STORES"),
        base_url=base_url,
        base_url_configured=bool(get("GATEWAY_BASE_URL").strip()),
        home=Path(get("GATEWAY_HOME", ".gateway")),
        master_keys=parse_master_keys(get("GATEWAY_MASTER_KEY")),
        log_level=get("GATEWAY_LOG_LEVEL", "INFO").upper(),
        log_format=log_format,  # type: ignore[arg-type]
        host=get("GATEWAY_HOST", "127.0.0.1"),
        # uvicorn's own variable is honoured too, so an operator who knows uvicorn is not
        # surprised; ours wins when both are set.
        forwarded_allow_ips=parse_forwarded_allow_ips(
            get("GATEWAY_FORWARDED_ALLOW_IPS") or get("FORWARDED_ALLOW_IPS"),
            "GATEWAY_FORWARDED_ALLOW_IPS"
            if get("GATEWAY_FORWARDED_ALLOW_IPS")
            else "FORWARDED_ALLOW_IPS",
        ),
        port=number("GATEWAY_PORT", 8000, 1),
        workers=number("GATEWAY_WORKERS", 1, 1),
        pool_min_size=number("GATEWAY_POOL_MIN_SIZE", 2, 0),
        pool_max_size=number("GATEWAY_POOL_MAX_SIZE", 10, 1),
        pool_acquire_timeout_seconds=number("GATEWAY_POOL_ACQUIRE_TIMEOUT_SECONDS", 5, 1),
        shutdown_timeout_seconds=number("GATEWAY_SHUTDOWN_TIMEOUT_SECONDS", 10, 1),
        slow_hash_concurrency=number("GATEWAY_SLOW_HASH_CONCURRENCY", 2, 1),
        slow_hash_queue=number("GATEWAY_SLOW_HASH_QUEUE", 32, 0),
        document_concurrency=number("GATEWAY_DOCUMENT_CONCURRENCY", 2, 1),
        load_concurrency=number("GATEWAY_LOAD_CONCURRENCY", 2, 1),
        load_queue=number("GATEWAY_LOAD_QUEUE", 8, 0),
        max_document_elements=number("GATEWAY_MAX_DOCUMENT_ELEMENTS", 500, 100),
        token_ttl_seconds=number("GATEWAY_TOKEN_TTL_SECONDS", 900, 60),
        max_body_bytes=number("GATEWAY_MAX_BODY_BYTES", 64 * 1024, 1024),
        max_document_bytes=number("GATEWAY_MAX_DOCUMENT_BYTES", 1024 * 1024, 1024),
        pesc_dir=Path(get("GATEWAY_PESC_DIR", pesc_default)),
        validate_pesc=flag("GATEWAY_VALIDATE_PESC", False),
        lockout_threshold=number("GATEWAY_LOCKOUT_THRESHOLD", 5, 1),
        lockout_address_threshold=number("GATEWAY_LOCKOUT_ADDRESS_THRESHOLD", 50, 1),
        lockout_window_seconds=number("GATEWAY_LOCKOUT_WINDOW_SECONDS", 900, 1),
        lockout_seconds=number("GATEWAY_LOCKOUT_SECONDS", 900, 1),
        token_rate_per_second=token_rate_value,
        token_rate_burst=number("GATEWAY_TOKEN_RATE_BURST", 40, 1),
        session_ttl_seconds=number("GATEWAY_SESSION_TTL_SECONDS", 8 * 3600, 60),
        load_errors_days=number("GATEWAY_LOAD_ERRORS_DAYS", 30, 1),
        oidc=oidc,
        local_login=local_login,
        bench_routes=flag("GATEWAY_BENCH_ROUTES", False),
        tracing=bool(
            get("OTEL_EXPORTER_OTLP_ENDPOINT") or get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
        )
        and get("OTEL_SDK_DISABLED").strip().lower() != "true"
        and get("OTEL_TRACES_EXPORTER", "otlp").strip().lower() != "none",
        metrics_multiproc_dir=get("PROMETHEUS_MULTIPROC_DIR") or None,
        metrics_port=optional_port("GATEWAY_METRICS_PORT"),
        metrics_host=get("GATEWAY_METRICS_HOST", "127.0.0.1").strip() or "127.0.0.1",
        worker_metrics_port=optional_port("GATEWAY_WORKER_METRICS_PORT"),
        metrics_token=Secret(get("GATEWAY_METRICS_TOKEN"))
        if get("GATEWAY_METRICS_TOKEN")
        else None,
    )
