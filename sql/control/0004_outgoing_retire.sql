-- Issue 11: an outgoing connection that batches used can be retired instead of deleted.
--
-- Its batches and their eTranscript Batch Reports refer to it (release_batches.connection_id),
-- so it cannot be deleted; retired, it keeps its row, its history and its reports, and no new
-- batch can be queued through it (gateway.control.vendors.batch_refusal). Batches already
-- queued finish; its sealed secrets stay, so `gateway vendor reinstate` can bring it back.

ALTER TABLE outgoing_connections
    ADD COLUMN retired_at timestamptz,
    ADD COLUMN retired_by text CHECK (length(retired_by) BETWEEN 1 AND 200),
    ADD CONSTRAINT outgoing_connections_retired_by CHECK ((retired_at IS NULL) = (retired_by IS NULL));
