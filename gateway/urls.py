"""The public URLs a consumer is given (the Information to Share), in one place."""

from __future__ import annotations


def token_url(base_url: str) -> str:
    return f"{base_url.rstrip('/')}/oauth2/token"


def etranscripts_url(base_url: str, lea_code: str) -> str:
    return f"{base_url.rstrip('/')}/api/v1/districts/{lea_code}/etranscripts"
