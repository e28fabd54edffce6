-- Follow-ups of needs, and the field's part in a need's status.
--
-- A need of a category the menu tree follows up gets a row here when it
-- is saved, and a job (jobs, kind follow_up, keyed by the need's
-- reference) that reminds its director when it falls due. The row is the
-- follow-up as people see it (due, reminded, cleared and why); the job is
-- only how the reminder gets sent once. A follow-up is cleared, and its
-- job cancelled, when the need is referred or resolved, from the field or
-- the console, or when a visit to the child is recorded after the need.

-- +goose Up
CREATE TABLE follow_ups (
    need_id     bigint      PRIMARY KEY REFERENCES needs (id),
    -- The tree's rule as it was when the need was filed ("7d",
    -- "09-01,03-01"), to show why it falls due when it does.
    rule        text        NOT NULL,
    due_at      timestamptz NOT NULL,
    -- When the director was reminded by SMS; null until then.
    reminded_at timestamptz NULL,
    cleared_at  timestamptz NULL,
    cleared_by  text        NULL CONSTRAINT follow_ups_cleared_by_known CHECK (cleared_by IN ('status', 'visit')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT follow_ups_cleared_whole CHECK ((cleared_at IS NULL) = (cleared_by IS NULL))
);

-- Lists of follow-ups still to act on, by when they fall due.
CREATE INDEX follow_ups_open_due ON follow_ups (due_at) WHERE cleared_at IS NULL;

-- A director changes a need's status from the field (USSD or a one-line
-- SMS): the history names them and the channel. Changes made in the
-- console keep user_id and channel 'console'.
ALTER TABLE need_status_history
    ADD COLUMN director_id bigint NULL REFERENCES directors (id),
    ADD COLUMN channel     text   NOT NULL DEFAULT 'console'
        CONSTRAINT need_status_history_channel_known CHECK (channel IN ('console', 'ussd', 'sms'));

-- Reminders (follow-ups, monthly visit reminders) are outbound messages of
-- their own kind: held in quiet hours, unlike alerts, and counted apart.
ALTER TABLE messages DROP CONSTRAINT messages_kind_known;
ALTER TABLE messages ADD CONSTRAINT messages_kind_known CHECK (kind IN ('inbound', 'reply', 'alert', 'reminder'));

-- +goose Down
DELETE FROM messages WHERE kind = 'reminder';
ALTER TABLE messages DROP CONSTRAINT messages_kind_known;
ALTER TABLE messages ADD CONSTRAINT messages_kind_known CHECK (kind IN ('inbound', 'reply', 'alert'));
ALTER TABLE need_status_history DROP COLUMN channel, DROP COLUMN director_id;
DROP TABLE follow_ups;
