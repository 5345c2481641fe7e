-- No query reads status entries by licence base (the lists join them to licence_heads by the
-- heads' primary key), and the index cost about 240 bytes a licence.
DROP INDEX IF EXISTS status_entries_base;
