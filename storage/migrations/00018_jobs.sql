-- Scheduled work inside the gateway: case escalations, follow-up
-- reminders, monthly visit reminders. Jobs live here rather than in a
-- second scheduler so that they survive restarts and run once however
-- many gateway processes share the database: a process claims a due job
-- with FOR UPDATE SKIP LOCKED and marks it done in the transaction that
-- does its work (and queues its SMS).

-- +goose Up
CREATE TABLE jobs (
    id         bigserial PRIMARY KEY,
    kind       text        NOT NULL,
    -- The job's identity within its kind (a case code and level, a
    -- follow-up's id): scheduling it again changes nothing.
    key        text        NOT NULL,
    due_at     timestamptz NOT NULL,
    payload    jsonb       NOT NULL DEFAULT '{}' CONSTRAINT jobs_payload_object CHECK (jsonb_typeof(payload) = 'object'),
    attempts   integer     NOT NULL DEFAULT 0,
    last_error text        NOT NULL DEFAULT '',
    -- done: ran; cancelled: no longer needed (the case was acknowledged,
    -- the follow-up cleared); failed: gave up after too many attempts.
    outcome    text        NULL CONSTRAINT jobs_outcome_known CHECK (outcome IN ('done', 'cancelled', 'failed')),
    ended_at   timestamptz NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT jobs_kind_key UNIQUE (kind, key)
);

-- Every run asks for the earliest due jobs still pending.
CREATE INDEX jobs_pending_due ON jobs (due_at) WHERE outcome IS NULL;

-- +goose Down
DROP TABLE jobs;
