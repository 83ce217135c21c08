-- The DuckDB views of a tollwatch output folder. `tollwatch query OUT` creates them for you; in
-- plain DuckDB (from the folder holding this file):
--   SET VARIABLE tollwatch_output = '/path/to/OUT';
--   .read views.sql
-- Globs end in *.parquet, so files still being written (temporary names) are never read.
-- Runs on overlapping inputs (a folder, then the folder and more) write their own files, so one
-- record can be stored twice: the views keep one row per key, the most recently ingested.

CREATE OR REPLACE VIEW articles AS
SELECT * FROM read_parquet(getvariable('tollwatch_output') || '/articles/*/*.parquet',
                           hive_partitioning = true, union_by_name = true)
QUALIFY row_number() OVER (PARTITION BY doc_id ORDER BY ingested_at DESC) = 1;

-- A file that fails again in a run of a later day is stored again, in that day's partition: one
-- row per file, stage and reason, the latest.
CREATE OR REPLACE VIEW dead_letters AS
SELECT * FROM read_parquet(getvariable('tollwatch_output') || '/dead_letters/*/*.parquet',
                           hive_partitioning = true, union_by_name = true)
QUALIFY row_number() OVER (PARTITION BY uri, stage, error_type ORDER BY ingested_at DESC) = 1;

-- The claims of each article as the run that wrote its current row (the one `articles` keeps) found
-- them: an article edited between two runs keeps only its new claims, not old and new ones. Files
-- are named part-<run key>-[<window>-]<shard>.parquet, so the run is read from the file name; a
-- rerun that dated the article anew left the old claims in another date partition under the same
-- run key, so the publication time must match too.
CREATE OR REPLACE VIEW claims AS
WITH stored AS (
    SELECT *, regexp_extract(filename, '/part-([^-/]+)-(?:[^/]*-)?\d{5}-of-\d{5}\.parquet$', 1) AS written_by
    FROM read_parquet(getvariable('tollwatch_output') || '/claims/*/*.parquet',
                      hive_partitioning = true, union_by_name = true, filename = true)),
current_articles AS (
    SELECT doc_id, published_at,
           regexp_extract(filename, '/part-([^-/]+)-(?:[^/]*-)?\d{5}-of-\d{5}\.parquet$', 1) AS written_by
    FROM read_parquet(getvariable('tollwatch_output') || '/articles/*/*.parquet',
                      hive_partitioning = true, union_by_name = true, filename = true)
    QUALIFY row_number() OVER (PARTITION BY doc_id ORDER BY ingested_at DESC) = 1)
SELECT stored.* EXCLUDE (written_by)
FROM stored SEMI JOIN current_articles USING (doc_id, written_by, published_at)
QUALIFY row_number() OVER (PARTITION BY claim_id ORDER BY filename DESC) = 1;

CREATE OR REPLACE VIEW toll AS
SELECT * FROM read_parquet(getvariable('tollwatch_output') || '/toll/*/*.parquet',
                           hive_partitioning = true, union_by_name = true);

-- The last pane of each toll window: its latest (late copies included) answer; a window whose
-- last pane holds no claim (its articles were corrected) is left out.
CREATE OR REPLACE VIEW toll_latest AS
SELECT * FROM (
    SELECT * FROM toll
    QUALIFY row_number() OVER (PARTITION BY event_id, measure, "group", series, window_start,
                                            window_end
                               ORDER BY computed_at DESC, pane_index DESC) = 1)
WHERE n_claims > 0;

-- The toll as known now, per event, measure and group: the first as-of window that ends after the
-- latest figure of any source (later as-of windows repeat it until figures leave the horizon).
CREATE OR REPLACE VIEW toll_now AS
WITH as_of AS (
    SELECT *, list_max(list_transform(sources, lambda s: s.published_at)) AS last_figure_at
    FROM toll_latest WHERE series = 'as_of'),
last AS (
    SELECT event_id, measure, "group", max(last_figure_at) AS last_at FROM as_of GROUP BY ALL)
SELECT as_of.* EXCLUDE (last_figure_at)
FROM as_of JOIN last USING (event_id, measure, "group")
WHERE window_end > last_at
QUALIFY row_number() OVER (PARTITION BY event_id, measure, "group" ORDER BY window_end) = 1;

-- Incident claims (one village, one attack), kept beside the toll: the latest figure per event,
-- place, measure, group and source, from articles that are not copies (at the same time, the
-- higher figure, as in the toll).
CREATE OR REPLACE VIEW incidents AS
SELECT event_id, location, measure, "group", source, value_low, value_high, qualifier,
       published_at, sentence, doc_id
FROM claims
WHERE scope = 'incident' AND NOT is_copy
QUALIFY row_number() OVER (PARTITION BY event_id, location, measure, "group", source
                           ORDER BY published_at DESC, coalesce(value_low, value_high) DESC,
                                    coalesce(value_high, value_low) DESC, claim_id) = 1;

-- Each story once: articles that are not a copy of another.
CREATE OR REPLACE VIEW canonical_articles AS
SELECT * FROM articles WHERE is_canonical;
