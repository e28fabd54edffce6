-- Messages of numbers that are not in the registry, and old message
-- bodies, are forgotten: the body emptied and the number dropped, the row
-- kept so that counts and carrier retries still work.

-- +goose Up
ALTER TABLE messages ALTER COLUMN phone DROP NOT NULL;
ALTER TABLE messages ADD COLUMN forgotten_at timestamptz NULL;

-- +goose Down
DELETE FROM messages WHERE phone IS NULL;
ALTER TABLE messages DROP COLUMN forgotten_at;
ALTER TABLE messages ALTER COLUMN phone SET NOT NULL;
