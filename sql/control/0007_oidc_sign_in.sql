-- Staff sign-in through the state's OpenID provider (OpenID Connect Core 1.0).
--
-- An account signed in through the provider is matched by issuer + subject (Core §5.7: `sub`
-- is unique only within an issuer, and an email address may change hands), so the pair is
-- unique. Such an account has no password: local sign-in stays for break-glass accounts only.
-- `display_name` is the provider's `name` claim, refreshed at each sign-in.
ALTER TABLE web_users
    ADD COLUMN oidc_issuer   text CHECK (length(oidc_issuer) BETWEEN 1 AND 500),
    ADD COLUMN oidc_subject  text CHECK (length(oidc_subject) BETWEEN 1 AND 255),
    ADD COLUMN display_name  text CHECK (length(display_name) <= 200),
    ADD CONSTRAINT web_users_oidc_pair CHECK ((oidc_issuer IS NULL) = (oidc_subject IS NULL)),
    ADD CONSTRAINT web_users_oidc_no_password CHECK (oidc_issuer IS NULL OR password_hash IS NULL);
CREATE UNIQUE INDEX web_users_oidc_identity ON web_users (oidc_issuer, oidc_subject)
    WHERE oidc_issuer IS NOT NULL;

-- The provider's session id (`sid`, Front-/Back-Channel Logout 1.0) of a session made by an
-- OIDC sign-in, so that a back-channel logout token naming the sid ends exactly that session.
ALTER TABLE web_sessions
    ADD COLUMN oidc_sid text CHECK (length(oidc_sid) <= 255);
CREATE INDEX web_sessions_oidc_sid ON web_sessions (oidc_sid) WHERE oidc_sid IS NOT NULL;

-- Sign-ins under way: what the callback needs (nonce, PKCE code_verifier, redirect URI) under
-- a hash of the `state` value, sealed with the master key, for ten minutes, used once. In the
-- control database rather than a cookie or one worker's memory: the provider may send the
-- browser back to any worker.
CREATE TABLE oidc_flows (
    flow_hash   bytea       PRIMARY KEY,
    sealed      bytea       NOT NULL,
    expires_at  timestamptz NOT NULL
);
CREATE INDEX oidc_flows_expiry ON oidc_flows (expires_at);

GRANT SELECT, INSERT, UPDATE, DELETE ON oidc_flows TO gateway_app;
