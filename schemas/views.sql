-- The DuckDB views of a tollwatch output folder. `tollwatch query OUT` creates them for you; in
-- plain DuckDB (from the folder holding this file):
--   SET VARIABLE tollwatch_output = '/path/to/OUT';
--   .read views.sql
-- Globs end in *.parquet, so files still being written (temporary names) are never read.

CREATE OR REPLACE VIEW articles AS
SELECT * FROM read_parquet(getvariable('tollwatch_output') || '/articles/*/*.parquet',
                           hive_partitioning = true, union_by_name = true);

CREATE OR REPLACE VIEW dead_letters AS
SELECT * FROM read_parquet(getvariable('tollwatch_output') || '/dead_letters/*/*.parquet',
                           hive_partitioning = true, union_by_name = true);

-- Each story once: articles that are not a copy of another.
CREATE OR REPLACE VIEW canonical_articles AS
SELECT * FROM articles WHERE is_canonical;
