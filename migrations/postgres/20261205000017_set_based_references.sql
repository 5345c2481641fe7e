-- The write path's three references that every accepted licence exercises (a licence names its
-- envelope, a licence's head names a licence version, an issuer's head names an envelope) were
-- foreign keys, which PostgreSQL checks row by row: for every new row, a lookup of the row it
-- names and a lock on it. On the single writer's path that was about 11 µs of PostgreSQL's CPU
-- a licence, a fifth of all of it (BENCHMARKS.md, sixteenth session). The same references are
-- now checked once per statement, over all the rows the statement wrote (its transition
-- table), and the rows they name, which the registry never deletes nor re-keys, refuse to be
-- deleted, truncated or re-keyed (where the foreign keys refused only while a reference stood).
-- Status events keep their foreign keys: one row per status change, not per licence.
DO $$
DECLARE r record;
BEGIN
    FOR r IN
        SELECT c.conrelid::regclass AS tbl, c.conname
        FROM pg_constraint c
        JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey)
        WHERE c.contype = 'f'
          AND ((c.conrelid = 'licences'::regclass AND a.attname = 'envelope')
            OR (c.conrelid = 'licence_heads'::regclass AND a.attname = 'id')
            OR (c.conrelid = 'issuer_heads'::regclass AND a.attname = 'digest'))
    LOOP
        EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', r.tbl, r.conname);
    END LOOP;
END $$;

CREATE FUNCTION licences_name_stored_envelopes() RETURNS trigger LANGUAGE plpgsql
    SET enable_hashjoin = off SET enable_mergejoin = off SET enable_seqscan = off AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM written w
               WHERE NOT EXISTS (SELECT 1 FROM envelopes e WHERE e.digest = w.envelope)) THEN
        RAISE foreign_key_violation USING MESSAGE = 'a licence names an envelope that is not stored';
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER licences_name_stored_envelopes AFTER INSERT ON licences
    REFERENCING NEW TABLE AS written FOR EACH STATEMENT
    EXECUTE FUNCTION licences_name_stored_envelopes();
CREATE TRIGGER licences_name_stored_envelopes_updated AFTER UPDATE ON licences
    REFERENCING NEW TABLE AS written FOR EACH STATEMENT
    EXECUTE FUNCTION licences_name_stored_envelopes();

CREATE FUNCTION licence_heads_name_stored_licences() RETURNS trigger LANGUAGE plpgsql
    SET enable_hashjoin = off SET enable_mergejoin = off SET enable_seqscan = off AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM written w
               WHERE NOT EXISTS (SELECT 1 FROM licences l WHERE l.id = w.id)) THEN
        RAISE foreign_key_violation USING MESSAGE = 'a licence head names a version that is not stored';
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER licence_heads_name_stored_licences AFTER INSERT ON licence_heads
    REFERENCING NEW TABLE AS written FOR EACH STATEMENT
    EXECUTE FUNCTION licence_heads_name_stored_licences();
CREATE TRIGGER licence_heads_name_stored_licences_updated AFTER UPDATE ON licence_heads
    REFERENCING NEW TABLE AS written FOR EACH STATEMENT
    EXECUTE FUNCTION licence_heads_name_stored_licences();

CREATE FUNCTION issuer_heads_name_stored_envelopes() RETURNS trigger LANGUAGE plpgsql
    SET enable_hashjoin = off SET enable_mergejoin = off SET enable_seqscan = off AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM written w
               WHERE NOT EXISTS (SELECT 1 FROM envelopes e WHERE e.digest = w.digest)) THEN
        RAISE foreign_key_violation USING MESSAGE = 'an issuer head names an envelope that is not stored';
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER issuer_heads_name_stored_envelopes AFTER INSERT ON issuer_heads
    REFERENCING NEW TABLE AS written FOR EACH STATEMENT
    EXECUTE FUNCTION issuer_heads_name_stored_envelopes();
CREATE TRIGGER issuer_heads_name_stored_envelopes_updated AFTER UPDATE ON issuer_heads
    REFERENCING NEW TABLE AS written FOR EACH STATEMENT
    EXECUTE FUNCTION issuer_heads_name_stored_envelopes();

CREATE FUNCTION log_rows_are_kept() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE restrict_violation USING MESSAGE = format('%s rows are never deleted nor re-keyed', TG_TABLE_NAME);
END $$;
CREATE TRIGGER envelopes_are_kept BEFORE DELETE OR UPDATE OF digest ON envelopes
    FOR EACH ROW EXECUTE FUNCTION log_rows_are_kept();
CREATE TRIGGER envelopes_are_not_truncated BEFORE TRUNCATE ON envelopes
    FOR EACH STATEMENT EXECUTE FUNCTION log_rows_are_kept();
CREATE TRIGGER licences_are_kept BEFORE DELETE OR UPDATE OF id ON licences
    FOR EACH ROW EXECUTE FUNCTION log_rows_are_kept();
CREATE TRIGGER licences_are_not_truncated BEFORE TRUNCATE ON licences
    FOR EACH STATEMENT EXECUTE FUNCTION log_rows_are_kept();
