-- +goose Up
-- A version of a menu tree says who saved it and why, so that the console's
-- history reads as a county office's record rather than a list of numbers.
ALTER TABLE menu_trees
    ADD COLUMN author text NOT NULL DEFAULT '',
    ADD COLUMN note   text NOT NULL DEFAULT '';

UPDATE menu_trees t SET author = a.actor
FROM (SELECT DISTINCT ON (object_id, (after->>'version')::int) object_id, (after->>'version')::int AS version, actor
      FROM audit_log WHERE action = 'menu.save' AND object_type = 'menu_tree'
      ORDER BY object_id, (after->>'version')::int, id) a
WHERE a.object_id = t.name AND a.version = t.version;

-- +goose Down
ALTER TABLE menu_trees DROP COLUMN author, DROP COLUMN note;
