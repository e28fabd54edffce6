-- The admin API deactivates registry records rather than deleting them;
-- allowance records get the flag the other registry tables have.
--
-- No search indexes: the lists search names, phones and codes with
-- ILIKE '%...%', which only a trigram index (the pg_trgm extension) could
-- serve, and a county's registry is a few thousand rows, scanned in a
-- millisecond or two. An extension the server may not ship is not worth it.

-- +goose Up
ALTER TABLE allowances ADD COLUMN active boolean NOT NULL DEFAULT true;

-- +goose Down
ALTER TABLE allowances DROP COLUMN active;
