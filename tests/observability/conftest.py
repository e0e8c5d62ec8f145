"""The observability tests use the OAuth tests' credential fixture."""

from tests.oauth.conftest import pair

__all__ = ["pair"]
