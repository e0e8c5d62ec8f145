"""OAuth 2.0 for consumers: client credentials (RFC 6749 §4.4), JWT access tokens (RFC 9068),
metadata (RFC 8414), revocation (RFC 7009), introspection (RFC 7662), bearer checks (RFC 6750).

authlib's server classes are synchronous and framework-bound, so the token endpoint is a small
asyncio adapter here; joserfc does the JOSE work (keys, JWS/JWT)."""
