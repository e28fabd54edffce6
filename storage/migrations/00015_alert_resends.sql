-- An urgent alert the carrier took but never confirmed delivered is sent
-- again, a few times, and then flagged: resends counts them.

-- +goose Up
ALTER TABLE messages ADD COLUMN resends integer NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE messages DROP COLUMN resends;
