-- Every gateway process keeps a copy of the callers it looked up, so that
-- a dial needs no query on its first hop and still finds its caller while
-- Postgres is briefly away. Any change to the registry, however it is made
-- (the console, an import, a seed, a hand-written UPDATE), tells every
-- process to drop that copy, when it commits.

-- +goose Up
-- +goose StatementBegin
CREATE FUNCTION barefoot_registry_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('barefoot_registry', TG_TABLE_NAME);
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER directors_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON directors
    FOR EACH STATEMENT EXECUTE FUNCTION barefoot_registry_changed();
CREATE TRIGGER children_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON children
    FOR EACH STATEMENT EXECUTE FUNCTION barefoot_registry_changed();
CREATE TRIGGER child_directors_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON child_directors
    FOR EACH STATEMENT EXECUTE FUNCTION barefoot_registry_changed();
CREATE TRIGGER guardians_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON guardians
    FOR EACH STATEMENT EXECUTE FUNCTION barefoot_registry_changed();
CREATE TRIGGER child_guardians_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON child_guardians
    FOR EACH STATEMENT EXECUTE FUNCTION barefoot_registry_changed();
CREATE TRIGGER allowances_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON allowances
    FOR EACH STATEMENT EXECUTE FUNCTION barefoot_registry_changed();

-- +goose Down
DROP TRIGGER directors_changed ON directors;
DROP TRIGGER children_changed ON children;
DROP TRIGGER child_directors_changed ON child_directors;
DROP TRIGGER guardians_changed ON guardians;
DROP TRIGGER child_guardians_changed ON child_guardians;
DROP TRIGGER allowances_changed ON allowances;
DROP FUNCTION barefoot_registry_changed();
