"""A real OpenID provider on loopback: node's `oidc-provider` (tests/oidc/provider/provider.mjs).

    provider = OpenIdProvider.start(tmp_path, clients=[...], accounts={...})
    provider.issuer                     # http://127.0.0.1:PORT
    provider.rotate()                   # new signing key (the old one is retired)
    provider.sign(claims)               # a JWT signed with the provider's current key
    provider.stop()

`scripts/install` runs `npm ci` in tests/oidc/provider (its node_modules is git-ignored). The
provider's signing keys are made here, so that tests can also craft tokens with them (tampered,
expired, wrong audience) that only the validator, not the provider, would ever see.
"""

from __future__ import annotations

import json
import secrets
import shutil
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

HERE = Path(__file__).resolve().parent / "provider"
LAUNCHER = HERE / "provider.mjs"
START_TIMEOUT = 60.0


def missing_provider() -> str | None:
    """What is missing to run the provider, as a message that says how to fix it."""
    if shutil.which("node") is None:
        return "node is missing: apt-get install nodejs npm (the test IdP is node's oidc-provider)"
    if not (HERE / "node_modules" / "oidc-provider").is_dir():
        return f"oidc-provider is not installed: run scripts/install (npm ci in {HERE})"
    return None


def new_key(kid: str | None = None) -> RSAKey:
    return RSAKey.generate_key(
        2048,
        parameters={"kid": kid or secrets.token_hex(6), "use": "sig", "alg": "RS256"},
        private=True,
    )


@dataclass
class OpenIdProvider:
    process: subprocess.Popen[str]
    issuer: str
    admin_token: str
    keys: list[RSAKey]
    reader: threading.Thread
    log: list[str] = field(default_factory=list)

    @classmethod
    def start(
        cls,
        workdir: Path,
        *,
        clients: list[dict[str, Any]],
        accounts: dict[str, dict[str, Any]],
        id_token_ttl: int = 3600,
        userinfo_only_claims: bool = False,
    ) -> OpenIdProvider:
        missing = missing_provider()
        if missing:
            raise RuntimeError(missing)
        key = new_key()
        admin_token = secrets.token_urlsafe(16)
        config = {
            "clients": clients,
            "accounts": accounts,
            "jwks": KeySet([key]).as_dict(private=True),
            "cookie_keys": [secrets.token_urlsafe(24)],
            "admin_token": admin_token,
            "id_token_ttl": id_token_ttl,
            "userinfo_only_claims": userinfo_only_claims,
        }
        path = workdir / "oidc-provider.json"
        path.write_text(json.dumps(config))
        process = subprocess.Popen(
            ["node", str(LAUNCHER), str(path)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            cwd=HERE,
        )
        assert process.stdout is not None
        found: dict[str, str] = {}
        log: list[str] = []

        def read() -> None:
            assert process.stdout is not None
            for line in process.stdout:
                log.append(line.rstrip())
                if not found and line.startswith('{"issuer"'):
                    found.update(json.loads(line))

        reader = threading.Thread(target=read, name="oidc-provider-log", daemon=True)
        reader.start()
        deadline = time.monotonic() + START_TIMEOUT
        while not found:
            if process.poll() is not None:
                reader.join(5)
                raise RuntimeError("oidc-provider stopped while starting:\n" + "\n".join(log))
            if time.monotonic() > deadline:
                process.kill()
                raise RuntimeError("oidc-provider did not start:\n" + "\n".join(log))
            time.sleep(0.05)
        return cls(process, found["issuer"], admin_token, [key], reader, log)

    @property
    def key(self) -> RSAKey:
        """The key the provider signs with now."""
        return self.keys[0]

    def _admin(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.admin_token}"}

    async def rotate(self, *, keep_old: bool = False) -> RSAKey:
        """Sign with a new key from now on; the old one leaves the JWKS unless `keep_old`."""
        fresh = new_key()
        self.keys = [fresh, *self.keys] if keep_old else [fresh]
        async with httpx.AsyncClient() as client:
            answer = await client.post(
                f"{self.issuer}/_test/jwks",
                json=KeySet(self.keys).as_dict(private=True),
                headers=self._admin(),
            )
        assert answer.status_code == 204, answer.text
        return fresh

    async def events(self) -> list[dict[str, Any]]:
        async with httpx.AsyncClient() as client:
            answer = await client.get(f"{self.issuer}/_test/events", headers=self._admin())
        events: list[dict[str, Any]] = answer.json()
        return events

    def sign(
        self, claims: dict[str, Any], *, key: RSAKey | None = None, typ: str | None = None
    ) -> str:
        """A JWT signed as the provider signs (RS256, its current kid) or with `key`."""
        signer = key or self.key
        header: dict[str, Any] = {"alg": "RS256", "kid": signer.kid}
        if typ:
            header["typ"] = typ
        return jwt.encode(header, claims, signer)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)
        self.reader.join(10)
        if self.process.stdout is not None:
            self.process.stdout.close()
