-- Versions of menu trees as uploaded, kept for the admin console: a change is
-- a new version, publishing picks the version that walks use, and an older
-- version can be published again to roll back.

-- +goose Up
CREATE TABLE menu_trees (
    id           bigserial PRIMARY KEY,
    name         text        NOT NULL,
    version      integer     NOT NULL CONSTRAINT menu_trees_version_positive CHECK (version > 0),
    format       text        NOT NULL CONSTRAINT menu_trees_format_known CHECK (format IN ('yaml', 'json')),
    -- The source exactly as uploaded, comments and all, so that it can be
    -- shown and edited again.
    source       text        NOT NULL,
    -- Hex SHA-256 of source: saving unchanged content does not add a version.
    checksum     text        NOT NULL CONSTRAINT menu_trees_checksum_sha256 CHECK (checksum ~ '^[0-9a-f]{64}$'),
    created_at   timestamptz NOT NULL DEFAULT now(),
    published_at timestamptz NULL,
    -- Also what makes concurrent saves of one tree take turns on a number.
    CONSTRAINT menu_trees_name_version_key UNIQUE (name, version)
);

-- Finding each tree's current version reads only published rows.
CREATE INDEX menu_trees_published ON menu_trees (name, published_at DESC) WHERE published_at IS NOT NULL;

-- +goose Down
DROP TABLE menu_trees;
