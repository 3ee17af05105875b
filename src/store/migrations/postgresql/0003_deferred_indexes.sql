-- GENERATED from template/0003_deferred_indexes.sql.in by gen.py for postgresql; edit the template.
-- 0003_deferred_indexes: where store::DeferIndexes() (store/maintenance.h) keeps the definitions
-- of the secondary indexes it dropped for a bulk load, until RestoreDeferredIndexes() (or the next
-- Migrate(), after a crash) recreates them.
CREATE TABLE store_deferred_indexes (
  name TEXT PRIMARY KEY NOT NULL,
  table_name TEXT NOT NULL,
  definition TEXT NOT NULL,
  deferred_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
