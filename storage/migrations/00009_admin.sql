-- County administrators: console logins and API tokens with roles, and the
-- audit log every change writes to.

-- +goose Up
CREATE TABLE users (
    id            bigserial PRIMARY KEY,
    username      text        NOT NULL CONSTRAINT users_username_key UNIQUE
                              CONSTRAINT users_username_format CHECK (username ~ '^[a-z0-9][a-z0-9._-]{1,63}$'),
    -- argon2id, in the encoded form that carries its own parameters.
    password_hash text        NOT NULL,
    -- admin: everything; editor: menus; viewer: read reports.
    role          text        NOT NULL CONSTRAINT users_role_known CHECK (role IN ('admin', 'editor', 'viewer')),
    active        boolean     NOT NULL DEFAULT true,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE api_tokens (
    id           bigserial PRIMARY KEY,
    user_id      bigint      NOT NULL REFERENCES users (id),
    name         text        NOT NULL,
    -- SHA-256 of the token: a token is random and long, so a fast hash is
    -- enough, and the token itself is shown once and never stored.
    token_hash   text        NOT NULL CONSTRAINT api_tokens_hash_key UNIQUE,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz NULL,
    revoked_at   timestamptz NULL
);

-- Append-only: who changed what, when, before and after.
CREATE TABLE audit_log (
    id          bigserial PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT now(),
    actor_id    bigint      NULL REFERENCES users (id),
    actor       text        NOT NULL,
    action      text        NOT NULL,
    object_type text        NOT NULL,
    object_id   text        NOT NULL,
    before      jsonb       NULL,
    after       jsonb       NULL
);
CREATE INDEX audit_log_object ON audit_log (object_type, object_id, at);

-- +goose Down
DROP TABLE audit_log;
DROP TABLE api_tokens;
DROP TABLE users;
