-- Console sign-ins get tokens that expire; API tokens made for scripts do
-- not, until revoked.

-- +goose Up
ALTER TABLE api_tokens ADD COLUMN expires_at timestamptz NULL;

-- +goose Down
ALTER TABLE api_tokens DROP COLUMN expires_at;
