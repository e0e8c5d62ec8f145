-- State that must hold across every worker and host, kept where they all meet: the control
-- database. With N uvicorn workers (or N replicas) an in-memory token bucket allows N times
-- the configured rate, and a connection test started on one worker shows "Not tested" on the
-- others.

-- Token buckets (the token endpoint's per-client rate limit). One row per key; the refill is
-- computed in the UPDATE itself, so concurrent takes from different workers serialise on the
-- row lock and can never both spend the last token.
CREATE TABLE rate_buckets (
    scope       text             NOT NULL CHECK (length(scope) BETWEEN 1 AND 40),
    key         text             NOT NULL CHECK (length(key) BETWEEN 1 AND 300),
    tokens      double precision NOT NULL,
    -- Whether the last take was granted: what the caller reads back from the same statement.
    granted     boolean          NOT NULL,
    refilled_at timestamptz      NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (scope, key)
);
CREATE INDEX rate_buckets_refilled ON rate_buckets (refilled_at);
GRANT SELECT, INSERT, UPDATE, DELETE ON rate_buckets TO gateway_app;

-- A running connection test, claimed on the connection's row by whichever worker starts it;
-- every worker then answers "running" for it. A claim older than a test can last (about 20 s)
-- is stale (its worker died) and may be taken over.
ALTER TABLE outgoing_connections ADD COLUMN test_started_at timestamptz;
