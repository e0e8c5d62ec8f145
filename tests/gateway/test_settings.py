"""Settings are read once, validated, and never show a secret in their repr."""

from __future__ import annotations

import base64
import re
import secrets
from pathlib import Path

import pytest

from gateway.errors import ConfigurationError
from gateway.settings import load_settings


def key() -> str:
    return "k1:" + base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


def test_defaults_are_the_embedded_dev_setup(tmp_path: Path) -> None:
    settings = load_settings({}, env_file=None)
    assert settings.env == "dev"
    assert settings.embedded
    assert settings.base_url == "http://127.0.0.1:8000"
    assert settings.token_ttl_seconds == 900


def test_metrics_listeners_are_off_until_a_port_is_set_and_bind_loopback() -> None:
    default = load_settings({}, env_file=None)
    assert (default.metrics_port, default.worker_metrics_port) == (None, None)
    assert default.metrics_host == "127.0.0.1"
    chosen = load_settings(
        {"GATEWAY_METRICS_PORT": "9100", "GATEWAY_WORKER_METRICS_PORT": "9101"}, env_file=None
    )
    assert (chosen.metrics_port, chosen.worker_metrics_port) == (9100, 9101)
    assert chosen.metrics_host == "127.0.0.1"


def test_secrets_are_masked_in_repr() -> None:
    url = "postgresql://gateway_app:hunter2-very-secret@db.example/gateway"
    master = key()
    settings = load_settings(
        {"GATEWAY_DATABASE_URL": url, "GATEWAY_MASTER_KEY": master}, env_file=None
    )
    text = repr(settings)
    assert "hunter2" not in text
    assert master.split(":", 1)[1] not in text
    assert str(settings.database_url) == url


def test_env_file_is_read_and_environment_wins(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("GATEWAY_BASE_URL=https://from-file.example\nGATEWAY_LOG_LEVEL=debug\n")
    settings = load_settings({"GATEWAY_LOG_LEVEL": "WARNING"}, env_file=env_file)
    assert settings.base_url == "https://from-file.example"
    assert settings.log_level == "WARNING"


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("GATEWAY_DATABASE_URL", "mysql://x", "postgresql://"),
        ("GATEWAY_PORT", "eighty", "integer"),
        ("GATEWAY_MASTER_KEY", "nokid", "kid:base64key"),
        ("GATEWAY_MASTER_KEY", "k1:" + base64.urlsafe_b64encode(b"short").decode(), "32 bytes"),
        ("GATEWAY_STORES", "east=postgresql://x", "JSON object"),
        ("GATEWAY_ENV", "staging", "dev, test or production"),
        ("GATEWAY_VALIDATE_PESC", "maybe", "true or false"),
        ("GATEWAY_METRICS_PORT", "70000", "TCP port"),
        ("GATEWAY_WORKER_METRICS_PORT", "0", "at least 1"),
    ],
)
def test_bad_values_fail_with_a_clear_message(name: str, value: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        load_settings({name: value}, env_file=None)


def test_production_names_everything_missing_at_once() -> None:
    settings = load_settings({"GATEWAY_ENV": "production"}, env_file=None)
    with pytest.raises(ConfigurationError) as caught:
        settings.require_production()
    text = str(caught.value)
    for needed in ("GATEWAY_DATABASE_URL", "GATEWAY_MASTER_KEY", "GATEWAY_BASE_URL"):
        assert needed in text


def test_production_requires_https() -> None:
    settings = load_settings(
        {
            "GATEWAY_ENV": "production",
            "GATEWAY_DATABASE_URL": "postgresql://app@db/gateway",
            "GATEWAY_MASTER_KEY": key(),
            "GATEWAY_BASE_URL": "http://gateway.example",
        },
        env_file=None,
    )
    with pytest.raises(ConfigurationError, match="https"):
        settings.require_production()
    ok = load_settings(
        {
            "GATEWAY_ENV": "production",
            "GATEWAY_DATABASE_URL": "postgresql://app@db/gateway",
            "GATEWAY_MASTER_KEY": key(),
            "GATEWAY_BASE_URL": "https://gateway.example",
        },
        env_file=None,
    )
    ok.require_production()
    assert ok.cookie_secure


def test_stores_parse_from_json() -> None:
    settings = load_settings(
        {"GATEWAY_STORES": '{"east": "postgresql://app@east/gateway"}'}, env_file=None
    )
    assert str(settings.stores["east"]) == "postgresql://app@east/gateway"
    with pytest.raises(ConfigurationError, match="main"):
        load_settings({"GATEWAY_STORES": '{"main": "postgresql://x/y"}'}, env_file=None)


# --- staff sign-in through the state's OpenID provider ---------------------------------------

OIDC = {
    "GATEWAY_OIDC_ISSUER": "https://login.ncid.example.gov/",
    "GATEWAY_OIDC_CLIENT_ID": "etranscript-gateway",
    "GATEWAY_OIDC_CLIENT_SECRET": "oidc-client-secret-value-1234",
}


def test_no_issuer_means_local_accounts_only() -> None:
    settings = load_settings({}, env_file=None)
    assert settings.oidc is None
    assert settings.local_login


def test_oidc_settings_and_their_defaults() -> None:
    settings = load_settings({**OIDC, "GATEWAY_BASE_URL": "https://gw.example.gov"}, None)
    oidc = settings.oidc
    assert oidc is not None
    assert oidc.issuer == "https://login.ncid.example.gov"
    assert oidc.metadata_url == "https://login.ncid.example.gov/.well-known/openid-configuration"
    assert oidc.scopes == ("openid", "email", "profile")
    assert (oidc.groups_claim, oidc.operator_group, oidc.district_group) == (
        "groups",
        "etranscripts-operators",
        "etranscripts-{lea}",
    )
    assert settings.oidc_redirect_uri == "https://gw.example.gov/login/oidc/callback"
    assert "oidc-client-secret-value" not in repr(settings)


def test_private_key_jwt_reads_the_key_file(tmp_path: Path) -> None:
    key_file = tmp_path / "rp.pem"
    key_file.write_text("-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----\n")
    environ = {**OIDC, "GATEWAY_OIDC_PRIVATE_KEY_FILE": str(key_file)}
    del environ["GATEWAY_OIDC_CLIENT_SECRET"]
    oidc = load_settings(environ, env_file=None).oidc
    assert oidc is not None and oidc.client_secret is None
    assert "BEGIN PRIVATE KEY" in str(oidc.private_key)
    assert "BEGIN" not in repr(oidc)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"GATEWAY_OIDC_ISSUER": ""}, "GATEWAY_OIDC_ISSUER is not"),
        ({"GATEWAY_OIDC_ISSUER": "login.ncid.example.gov"}, "https:// issuer URL"),
        ({"GATEWAY_OIDC_CLIENT_ID": ""}, "GATEWAY_OIDC_CLIENT_ID is required"),
        ({"GATEWAY_OIDC_CLIENT_SECRET": ""}, "set one of"),
        ({"GATEWAY_OIDC_PRIVATE_KEY_FILE": "/nonexistent"}, "set one of"),
        ({"GATEWAY_OIDC_SCOPES": "email profile"}, "must include openid"),
        ({"GATEWAY_OIDC_DISTRICT_GROUP": "etranscripts-staff"}, "contain {lea} once"),
        ({"GATEWAY_OIDC_DISTRICT_GROUP": "{lea}-{lea}"}, "contain {lea} once"),
        ({"GATEWAY_LOCAL_LOGIN": "sometimes"}, "true or false"),
    ],
)
def test_bad_oidc_settings_fail_with_a_clear_message(changes: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigurationError, match=re.escape(message)):
        load_settings({**OIDC, **changes}, env_file=None)


def test_local_login_off_needs_a_provider() -> None:
    with pytest.raises(ConfigurationError, match="nobody can sign in"):
        load_settings({"GATEWAY_LOCAL_LOGIN": "off"}, env_file=None)
    assert not load_settings({**OIDC, "GATEWAY_LOCAL_LOGIN": "off"}, env_file=None).local_login


def test_production_needs_an_https_issuer() -> None:
    settings = load_settings(
        {
            **OIDC,
            "GATEWAY_OIDC_ISSUER": "http://login.ncid.example.gov",
            "GATEWAY_ENV": "production",
        },
        env_file=None,
    )
    with pytest.raises(ConfigurationError, match="GATEWAY_OIDC_ISSUER must be https"):
        settings.require_production()
