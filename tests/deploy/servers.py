"""Real processes on loopback for the deployment tests: `gateway serve` as the compose file
runs it, and nginx with the compose file's proxy configuration."""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import re
import shutil
import signal
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.cli.conftest import cli_env
from tests.cli.test_dev import free_port
from tests.conftest import REPO, PgDatabase

COMPOSE = yaml.safe_load((REPO / "docker-compose.yml").read_text())
NGINX_TEMPLATE = REPO / "docker" / "nginx" / "gateway.conf.template"


def nginx_binary() -> str | None:
    return shutil.which("nginx") or (
        "/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None
    )


def wait_ready(
    url: str, process: subprocess.Popen[bytes], log: Path, within: float = 90, **client: Any
) -> None:
    """Until `url` answers 200; fails with the log if the process ends or `within` s pass."""
    deadline = time.monotonic() + within
    while True:
        assert process.poll() is None, log.read_text()
        try:
            if httpx.get(url, timeout=2, **client).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, f"{url} did not become ready: {log.read_text()}"
        time.sleep(0.2)


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def compose_gateway(
    database: PgDatabase, proxy_address: str, **overrides: str
) -> tuple[list[str], dict[str, str]]:
    """The compose file's `gateway` service as a command line and environment on loopback:
    its own command and variables, with the databases and key of the test session, loopback
    instead of the container's 0.0.0.0, and the proxy's address as the test runs it."""
    service = COMPOSE["services"]["gateway"]
    compose_proxy = COMPOSE["services"]["proxy"]["networks"]["edge"]["ipv4_address"]
    command = list(service["command"])
    assert command[:2] == ["gateway", "serve"]
    port = free_port()
    host_at = command.index("--host")
    command[host_at + 1] = "127.0.0.1"  # a test listens on loopback only
    env = {k: str(v) for k, v in service["environment"].items()}
    assert env["GATEWAY_FORWARDED_ALLOW_IPS"] == compose_proxy, "trust the proxy alone"
    env["GATEWAY_FORWARDED_ALLOW_IPS"] = proxy_address
    env.update(cli_env(database), GATEWAY_ENV=env["GATEWAY_ENV"], **overrides)
    base = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
    base.pop("FORWARDED_ALLOW_IPS", None)
    args = [sys.executable, "-m", "gateway", *command[1:], "--port", str(port)]
    return args, {**base, **env}


def port_of(args: list[str]) -> int:
    return int(args[args.index("--port") + 1])


@contextmanager
def running(args: list[str], env: Mapping[str, str], log: Path) -> Iterator[str]:
    """Run `gateway serve ...` until the block ends; yields its loopback base URL."""
    out = log.open("wb")
    process = subprocess.Popen(args, env=dict(env), stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port_of(args)}"
    try:
        wait_ready(f"{base}/readyz", process, log)
        yield base
    finally:
        stop(process)
        out.close()


def self_signed(folder: Path) -> Path:
    """cert.pem and key.pem for 127.0.0.1 in `folder` (what the compose file mounts)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return folder / "cert.pem"


def trusting(cert: Path) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(cert))


def render_template(variables: Mapping[str, str]) -> str:
    """What the nginx image's entrypoint does to a template: envsubst of the variables it
    is given, and nothing else (nginx's own $remote_addr and friends stay)."""
    text = NGINX_TEMPLATE.read_text()
    return re.sub(r"\$\{(\w+)\}", lambda m: variables.get(m[1], m[0]), text)


@contextmanager
def nginx(folder: Path, upstream: str) -> Iterator[tuple[str, Path]]:
    """nginx on 127.0.0.1 with the compose file's proxy environment and template; yields
    its https base URL and the certificate to trust."""
    binary = nginx_binary()
    assert binary is not None
    cert = self_signed(folder / "tls")
    port = free_port()
    proxy_env = {k: str(v) for k, v in COMPOSE["services"]["proxy"]["environment"].items()}
    assert proxy_env["GATEWAY_TLS_LISTEN"] == "443"
    proxy_env.update(
        GATEWAY_TLS_LISTEN=f"127.0.0.1:{port}",
        GATEWAY_TLS_DIR=str(folder / "tls"),
        GATEWAY_UPSTREAM=upstream,
    )
    (folder / "gateway.conf").write_text(render_template(proxy_env))
    temp = folder / "temp"
    temp.mkdir()
    temp.chmod(0o777)
    (folder / "nginx.conf").write_text(
        # The http{} frame the image's own nginx.conf gives conf.d; paths inside the test's
        # folder so that nothing of the machine's nginx is touched.
        f"daemon off;\nworker_processes 1;\npid {folder}/nginx.pid;\n"
        f"error_log {folder}/error.log warn;\nevents {{ worker_connections 256; }}\n"
        f"http {{\n  access_log off;\n  client_body_temp_path {temp}/body;\n"
        f"  proxy_temp_path {temp}/proxy;\n  fastcgi_temp_path {temp}/fastcgi;\n"
        f"  uwsgi_temp_path {temp}/uwsgi;\n  scgi_temp_path {temp}/scgi;\n"
        f"  include {folder}/gateway.conf;\n}}\n"
    )
    log = folder / "nginx.out"
    out = log.open("wb")
    process = subprocess.Popen(
        [binary, "-p", str(folder), "-c", str(folder / "nginx.conf")],
        stdout=out,
        stderr=subprocess.STDOUT,
    )
    base = f"https://127.0.0.1:{port}"
    try:
        wait_ready(f"{base}/healthz", process, log, verify=trusting(cert))
        yield base, cert
    finally:
        stop(process)
        out.close()
