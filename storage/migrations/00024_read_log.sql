-- Who read which child's record, report or case, when and from where:
-- child-protection data is read under inspection, not only changed. Kept
-- apart from audit_log (changes) so that neither drowns the other.

-- +goose Up
CREATE TABLE read_log (
    id          bigserial PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT now(),
    user_id     bigint      NULL REFERENCES users (id),
    -- The username as it was, so the row reads right after a rename.
    actor       text        NOT NULL,
    -- child, guardian, allowance, report, case; a list or an export is
    -- recorded with an empty object_id and the query it ran.
    object_type text        NOT NULL,
    object_id   text        NOT NULL DEFAULT '',
    query       text        NOT NULL DEFAULT '',
    -- The address the request came from, as the gateway saw it.
    remote      text        NOT NULL DEFAULT ''
);
CREATE INDEX read_log_at ON read_log (at);
CREATE INDEX read_log_object ON read_log (object_type, object_id, at);

-- +goose Down
DROP TABLE read_log;
