-- Cases: an urgent need or an urgent or worrying visit is followed until
-- someone answers for it. A case is opened with its report, in the same
-- transaction, and its supervisors are told by SMS; unacknowledged past its
-- deadline it climbs to the next level of areas. cases holds the current
-- state that lists and filters read; case_events is its history, only ever
-- added to.

-- +goose Up
CREATE TABLE cases (
    id              bigserial PRIMARY KEY,
    -- What a supervisor types back on a keypad: six random digits, so
    -- that knowing one code tells nothing of the next.
    code            text        NOT NULL CONSTRAINT cases_code_key UNIQUE
                                CONSTRAINT cases_code_format CHECK (code ~ '^[0-9]{6}$'),
    -- One case per report: a retried report finds its case.
    report_kind     text        NOT NULL CONSTRAINT cases_report_kind_known CHECK (report_kind IN ('visit', 'need')),
    report_ref      text        NOT NULL CONSTRAINT cases_report_ref_key UNIQUE,
    child_id        bigint      NOT NULL REFERENCES children (id),
    -- The child's village, where the chain of areas starts.
    origin_area_id  bigint      NOT NULL REFERENCES areas (id),
    -- The area whose supervisors answer for the case now.
    area_id         bigint      NOT NULL REFERENCES areas (id),
    -- The need's category or the visit's situation.
    category        text        NOT NULL,
    status          text        NOT NULL DEFAULT 'open'
                                CONSTRAINT cases_status_known CHECK (status IN ('open', 'acknowledged', 'referred', 'resolved')),
    opened_at       timestamptz NOT NULL,
    -- When the current level must have acknowledged; escalations counts
    -- the climbs so far and names the pending escalation job.
    deadline_at     timestamptz NOT NULL,
    escalations     integer     NOT NULL DEFAULT 0,
    acknowledged_at timestamptz NULL,
    acknowledged_by text        NULL,
    referred_at     timestamptz NULL,
    referred_by     text        NULL,
    resolved_at     timestamptz NULL,
    resolved_by     text        NULL
);

-- The console's list: open cases by deadline.
CREATE INDEX cases_status_deadline ON cases (status, deadline_at);
CREATE INDEX cases_area_id ON cases (area_id);

CREATE TABLE case_events (
    id            bigserial PRIMARY KEY,
    case_id       bigint      NOT NULL REFERENCES cases (id),
    at            timestamptz NOT NULL,
    kind          text        NOT NULL CONSTRAINT case_events_kind_known
                              CHECK (kind IN ('opened', 'notified', 'escalated', 'acknowledged', 'referred', 'resolved')),
    -- The area concerned: the one notified or escalated to.
    area_id       bigint      NULL REFERENCES areas (id),
    -- Who: a console user, a supervisor (by SMS), or the gateway itself;
    -- actor is their name as it was.
    user_id       bigint      NULL REFERENCES users (id),
    supervisor_id bigint      NULL REFERENCES supervisors (id),
    actor         text        NOT NULL,
    channel       text        NOT NULL CONSTRAINT case_events_channel_known CHECK (channel IN ('system', 'sms', 'console')),
    note          text        NOT NULL DEFAULT ''
);

CREATE INDEX case_events_case ON case_events (case_id, at, id);

-- +goose Down
DROP TABLE case_events;
DROP TABLE cases;
