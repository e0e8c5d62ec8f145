-- Batch releases through outgoing vendor connections: the batches operators queue, and the
-- queue of per-student items that release workers take from (FOR UPDATE SKIP LOCKED).
--
-- Why the control plane and not the district stores: one queue is shared by every worker for
-- every district, and a worker must find the next item without knowing which district it is
-- for. District tables sit behind forced row-level security that shows one district per
-- transaction, and a district may live in a store of its own, so a queue there would need one
-- poller per district and store. These rows hold no student record: a state student id, a
-- status and the vendor's answer, like `audit_log` rows that name a student. The transcript
-- itself is read, and its disclosure row written, in the district's store through the tenant
-- transaction. Both tables carry district_id so that reports filter by district and the
-- district's own pages show only their batches (tests/tenants/test_isolation.py lists them as
-- control tables that name a district).

CREATE TABLE release_batches (
    -- A small number operators can type (`gateway release status 42`); not a secret, and every
    -- page that shows a batch checks its district first.
    batch_id         bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    district_id      integer     NOT NULL REFERENCES districts (district_id),
    -- No ON DELETE: a connection that released a batch cannot be removed (the report names it).
    connection_id    uuid        NOT NULL REFERENCES outgoing_connections (connection_id),
    queued_by        text        NOT NULL CHECK (length(queued_by) BETWEEN 1 AND 200),
    -- {"kind": "students", "count": n} or {"kind": "cohort", "cohort_year": 2025, "count": n}
    selection        jsonb       NOT NULL CHECK (selection ->> 'kind' IN ('students', 'cohort')),
    -- What the disclosure rows record (34 CFR 99.32(a)(3): the legitimate interest).
    purpose          text        NOT NULL CHECK (length(purpose) BETWEEN 1 AND 200),
    legal_basis      text        NOT NULL CHECK (length(legal_basis) BETWEEN 1 AND 200),
    pesc_version     text        NOT NULL DEFAULT '1.3.0'
                                 CHECK (pesc_version IN ('1.3.0', '1.5.0')),
    status           text        NOT NULL DEFAULT 'queued'
                                 CHECK (status IN ('queued', 'running', 'finished')),
    item_count       integer     NOT NULL CHECK (item_count > 0),
    -- Snapshotted when the batch finishes; while it runs, reports count the items.
    delivered_count  integer,
    failed_count     integer,
    created_at       timestamptz NOT NULL DEFAULT now(),
    started_at       timestamptz,
    finished_at      timestamptz,
    UNIQUE (batch_id, district_id),
    CHECK ((status = 'finished') = (finished_at IS NOT NULL)),
    CHECK ((status = 'finished') = (delivered_count IS NOT NULL AND failed_count IS NOT NULL))
);
CREATE INDEX release_batches_district ON release_batches (district_id, created_at DESC);
CREATE INDEX release_batches_open ON release_batches (created_at) WHERE status <> 'finished';

-- One student of a batch. Life of an item:
--   queued --claim--> in_progress --> delivered | failed
--                          |  \--(5xx, timeout: backoff)--> queued (next_attempt_at later)
--                          \--(lease expired: the worker died)--> queued (swept back)
-- document_id is fixed at the first claim and sent as the Idempotency-Key of every attempt, so
-- the vendor keeps one copy however many times the item is tried.
CREATE TABLE release_items (
    batch_id            bigint      NOT NULL,
    item_no             integer     NOT NULL CHECK (item_no >= 1),
    district_id         integer     NOT NULL,
    student_id          text        NOT NULL CHECK (student_id ~ '^[0-9A-Za-z-]{1,30}$'),
    status              text        NOT NULL DEFAULT 'queued' CHECK (status IN
                                        ('queued', 'in_progress', 'delivered', 'failed')),
    attempts            integer     NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at     timestamptz NOT NULL DEFAULT now(),
    lease_owner         text,
    lease_expires_at    timestamptz,
    document_id         text        CHECK (document_id ~ '^[0-9a-f]{32}$'),
    document_created_at timestamptz,
    -- SHA-256 of the bytes last sent (also in the disclosure row once delivered).
    document_sha256     text        CHECK (document_sha256 ~ '^[0-9a-f]{64}$'),
    vendor_reference    text        CHECK (length(vendor_reference) <= 200),
    -- A short code (hold, timeout, http_5xx, refused, ...) and a sentence for people; on a
    -- queued item they say why the last attempt will be retried.
    error_kind          text,
    last_error          text        CHECK (length(last_error) <= 500),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    delivered_at        timestamptz,
    PRIMARY KEY (batch_id, item_no),
    UNIQUE (batch_id, student_id),
    FOREIGN KEY (batch_id, district_id) REFERENCES release_batches (batch_id, district_id),
    CHECK ((status = 'in_progress') = (lease_owner IS NOT NULL AND lease_expires_at IS NOT NULL)),
    CHECK ((status = 'delivered') = (delivered_at IS NOT NULL)),
    CHECK (status IN ('queued', 'failed') OR document_id IS NOT NULL)
);
-- The claim reads only open items, so the history of delivered ones never slows it down.
CREATE INDEX release_items_ready ON release_items (next_attempt_at, batch_id, item_no)
    WHERE status = 'queued';
CREATE INDEX release_items_leased ON release_items (lease_expires_at)
    WHERE status = 'in_progress';
-- "Is anything of this batch still open?", asked after every item.
CREATE INDEX release_items_open ON release_items (batch_id)
    WHERE status IN ('queued', 'in_progress');

-- The application role queues, claims and settles; it never deletes: a batch and its lines are
-- the report the district reads.
GRANT SELECT, INSERT, UPDATE ON release_batches TO gateway_app;
GRANT SELECT, INSERT, UPDATE ON release_items TO gateway_app;
