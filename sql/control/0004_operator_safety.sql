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

-- One-time form tokens (issue 11): a console form whose answer shows a secret once (a new
-- incoming connection's Information to Share, a rotated secret, an invite link) carries a
-- random token; the action and the token's use commit together, so a browser's reload, which
-- posts the same form again, is recognised and does nothing a second time. Only a hash bound
-- to the session is kept, for a day (gateway.control.form_tokens).
CREATE TABLE web_form_tokens (
    token_hash  bytea       PRIMARY KEY CHECK (length(token_hash) = 32),
    used_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX web_form_tokens_used_at ON web_form_tokens (used_at);
GRANT SELECT, INSERT, DELETE ON web_form_tokens TO gateway_app;
