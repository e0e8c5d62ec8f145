"""Staff sign-in through the state's OpenID provider (OpenID Connect Core 1.0).

    roles.py         claims → a role and a district, or why not (pure)
    provider.py      the relying party: discovery, JWKS, authorization code + PKCE, ID token
                     checks (authlib's Starlette client)
    flows.py         sign-ins under way, kept in Postgres so any worker can finish them
    logout_token.py  Back-Channel Logout 1.0 §2.6: is this logout token the provider's?

The web routes that use them are in `gateway.web.oidc`; the accounts in
`gateway.control.users` and the sessions in `gateway.web.sessions`, as for local accounts.
"""
