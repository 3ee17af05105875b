-- GENERATED from template/0003_deferred_indexes.sql.in by gen.py for sqlite; edit the template.
-- 0003_deferred_indexes: where store::DeferIndexes() (store/maintenance.h) keeps the definitions
-- of the secondary indexes it dropped for a bulk load, until RestoreDeferredIndexes() (or the next
-- Migrate(), after a crash) recreates them.
CREATE TABLE store_deferred_indexes (
  name TEXT PRIMARY KEY NOT NULL,
  table_name TEXT NOT NULL,
  definition TEXT NOT NULL,
  deferred_at TEXT CHECK (deferred_at GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z') NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z')
) STRICT;
