# The gateway image: `gateway serve` by default; the same image runs `gateway migrate` and
# `gateway worker`. PESC schemas are not baked in: mount them and set GATEWAY_PESC_DIR if
# GATEWAY_VALIDATE_PESC is on or TranscriptRequests should be schema-checked.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY gateway ./gateway
COPY tenants ./tenants
COPY sql ./sql
RUN pip install . && useradd --system --uid 10001 gateway
USER gateway
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --retries=5 CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/readyz', timeout=2).status == 200 else 1)"
CMD ["gateway", "serve", "--host", "0.0.0.0", "--workers", "2"]
