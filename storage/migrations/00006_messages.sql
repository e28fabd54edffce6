-- SMS in and out. Every message the gateway receives or sends is a row:
-- inbound rows dedupe carrier retries and keep the reply they were given;
-- outbound rows are the outbox a sender works through, with their
-- delivery status as carriers report it.

-- +goose Up
CREATE TABLE messages (
    id              bigserial PRIMARY KEY,
    direction       text        NOT NULL CONSTRAINT messages_direction_known CHECK (direction IN ('in', 'out')),
    carrier         text        NOT NULL,
    -- The carrier's id of the message: on inbound rows the key carrier
    -- retries are deduplicated on; on outbound rows the id the send API
    -- returned, which delivery reports name.
    carrier_id      text        NULL,
    phone           text        NOT NULL CONSTRAINT messages_phone_e164 CHECK (phone ~ '^\+[1-9][0-9]{6,14}$'),
    -- What screens and exports show; the full number is kept for sending.
    phone_masked    text        NOT NULL,
    body            text        NOT NULL,
    encoding        text        NOT NULL DEFAULT 'GSM-7',
    segments        integer     NOT NULL DEFAULT 1,
    -- Inbound: received, answered. Outbound: queued, sending, sent,
    -- delivered, failed (final), or replied (answered inline, e.g. TwiML).
    status          text        NOT NULL CONSTRAINT messages_status_known
                                CHECK (status IN ('received', 'answered', 'queued', 'sending', 'sent', 'delivered', 'failed', 'replied')),
    kind            text        NOT NULL DEFAULT 'reply' CONSTRAINT messages_kind_known CHECK (kind IN ('inbound', 'reply', 'alert')),
    -- An outbound reply points at the message it answers.
    reply_to        bigint      NULL REFERENCES messages (id),
    -- An outbound message that must be sent exactly once (an alert) has a
    -- key naming what it is about; a second enqueue of it is a no-op.
    dedupe_key      text        NULL CONSTRAINT messages_dedupe_key UNIQUE,
    attempts        integer     NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error      text        NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    sent_at         timestamptz NULL,
    delivered_at    timestamptz NULL
);

-- One row per carrier message: a carrier retry finds the first.
CREATE UNIQUE INDEX messages_carrier_id ON messages (direction, carrier, carrier_id) WHERE carrier_id IS NOT NULL;
-- What the sender polls: due outbound messages.
CREATE INDEX messages_due ON messages (next_attempt_at) WHERE direction = 'out' AND status IN ('queued', 'sending');
CREATE INDEX messages_phone ON messages (phone, created_at);

-- Supervisors of a county receive alerts about urgent protection concerns.
CREATE TABLE supervisors (
    id         bigserial PRIMARY KEY,
    phone      text        NOT NULL CONSTRAINT supervisors_phone_key UNIQUE
                           CONSTRAINT supervisors_phone_e164 CHECK (phone ~ '^\+[1-9][0-9]{6,14}$'),
    name       text        NOT NULL,
    language   text        NOT NULL CONSTRAINT supervisors_language_known CHECK (language IN ('zh', 'en')),
    county     text        NOT NULL,
    active     boolean     NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE supervisors;
DROP TABLE messages;
