"""Settings are read once, validated, and never show a secret in their repr."""

from __future__ import annotations

import base64
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
