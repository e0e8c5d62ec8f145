"""Runs last (this folder sorts last): no secret or token handled during the whole test run
appeared in any log line."""

from __future__ import annotations

from tests.secrets_seen import SEEN, captured


def test_no_secret_or_token_reached_a_log_line() -> None:
    logs = captured()
    # The check means something only if the run logged real traffic and handled secrets.
    assert '"route": "/oauth2/token"' in logs
    assert len(SEEN) >= 10
    leaked = [value[:12] + "..." for value in SEEN if value in logs]
    assert leaked == [], f"{len(leaked)} secrets or tokens appear in the logs: {leaked}"
    for marker in ("etgs_", "eyJ"):
        assert marker not in logs, f"something shaped like a secret ({marker}) was logged"
