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
-- are named part-<run key>-[<window>-]<shard>.parquet, so the run is read from the file name.
CREATE OR REPLACE VIEW claims AS
WITH stored AS (
    SELECT *, regexp_extract(filename, '/part-([^-/]+)-(?:[^/]*-)?\d{5}-of-\d{5}\.parquet$', 1) AS written_by
    FROM read_parquet(getvariable('tollwatch_output') || '/claims/*/*.parquet',
                      hive_partitioning = true, union_by_name = true, filename = true)),
current_articles AS (
    SELECT doc_id, regexp_extract(filename, '/part-([^-/]+)-(?:[^/]*-)?\d{5}-of-\d{5}\.parquet$', 1) AS written_by
    FROM read_parquet(getvariable('tollwatch_output') || '/articles/*/*.parquet',
                      hive_partitioning = true, union_by_name = true, filename = true)
    QUALIFY row_number() OVER (PARTITION BY doc_id ORDER BY ingested_at DESC) = 1)
SELECT stored.* EXCLUDE (written_by)
FROM stored SEMI JOIN current_articles USING (doc_id, written_by)
QUALIFY row_number() OVER (PARTITION BY claim_id ORDER BY filename DESC) = 1;

CREATE OR REPLACE VIEW toll AS
SELECT * FROM read_parquet(getvariable('tollwatch_output') || '/toll/*/*.parquet',
                           hive_partitioning = true, union_by_name = true);

-- The last pane of each toll window: its latest (late copies included) answer.
CREATE OR REPLACE VIEW toll_latest AS
SELECT * FROM toll
QUALIFY row_number() OVER (PARTITION BY event_id, measure, "group", series, window_start, window_end
                           ORDER BY computed_at DESC, pane_index DESC) = 1;

-- A figure as its source said it ("more than 1,000": '>1,000'), for people; `value_low` and
-- `value_high` stay the integer bounds to compute with ('more than 1,000' is at least 1,001).
CREATE OR REPLACE MACRO figure_text(qualifier, number, number_high, value_low, value_high) AS
CASE qualifier
    WHEN 'more_than' THEN '>' || format('{:,}', number)
    WHEN 'at_least' THEN format('{:,}', number) || '+'
    WHEN 'about' THEN '~' || format('{:,}', number)
    WHEN 'up_to' THEN 'up to ' || format('{:,}', coalesce(number, value_high))
    WHEN 'range' THEN format('{:,}', number) || '–' || format('{:,}', number_high)
    WHEN 'vague' THEN format('{:,}', value_low) || '+ (vague)'
    ELSE format('{:,}', coalesce(number, value_low, value_high)) END;

-- The toll as known now, per event, measure and group: the first as-of window that ends after the
-- latest figure of any source (later as-of windows repeat it until figures leave the horizon).
-- `best_text` is the best estimate as its source said it.
CREATE OR REPLACE VIEW toll_now AS
WITH as_of AS (
    SELECT *, list_max(list_transform(sources, lambda s: s.published_at)) AS last_figure_at
    FROM toll_latest WHERE series = 'as_of'),
last AS (
    SELECT event_id, measure, "group", max(last_figure_at) AS last_at FROM as_of GROUP BY ALL),
now AS (
    SELECT as_of.* EXCLUDE (last_figure_at)
    FROM as_of JOIN last USING (event_id, measure, "group")
    WHERE window_end > last_at
    QUALIFY row_number() OVER (PARTITION BY event_id, measure, "group" ORDER BY window_end) = 1)
SELECT now.*, coalesce(figure_text(c.qualifier, c.number, c.number_high, c.value_low, c.value_high),
                       format('{:,}', now.best)) AS best_text
FROM now LEFT JOIN claims AS c
    ON c.claim_id = list_sort(list_transform(list_filter(now.sources, lambda s: s.value_low = now.best),
                                             lambda s: s.claim_id))[1];

-- Incident claims (one village, one attack), kept beside the toll: the latest figure per event,
-- place, measure, group and source, from articles that are not copies.
CREATE OR REPLACE VIEW incidents AS
SELECT event_id, location, measure, "group", source, value_low, value_high, qualifier,
       published_at, sentence, doc_id
FROM claims
WHERE scope = 'incident' AND NOT is_copy
QUALIFY row_number() OVER (PARTITION BY event_id, location, measure, "group", source
                           ORDER BY published_at DESC, claim_id) = 1;

-- Each story once: articles that are not a copy of another.
CREATE OR REPLACE VIEW canonical_articles AS
SELECT * FROM articles WHERE is_canonical;

-- Claims that do not count toward the toll, and why: articles dated only by the file's or the
-- ingestion time (when a file was copied says nothing of when its figure was reported), incident
-- figures (see `incidents`), vague amounts, claims without an event or a figure.
CREATE OR REPLACE VIEW outside_toll AS
SELECT * FROM (
    SELECT *, CASE
        WHEN event_id IS NULL THEN 'no event'
        WHEN date_source NOT IN ('metadata', 'feed', 'text')
            THEN 'undated: article dated by ' || date_source
        WHEN scope <> 'overall' THEN 'incident figure'
        WHEN qualifier = 'vague' THEN 'vague amount'
        WHEN value_low IS NULL AND value_high IS NULL THEN 'no figure' END AS reason
    FROM claims)
WHERE reason IS NOT NULL;
