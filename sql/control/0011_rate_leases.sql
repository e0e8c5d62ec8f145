-- The token endpoint's rate limit takes tokens in small leases (issue 16): one statement may
-- take several tokens of a bucket at once, and `taken` says how many the last take got, so
-- that a worker spends a lease from memory and the database is asked once per lease, not once
-- per request. `granted` stays what it was (the last take got at least one).
ALTER TABLE rate_buckets ADD COLUMN taken integer NOT NULL DEFAULT 0 CHECK (taken >= 0);
