# The gateway image: `gateway serve` by default; the same image runs `gateway migrate` and
# `gateway worker`. PESC schemas are not baked in: mount them and set GATEWAY_PESC_DIR if
# GATEWAY_VALIDATE_PESC is on or TranscriptRequests should be schema-checked.
#
# Two stages: the first resolves nothing (requirements/runtime.lock, every file hash-checked)
# and builds the venv; the second copies only that venv, so no compiler, pip cache, test or dev
# package reaches the running image. The base is pinned by digest (a tag can be moved under
# us); refresh it with `docker buildx imagetools inspect python:3.11-slim`.
ARG PYTHON_IMAGE=python:3.11-slim@sha256:9c900dea9e8fb7e16277c179b555cc72d29a352dbc33cff48ad5a0412fd5bfc7

FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/gateway && /opt/gateway/bin/pip install --upgrade 'pip>=24.2'
WORKDIR /src
COPY requirements/runtime.lock requirements/runtime.lock
RUN /opt/gateway/bin/pip install --require-hashes -r requirements/runtime.lock
COPY pyproject.toml README.md ./
COPY gateway ./gateway
COPY tenants ./tenants
COPY sql ./sql
RUN /opt/gateway/bin/pip install --no-deps . && /opt/gateway/bin/pip uninstall --yes pip

FROM ${PYTHON_IMAGE}
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PATH=/opt/gateway/bin:$PATH
COPY --from=build /opt/gateway /opt/gateway
RUN groupadd --system --gid 10001 gateway \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent gateway
# Numeric, so that a runtime that refuses root (runAsNonRoot) can check it without /etc/passwd.
USER 10001:10001
WORKDIR /tmp
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --retries=5 \
  CMD ["python", "-c", "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/readyz', timeout=2).status == 200 else 1)"]
# 0.0.0.0 inside the container, reached only by the TLS proxy on the compose network (no port
# of the gateway is published); outside a container `gateway serve` binds 127.0.0.1.
CMD ["gateway", "serve", "--host", "0.0.0.0", "--workers", "2"]
