-- An envelope's stored receipt (every licence's registration and inclusion proof, about 1 KB a
-- licence) and its document are compressed where PostgreSQL stores them out of line (TOAST).
-- With pglz, the default, that compression was 7 % of the `postgres` processes' CPU on the
-- ingest path (`perf record -a`, four chains of 100-licence envelopes); lz4 compresses these
-- texts faster, and here smaller (190 against 220 bytes a licence). Only new values change:
-- each stored value records its own method, and both are read alike. A server built without
-- lz4 keeps pglz.
DO $$
BEGIN
    ALTER TABLE envelopes
        ALTER COLUMN document SET COMPRESSION lz4,
        ALTER COLUMN receipt SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN
    RAISE NOTICE 'this PostgreSQL has no lz4: envelopes stay compressed with pglz';
END
$$;
