-- Signed licences and status events are stored packed (src/log/packed.rs: a one-byte form tag,
-- then DEFLATE with the offline payload's dictionary), about a third of their text. Rows
-- written before keep their text, as UTF-8 bytes, which the reader tells apart by their first
-- byte (`{`). The conversion rewrites both tables once.
ALTER TABLE licences ALTER COLUMN document TYPE BYTEA USING convert_to(document, 'UTF8');
ALTER TABLE status_events ALTER COLUMN document TYPE BYTEA USING convert_to(document, 'UTF8');
-- Already compressed: PostgreSQL's own compression of long values would spend time for nothing.
ALTER TABLE licences ALTER COLUMN document SET STORAGE EXTERNAL;
ALTER TABLE status_events ALTER COLUMN document SET STORAGE EXTERNAL;
