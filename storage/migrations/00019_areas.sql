-- Areas: the places the programme is organised by, from a prefecture
-- down to a village, each under its parent. Directors and children belong
-- to a village, supervisors answer for an area at any level, and a case
-- climbs the chain of parents when nobody acknowledges it in time.
--
-- The text village and county columns stay: old reports, exports and the
-- county alerts read them, and an import that does not name an area keeps
-- working. The backfill below gives every county and village named in
-- the registry an area, so that links exist from the first day.

-- +goose Up
CREATE TABLE areas (
    id         bigserial PRIMARY KEY,
    -- What an import names an area by: the administrative division code
    -- where there is one, any short code otherwise.
    code       text        NOT NULL CONSTRAINT areas_code_key UNIQUE
                           CONSTRAINT areas_code_format CHECK (code ~ '^[A-Za-z0-9._-]{1,32}$'),
    name       text        NOT NULL,
    level      text        NOT NULL CONSTRAINT areas_level_known
                           CHECK (level IN ('prefecture', 'county', 'township', 'village')),
    parent_id  bigint      NULL REFERENCES areas (id),
    active     boolean     NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX areas_parent_id ON areas (parent_id);

-- A parent is of a higher level than its child (a level may be skipped: a
-- village directly under its county). The rule is what makes the chain of
-- parents finite, so it is kept by the database, whoever writes.
-- +goose StatementBegin
CREATE FUNCTION barefoot_area_rank(level text) RETURNS integer LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE level WHEN 'prefecture' THEN 4 WHEN 'county' THEN 3 WHEN 'township' THEN 2 WHEN 'village' THEN 1 END
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION barefoot_area_levels() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.parent_id IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM areas p WHERE p.id = NEW.parent_id AND barefoot_area_rank(p.level) > barefoot_area_rank(NEW.level)
    ) THEN
        RAISE EXCEPTION 'area % must be under an area of a higher level', NEW.code USING ERRCODE = 'check_violation',
            CONSTRAINT = 'areas_parent_level';
    END IF;
    IF TG_OP = 'UPDATE' AND EXISTS (
        SELECT 1 FROM areas c WHERE c.parent_id = NEW.id AND barefoot_area_rank(c.level) >= barefoot_area_rank(NEW.level)
    ) THEN
        RAISE EXCEPTION 'area % has areas of its level or higher under it', NEW.code USING ERRCODE = 'check_violation',
            CONSTRAINT = 'areas_child_level';
    END IF;
    RETURN NEW;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER areas_levels BEFORE INSERT OR UPDATE ON areas
    FOR EACH ROW EXECUTE FUNCTION barefoot_area_levels();

ALTER TABLE supervisors ADD COLUMN area_id bigint NULL REFERENCES areas (id);
ALTER TABLE directors ADD COLUMN area_id bigint NULL REFERENCES areas (id);
ALTER TABLE children ADD COLUMN area_id bigint NULL REFERENCES areas (id);
-- Who answers for an area: read when a case opens or climbs.
CREATE INDEX supervisors_area_id ON supervisors (area_id) WHERE active;

-- Backfill: a county area for each county named anywhere, a village area
-- for each village named under it, and the links. Codes are derived from
-- the names, so running it twice (or on a copy) gives the same codes.
INSERT INTO areas (code, name, level)
SELECT 'cty-' || substr(md5(county), 1, 12), county, 'county'
FROM (SELECT county FROM supervisors UNION SELECT county FROM directors UNION SELECT county FROM children) c
WHERE county <> ''
ON CONFLICT (code) DO NOTHING;

INSERT INTO areas (code, name, level, parent_id)
SELECT 'vil-' || substr(md5(county || '/' || village), 1, 12), village, 'village', a.id
FROM (SELECT county, village FROM directors UNION SELECT county, village FROM children) v
JOIN areas a ON a.code = 'cty-' || substr(md5(v.county), 1, 12)
WHERE village <> ''
ON CONFLICT (code) DO NOTHING;

UPDATE supervisors s SET area_id = a.id FROM areas a WHERE a.code = 'cty-' || substr(md5(s.county), 1, 12);
UPDATE directors d SET area_id = a.id FROM areas a WHERE a.code = 'vil-' || substr(md5(d.county || '/' || d.village), 1, 12);
UPDATE children c SET area_id = a.id FROM areas a WHERE a.code = 'vil-' || substr(md5(c.county || '/' || c.village), 1, 12);

-- +goose Down
DROP INDEX supervisors_area_id;
ALTER TABLE children DROP COLUMN area_id;
ALTER TABLE directors DROP COLUMN area_id;
ALTER TABLE supervisors DROP COLUMN area_id;
DROP TRIGGER areas_levels ON areas;
DROP FUNCTION barefoot_area_levels();
DROP FUNCTION barefoot_area_rank(text);
DROP TABLE areas;
