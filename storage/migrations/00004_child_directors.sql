-- A child may be followed by several directors (two directors of one
-- village share its children). children.director_id stays the director
-- responsible for the child; child_directors lists everyone assigned,
-- including that one, and is what entitles a director to report.

-- +goose Up
CREATE TABLE child_directors (
    child_id    bigint      NOT NULL REFERENCES children (id),
    director_id bigint      NOT NULL REFERENCES directors (id),
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT child_directors_pkey PRIMARY KEY (child_id, director_id)
);

-- The caller lookup on the first hop of every session goes director -> children.
CREATE INDEX child_directors_director_id ON child_directors (director_id);

INSERT INTO child_directors (child_id, director_id)
SELECT id, director_id FROM children;

-- +goose Down
DROP TABLE child_directors;
