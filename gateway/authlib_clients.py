"""authlib's Starlette OAuth client, imported without its warning about httpx.

authlib 1.9 warns at import that it would rather run on the `httpx2` fork, and installs an
"always" filter for its warnings first, so no filter of ours could hide it later. The stack is
httpx (pyproject.toml), on which authlib still runs; the warning is silenced here, once.
"""

from __future__ import annotations

import warnings

with warnings.catch_warnings():
    import authlib.deprecate

    warnings.simplefilter("ignore", authlib.deprecate.AuthlibDeprecationWarning)
    from authlib.integrations.httpx_client import AsyncOAuth2Client
    from authlib.integrations.starlette_client import OAuth, OAuthError
    from authlib.oauth2.rfc7523 import PrivateKeyJWT

__all__ = ["AsyncOAuth2Client", "OAuth", "OAuthError", "PrivateKeyJWT"]
