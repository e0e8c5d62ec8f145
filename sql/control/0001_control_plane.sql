-- Control plane: who the districts are, who may ask for their transcripts, with which
-- credentials, and what the operators did. Lives in the main database only.
--
-- The application role (gateway_app) reads all of it and writes only what the running gateway
-- must write; the audit log is append-only for it.

-- Every change that a worker caches in memory is announced on one channel, so that
-- revocations and suspensions reach every worker within milliseconds (LISTEN/NOTIFY).
CREATE FUNCTION gateway_notify_change() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    row_data jsonb := to_jsonb(COALESCE(NEW, OLD));
BEGIN
    PERFORM pg_notify(
        'gateway_control',
        json_build_object('table', TG_TABLE_NAME, 'key', row_data ->> TG_ARGV[0])::text
    );
    RETURN NULL;
END
$$;

CREATE TABLE districts (
    district_id  integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- NC LEA codes are three characters: 920 (Wake County), 92F (a charter school).
    lea_code     text        NOT NULL UNIQUE CHECK (lea_code ~ '^[0-9A-Z]{3,10}$'),
    name         text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    kind         text        NOT NULL DEFAULT 'lea' CHECK (kind IN ('lea', 'charter')),
    status       text        NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended')),
    -- Which data store holds this district's records ('main' = this database).
    store        text        NOT NULL DEFAULT 'main' CHECK (store ~ '^[a-z][a-z0-9_]{0,62}$'),
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE TRIGGER districts_notify AFTER INSERT OR UPDATE OR DELETE ON districts
    FOR EACH ROW EXECUTE FUNCTION gateway_notify_change('district_id');

CREATE TABLE consumers (
    consumer_id  uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    name         text        NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 200),
    description  text        NOT NULL DEFAULT '',
    status       text        NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE TRIGGER consumers_notify AFTER INSERT OR UPDATE OR DELETE ON consumers
    FOR EACH ROW EXECUTE FUNCTION gateway_notify_change('consumer_id');

-- A key/secret pair. A consumer credential belongs to exactly one district (the NC model);
-- an operator credential belongs to no district and carries the admin scope.
CREATE TABLE credentials (
    credential_id uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    client_id     text        NOT NULL UNIQUE CHECK (client_id ~ '^[A-Za-z0-9._~-]{8,128}$'),
    kind          text        NOT NULL DEFAULT 'consumer' CHECK (kind IN ('consumer', 'operator')),
    district_id   integer     REFERENCES districts (district_id),
    consumer_id   uuid        REFERENCES consumers (consumer_id),
    label         text        NOT NULL CHECK (length(label) BETWEEN 1 AND 200),
    scopes        text[]      NOT NULL,
    status        text        NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'revoked')),
    imported      boolean     NOT NULL DEFAULT false,
    weak_secret   boolean     NOT NULL DEFAULT false,
    expires_at    timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    created_by    text        NOT NULL,
    revoked_at    timestamptz,
    revoked_by    text,
    CHECK ((kind = 'consumer') = (district_id IS NOT NULL AND consumer_id IS NOT NULL)),
    CHECK ((status = 'revoked') = (revoked_at IS NOT NULL))
);
CREATE INDEX credentials_district ON credentials (district_id);
CREATE TRIGGER credentials_notify AFTER INSERT OR UPDATE OR DELETE ON credentials
    FOR EACH ROW EXECUTE FUNCTION gateway_notify_change('client_id');

-- When each credential last got a token. Kept apart from `credentials` so that these frequent
-- writes do not wake every worker's credential cache through the change trigger.
CREATE TABLE credential_usage (
    credential_id uuid        PRIMARY KEY REFERENCES credentials (credential_id) ON DELETE CASCADE,
    last_used_at  timestamptz NOT NULL,
    tokens_issued bigint      NOT NULL DEFAULT 0
);

-- Secrets of a credential: only hashes. Rotation sets expires_at on the old secret (the
-- overlap) and adds a new one; authentication accepts any secret not yet expired.
-- sha256: generated secrets (>= 256 bits of randomness: a fast hash is enough);
-- argon2id: imported secrets of unknown strength (a slow hash resists guessing).
CREATE TABLE credential_secrets (
    secret_id     uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    credential_id uuid        NOT NULL REFERENCES credentials (credential_id) ON DELETE CASCADE,
    hash_kind     text        NOT NULL CHECK (hash_kind IN ('sha256', 'argon2id')),
    secret_hash   text        NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz
);
CREATE INDEX credential_secrets_credential ON credential_secrets (credential_id);
CREATE TRIGGER credential_secrets_notify AFTER INSERT OR UPDATE OR DELETE ON credential_secrets
    FOR EACH ROW EXECUTE FUNCTION gateway_notify_change('credential_id');

-- Token signing keys. The private key is encrypted with the master key (AES-256-GCM) under
-- master_kid; the public JWK is published until publish_until, after the key stops signing.
CREATE TABLE signing_keys (
    kid             text        PRIMARY KEY,
    alg             text        NOT NULL CHECK (alg IN ('EdDSA', 'ES256')),
    public_jwk      jsonb       NOT NULL,
    private_key_enc bytea       NOT NULL,
    master_kid      text        NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    retired_at      timestamptz,
    publish_until   timestamptz
);
-- At most one key signs at a time.
CREATE UNIQUE INDEX signing_keys_one_active ON signing_keys ((true)) WHERE retired_at IS NULL;
CREATE TRIGGER signing_keys_notify AFTER INSERT OR UPDATE OR DELETE ON signing_keys
    FOR EACH ROW EXECUTE FUNCTION gateway_notify_change('kid');

-- Access tokens revoked before they expire (RFC 7009). Rows past expires_at can be purged.
CREATE TABLE revoked_tokens (
    jti         text        PRIMARY KEY,
    client_id   text        NOT NULL,
    expires_at  timestamptz NOT NULL,
    revoked_at  timestamptz NOT NULL DEFAULT now()
);
CREATE TRIGGER revoked_tokens_notify AFTER INSERT ON revoked_tokens
    FOR EACH ROW EXECUTE FUNCTION gateway_notify_change('jti');

-- Failed authentication counters shared by every worker, for lockout.
-- scope: 'client_addr' (client id + source address), 'addr' (source address),
--        'login_addr' (web email + address), 'login_email'.
CREATE TABLE auth_failures (
    scope            text        NOT NULL,
    key              text        NOT NULL,
    failures         integer     NOT NULL DEFAULT 0,
    window_started   timestamptz NOT NULL DEFAULT now(),
    locked_until     timestamptz,
    PRIMARY KEY (scope, key)
);
CREATE INDEX auth_failures_window ON auth_failures (window_started);

-- A lock taken on one worker is known to every worker at once.
CREATE FUNCTION gateway_notify_lock() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.locked_until IS DISTINCT FROM (CASE WHEN TG_OP = 'UPDATE' THEN OLD.locked_until END) THEN
        PERFORM pg_notify('gateway_control', json_build_object(
            'table', 'auth_failures', 'key', NEW.scope || '|' || NEW.key)::text);
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER auth_failures_notify AFTER INSERT OR UPDATE ON auth_failures
    FOR EACH ROW EXECUTE FUNCTION gateway_notify_lock();

-- Outgoing connections to transcript vendors. Secrets the gateway must send on are encrypted
-- (AES-256-GCM under the master key named by secret_kid), never hashed.
CREATE TABLE outgoing_connections (
    connection_id        uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    district_id          integer     NOT NULL REFERENCES districts (district_id),
    name                 text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    auth_server          text        NOT NULL,
    auth_path            text        NOT NULL,
    upload_server        text        NOT NULL,
    upload_port          integer     NOT NULL CHECK (upload_port BETWEEN 1 AND 65535),
    upload_path          text        NOT NULL,
    consumer_key         text        NOT NULL,
    consumer_secret_enc  bytea       NOT NULL,
    username             text        NOT NULL CHECK (length(username) BETWEEN 1 AND 100),
    password_enc         bytea       NOT NULL,
    grant_type           text        NOT NULL DEFAULT 'password'
                                     CHECK (grant_type IN ('password', 'client_credentials')),
    last_test_at         timestamptz,
    last_test_ok         boolean,
    last_test_message    text,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    UNIQUE (district_id, name)
);

CREATE TABLE web_users (
    user_id        uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    -- Stored lower-cased (the embedded server has no citext), so UNIQUE is case-insensitive.
    email          text        NOT NULL UNIQUE CHECK (email ~ '^[^@\s]+@[^@\s]+$' AND email = lower(email)),
    role           text        NOT NULL CHECK (role IN ('operator', 'district')),
    district_id    integer     REFERENCES districts (district_id),
    password_hash  text,
    status         text        NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
    created_at     timestamptz NOT NULL DEFAULT now(),
    last_login_at  timestamptz,
    CHECK ((role = 'district') = (district_id IS NOT NULL))
);

-- Server-side sessions: the cookie carries a random id; only its hash is stored.
CREATE TABLE web_sessions (
    session_hash  bytea       PRIMARY KEY,
    user_id       uuid        NOT NULL REFERENCES web_users (user_id) ON DELETE CASCADE,
    csrf_token    text        NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_seen_at  timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL,
    source_addr   inet
);
CREATE INDEX web_sessions_user ON web_sessions (user_id);

-- One-time set-password links (`gateway user add --invite`).
CREATE TABLE user_invites (
    token_hash  bytea       PRIMARY KEY,
    user_id     uuid        NOT NULL REFERENCES web_users (user_id) ON DELETE CASCADE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz
);

-- Who did what, when, from where. Never a secret, a token or a student record in `detail`.
CREATE TABLE audit_log (
    audit_id     bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    occurred_at  timestamptz NOT NULL DEFAULT now(),
    actor_type   text        NOT NULL CHECK (actor_type IN
                                 ('operator', 'cli', 'consumer', 'district_user', 'system', 'anonymous')),
    actor        text        NOT NULL,
    action       text        NOT NULL,
    outcome      text        NOT NULL CHECK (outcome IN ('success', 'failure', 'denied')),
    district_id  integer,
    target       text,
    source_addr  inet,
    request_id   text,
    detail       jsonb       NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_time ON audit_log (occurred_at DESC);
CREATE INDEX audit_log_district ON audit_log (district_id, occurred_at DESC);
CREATE INDEX audit_log_action ON audit_log (action, occurred_at DESC);

-- Append-only, whatever the grants say (a trigger also binds the owner role).
CREATE FUNCTION gateway_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION gateway_append_only();

-- Grants: the application role owns nothing and gets only what it needs.
GRANT USAGE ON SCHEMA public TO gateway_app;
GRANT SELECT, INSERT, UPDATE ON districts TO gateway_app;
GRANT SELECT, INSERT, UPDATE ON consumers TO gateway_app;
GRANT SELECT, INSERT, UPDATE ON credentials TO gateway_app;
GRANT SELECT, INSERT, UPDATE ON credential_secrets TO gateway_app;
GRANT SELECT, INSERT, UPDATE ON credential_usage TO gateway_app;
GRANT SELECT, INSERT, UPDATE ON signing_keys TO gateway_app;
GRANT SELECT, INSERT, DELETE ON revoked_tokens TO gateway_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON auth_failures TO gateway_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON outgoing_connections TO gateway_app;
GRANT SELECT, INSERT, UPDATE ON web_users TO gateway_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON web_sessions TO gateway_app;
GRANT SELECT, INSERT, UPDATE ON user_invites TO gateway_app;
GRANT SELECT, INSERT ON audit_log TO gateway_app;
GRANT SELECT ON gateway_schema_migrations TO gateway_app;
