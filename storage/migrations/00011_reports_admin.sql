-- The follow-up of needs by county staff: every change of a need's status
-- (open, referred, resolved), by whom, when and why. needs.status and
-- needs.status_changed_at stay the current state that lists and filters
-- read; this table is its history, shown with the need. Rows are only ever
-- added: a reopened need gets a new row, not an edited old one.

-- +goose Up
CREATE TABLE need_status_history (
    id          bigserial PRIMARY KEY,
    need_id     bigint      NOT NULL REFERENCES needs (id),
    from_status text        NOT NULL CONSTRAINT need_status_history_from_known CHECK (from_status IN ('open', 'referred', 'resolved')),
    to_status   text        NOT NULL CONSTRAINT need_status_history_to_known CHECK (to_status IN ('open', 'referred', 'resolved')),
    -- What the member of staff wrote: to whom it was referred, how it was
    -- resolved, why it was reopened. Empty when they wrote nothing.
    note        text        NOT NULL DEFAULT '',
    -- Who: the user, and their username as it was, so the row still reads
    -- right if the user is renamed or deactivated.
    user_id     bigint      NULL REFERENCES users (id),
    actor       text        NOT NULL,
    at          timestamptz NOT NULL DEFAULT now()
);

-- A need's history is read with the need, in order.
CREATE INDEX need_status_history_need ON need_status_history (need_id, at, id);

-- +goose Down
DROP TABLE need_status_history;
