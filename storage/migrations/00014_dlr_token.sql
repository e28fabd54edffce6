-- Delivery reports that name our own message id (Kannel's dlr-url echoes
-- it) must also carry this token, drawn per message and sent only to the
-- carrier: a sequential id alone let anyone mark a queued, never sent
-- alert delivered.

-- +goose Up
ALTER TABLE messages ADD COLUMN dlr_token text NOT NULL DEFAULT replace(gen_random_uuid()::text, '-', '');

-- +goose Down
ALTER TABLE messages DROP COLUMN dlr_token;
