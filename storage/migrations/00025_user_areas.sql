-- Console users answer for an area: a township's officer sees that
-- township's children, reports and cases, a county's its county's. A user
-- without an area (the county office that runs the deployment) sees all.

-- +goose Up
ALTER TABLE users ADD COLUMN area_id bigint NULL REFERENCES areas (id);

-- barefoot_in_area reports whether the area child lies in the area scope
-- or under it. A NULL child (a child the registry has not placed) is in no
-- area. Chains are at most four long (village to prefecture).
-- +goose StatementBegin
CREATE FUNCTION barefoot_in_area(child bigint, scope bigint) RETURNS boolean LANGUAGE sql STABLE AS $$
    WITH RECURSIVE up AS (
        SELECT id, parent_id FROM areas WHERE id = child
        UNION ALL
        SELECT a.id, a.parent_id FROM areas a JOIN up ON a.id = up.parent_id
    )
    SELECT EXISTS (SELECT 1 FROM up WHERE id = scope)
$$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION barefoot_in_area(bigint, bigint);
ALTER TABLE users DROP COLUMN area_id;
