-- The registry: who may report (directors), on whom (children), and the
-- children's guardians. Imports and seeds upsert into it; every walk starts
-- with a lookup of the caller's phone.

-- +goose Up
CREATE TABLE directors (
    id         bigserial PRIMARY KEY,
    -- E.164 only: the gateway normalises carrier formats before the lookup,
    -- so a differently written number here could never be found.
    phone      text        NOT NULL CONSTRAINT directors_phone_key UNIQUE
                           CONSTRAINT directors_phone_e164 CHECK (phone ~ '^\+[1-9][0-9]{6,14}$'),
    name       text        NOT NULL,
    -- Every built-in text exists in these languages only (menus.LangZH, LangEN).
    language   text        NOT NULL CONSTRAINT directors_language_known CHECK (language IN ('zh', 'en')),
    village    text        NOT NULL,
    county     text        NOT NULL,
    -- Directors who leave are deactivated, not deleted: their reports still
    -- reference them.
    active     boolean     NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE children (
    id          bigserial PRIMARY KEY,
    -- The registry code is what a director types on a keypad, hence short,
    -- upper-case and unambiguous.
    code        text        NOT NULL CONSTRAINT children_code_key UNIQUE
                            CONSTRAINT children_code_format CHECK (code ~ '^[A-Z][0-9]{4,9}$'),
    name        text        NOT NULL,
    birth_date  date        NULL,
    village     text        NOT NULL,
    county      text        NOT NULL,
    director_id bigint      NOT NULL REFERENCES directors (id),
    active      boolean     NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- A caller's children are read on the first hop of every session.
CREATE INDEX children_director_id ON children (director_id);

CREATE TABLE guardians (
    id         bigserial PRIMARY KEY,
    phone      text        NOT NULL CONSTRAINT guardians_phone_key UNIQUE
                           CONSTRAINT guardians_phone_e164 CHECK (phone ~ '^\+[1-9][0-9]{6,14}$'),
    name       text        NOT NULL,
    language   text        NOT NULL CONSTRAINT guardians_language_known CHECK (language IN ('zh', 'en')),
    active     boolean     NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- A child may have several guardians and a guardian several children.
CREATE TABLE child_guardians (
    child_id     bigint NOT NULL REFERENCES children (id) ON DELETE CASCADE,
    guardian_id  bigint NOT NULL REFERENCES guardians (id) ON DELETE CASCADE,
    relationship text   NOT NULL DEFAULT '',
    PRIMARY KEY (child_id, guardian_id)
);

-- The primary key serves lookups by child; replacing a guardian's links
-- needs them by guardian.
CREATE INDEX child_guardians_guardian_id ON child_guardians (guardian_id);

-- +goose Down
DROP TABLE child_guardians;
DROP TABLE guardians;
DROP TABLE children;
DROP TABLE directors;
