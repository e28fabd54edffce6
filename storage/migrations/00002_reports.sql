-- Reports produced by walks: home visits and children's needs. Each kind has
-- its own table because they are queried, and will be followed up, apart.
--
-- The answers of a walk are kept whole as jsonb, so nothing the director
-- typed is lost when a tree changes; the typed columns beside them (child,
-- situation or category, urgency ...) are what queries, dashboards and
-- indexes use.

-- +goose Up
CREATE TABLE visits (
    id           bigserial PRIMARY KEY,
    -- The reference read back to the director and quoted to staff: a kind
    -- letter and six characters without look-alikes (no 0/O, 1/I/L).
    ref          text        NOT NULL CONSTRAINT visits_ref_key UNIQUE
                             CONSTRAINT visits_ref_format CHECK (ref ~ '^V[2-9A-HJKMNP-Z]{6}$'),
    -- One report per conversation: a carrier retry or a second confirm of the
    -- same session finds this row instead of adding another.
    session_key  text        NOT NULL CONSTRAINT visits_session_key_key UNIQUE,
    child_id     bigint      NOT NULL REFERENCES children (id),
    director_id  bigint      NOT NULL REFERENCES directors (id),
    situation    text        NOT NULL,
    urgency      text        NOT NULL CONSTRAINT visits_urgency_known CHECK (urgency IN ('routine', 'urgent')),
    channel      text        NOT NULL CONSTRAINT visits_channel_known CHECK (channel IN ('ussd', 'sms')),
    carrier      text        NOT NULL,
    -- Which tree and version asked the questions, to read the answers right.
    menu_tree    text        NOT NULL,
    menu_version integer     NOT NULL,
    answers      jsonb       NOT NULL CONSTRAINT visits_answers_object CHECK (jsonb_typeof(answers) = 'object'),
    -- When the conversation began; unknown for reports that were not walked.
    started_at   timestamptz NULL,
    reported_at  timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX visits_child_reported ON visits (child_id, reported_at);
CREATE INDEX visits_director_reported ON visits (director_id, reported_at);
CREATE INDEX visits_reported ON visits (reported_at);

CREATE TABLE needs (
    id                bigserial PRIMARY KEY,
    ref               text        NOT NULL CONSTRAINT needs_ref_key UNIQUE
                                  CONSTRAINT needs_ref_format CHECK (ref ~ '^N[2-9A-HJKMNP-Z]{6}$'),
    session_key       text        NOT NULL CONSTRAINT needs_session_key_key UNIQUE,
    child_id          bigint      NOT NULL REFERENCES children (id),
    director_id       bigint      NOT NULL REFERENCES directors (id),
    category          text        NOT NULL,
    urgency           text        NOT NULL CONSTRAINT needs_urgency_known CHECK (urgency IN ('routine', 'urgent')),
    channel           text        NOT NULL CONSTRAINT needs_channel_known CHECK (channel IN ('ussd', 'sms')),
    carrier           text        NOT NULL,
    menu_tree         text        NOT NULL,
    menu_version      integer     NOT NULL,
    answers           jsonb       NOT NULL CONSTRAINT needs_answers_object CHECK (jsonb_typeof(answers) = 'object'),
    started_at        timestamptz NULL,
    reported_at       timestamptz NOT NULL DEFAULT now(),
    -- A need is followed up until resolved; visits are not.
    status            text        NOT NULL DEFAULT 'open'
                                  CONSTRAINT needs_status_known CHECK (status IN ('open', 'referred', 'resolved')),
    status_changed_at timestamptz NULL
);

CREATE INDEX needs_child_reported ON needs (child_id, reported_at);
CREATE INDEX needs_director_reported ON needs (director_id, reported_at);
CREATE INDEX needs_reported ON needs (reported_at);
-- The follow-up queue: open urgent needs first.
CREATE INDEX needs_status_urgency ON needs (status, urgency);

-- +goose Down
DROP TABLE needs;
DROP TABLE visits;
