-- One reply per inbound message, as a database rule, and an index for the
-- lookup every carrier retry makes (the reply of a message).

-- +goose Up
CREATE UNIQUE INDEX messages_one_reply ON messages (reply_to) WHERE kind = 'reply' AND reply_to IS NOT NULL;

-- +goose Down
DROP INDEX messages_one_reply;
