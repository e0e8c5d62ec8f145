-- Every load of a district's data (`gateway data load`, the admin API, the console): who asked,
-- when, from which source (its SHA-256), what it counted and how it ended. The audit log gets
-- a `district.load` event as well; this table holds the detail a console page shows (the
-- first errors, the counts) and the status an API client polls.
CREATE TABLE district_loads (
    load_id        uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    district_id    integer     NOT NULL REFERENCES districts (district_id),
    requested_by   text        NOT NULL CHECK (length(requested_by) BETWEEN 1 AND 300),
    requested_at   timestamptz NOT NULL DEFAULT now(),
    finished_at    timestamptz,
    source_name    text        NOT NULL CHECK (length(source_name) BETWEEN 1 AND 300),
    source_sha256  text        CHECK (source_sha256 ~ '^[0-9a-f]{64}$'),
    source_bytes   bigint      CHECK (source_bytes >= 0),
    format         text        CHECK (format IN ('csv', 'pesc')),
    mode           text        NOT NULL CHECK (mode IN ('snapshot', 'merge')),
    dry_run        boolean     NOT NULL DEFAULT false,
    -- running: being validated or applied. succeeded: applied. validated: a dry run found no
    -- error. unchanged: the same source as the data already loaded (nothing written).
    -- rejected: invalid input (nothing written). failed: the load broke off (nothing written).
    status         text        NOT NULL DEFAULT 'running' CHECK (status IN
                       ('running', 'succeeded', 'validated', 'unchanged', 'rejected', 'failed')),
    counts         jsonb       NOT NULL DEFAULT '{}',
    error_count    integer     NOT NULL DEFAULT 0 CHECK (error_count >= 0),
    errors         jsonb       NOT NULL DEFAULT '[]',
    message        text,
    CHECK ((status = 'running') = (finished_at IS NULL))
);
CREATE INDEX district_loads_recent ON district_loads (district_id, requested_at DESC);

GRANT SELECT, INSERT, UPDATE ON district_loads TO gateway_app;
