-- A rotated signing key is published before it signs (issue 11.11). Resource servers cache the
-- JWKS (for its Cache-Control max-age); a token signed by a key they have not fetched yet is
-- refused until their cache expires. So `gateway keys rotate` inserts the next key with
-- `activates_at` one JWKS cache lifetime ahead and sets the current key's `retired_at` to the
-- same instant: each key signs during [activates_at, retired_at), and every worker switches at
-- that instant by the clock, without needing a notification at the time.
-- NULL means "signs from its creation" (every key created before this migration).
ALTER TABLE signing_keys ADD COLUMN activates_at timestamptz;
