-- A deployment may require a short secret with a STATUS query (e.g. the
-- last digits of the guardian's ID number). Only a hash is kept.

-- +goose Up
ALTER TABLE guardians ADD COLUMN status_secret_hash text NULL;

-- +goose Down
ALTER TABLE guardians DROP COLUMN status_secret_hash;
