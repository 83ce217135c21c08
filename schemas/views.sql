-- The DuckDB views of a tollwatch output folder. `tollwatch query OUT` creates them for you; in
-- plain DuckDB (from the folder holding this file):
--   SET VARIABLE tollwatch_output = '/path/to/OUT';
--   .read views.sql
-- Globs end in *.parquet, so files still being written (temporary names) are never read.
-- Runs on overlapping inputs (a folder, then the folder and more) write their own files, so one
-- record can be stored twice: the views keep one row per key, the most recently ingested.

-- Every table may have no files yet (no dead letters, a run still going): each view reads its files
-- with allow_empty and adds the table's typed shape (no rows), so it has its columns either way.
-- The shapes are the record types' Arrow schemas in DuckDB's words (tests/e2e/test_query.py checks).
CREATE OR REPLACE MACRO articles_shape() AS TABLE
SELECT NULL::VARCHAR AS "doc_id",
       NULL::VARCHAR AS "uri",
       NULL::VARCHAR AS "url",
       NULL::VARCHAR AS "outlet",
       NULL::VARCHAR AS "title",
       NULL::TIMESTAMP WITH TIME ZONE AS "published_at",
       NULL::VARCHAR AS "date_source",
       NULL::TIMESTAMP WITH TIME ZONE AS "ingested_at",
       NULL::VARCHAR AS "text",
       NULL::VARCHAR AS "language",
       NULL::VARCHAR[] AS "event_ids",
       NULL::BIGINT AS "n_repeats_removed",
       NULL::VARCHAR AS "story_id",
       NULL::VARCHAR AS "copy_of",
       NULL::VARCHAR AS "copy_kind",
       NULL::DOUBLE AS "copy_similarity",
       NULL::BOOLEAN AS "is_canonical",
       NULL::DATE AS "published_date"
WHERE false;

CREATE OR REPLACE MACRO claims_shape() AS TABLE
SELECT NULL::VARCHAR AS "claim_id",
       NULL::VARCHAR AS "claim_key",
       NULL::VARCHAR AS "doc_id",
       NULL::VARCHAR AS "event_id",
       NULL::VARCHAR AS "outlet",
       NULL::TIMESTAMP WITH TIME ZONE AS "published_at",
       NULL::VARCHAR AS "date_source",
       NULL::VARCHAR AS "measure",
       NULL::BIGINT AS "number",
       NULL::BIGINT AS "number_high",
       NULL::VARCHAR AS "qualifier",
       NULL::BIGINT AS "value_low",
       NULL::BIGINT AS "value_high",
       NULL::VARCHAR AS "group",
       NULL::VARCHAR AS "group_text",
       NULL::VARCHAR AS "source",
       NULL::VARCHAR AS "source_text",
       NULL::VARCHAR AS "scope",
       NULL::VARCHAR AS "location",
       NULL::VARCHAR AS "period_text",
       NULL::TIMESTAMP WITH TIME ZONE AS "period_start",
       NULL::VARCHAR AS "sentence",
       NULL::BIGINT AS "char_start",
       NULL::BIGINT AS "char_end",
       NULL::BOOLEAN AS "is_copy",
       NULL::VARCHAR AS "canonical_id",
       NULL::DATE AS "published_date"
WHERE false;

CREATE OR REPLACE MACRO toll_shape() AS TABLE
SELECT NULL::VARCHAR AS "event_id",
       NULL::VARCHAR AS "measure",
       NULL::VARCHAR AS "group",
       NULL::VARCHAR AS "series",
       NULL::TIMESTAMP WITH TIME ZONE AS "window_start",
       NULL::TIMESTAMP WITH TIME ZONE AS "window_end",
       NULL::VARCHAR AS "pane_timing",
       NULL::BIGINT AS "pane_index",
       NULL::BIGINT AS "best",
       NULL::BIGINT AS "low",
       NULL::BIGINT AS "high",
       NULL::BIGINT AS "n_claims",
       NULL::BIGINT AS "n_docs",
       NULL::BIGINT AS "n_outlets",
       NULL::BIGINT AS "n_independent_sources",
       NULL::STRUCT("source" VARCHAR, value_low BIGINT, value_high BIGINT, claim_id VARCHAR, published_at TIMESTAMP WITH TIME ZONE)[] AS "sources",
       NULL::VARCHAR AS "latest_claim_id",
       NULL::TIMESTAMP WITH TIME ZONE AS "computed_at",
       NULL::DATE AS "window_date"
WHERE false;

CREATE OR REPLACE MACRO dead_letters_shape() AS TABLE
SELECT NULL::VARCHAR AS "uri",
       NULL::VARCHAR AS "stage",
       NULL::VARCHAR AS "error_type",
       NULL::VARCHAR AS "message",
       NULL::BIGINT AS "size_bytes",
       NULL::TIMESTAMP WITH TIME ZONE AS "ingested_at",
       NULL::DATE AS "ingested_date"
WHERE false;

CREATE OR REPLACE VIEW articles AS
SELECT COLUMNS(lambda c: c <> 'empty') FROM (
    SELECT * FROM read_parquet(getvariable('tollwatch_output') || '/articles/*/*.parquet',
                               hive_partitioning = true, union_by_name = true, allow_empty = true)
    UNION ALL BY NAME SELECT * FROM articles_shape())
QUALIFY row_number() OVER (PARTITION BY doc_id ORDER BY ingested_at DESC) = 1;

-- A file that fails again in a run of a later day is stored again, in that day's partition: one
-- row per file, stage and reason, the latest.
CREATE OR REPLACE VIEW dead_letters AS
SELECT COLUMNS(lambda c: c <> 'empty') FROM (
    SELECT * FROM read_parquet(getvariable('tollwatch_output') || '/dead_letters/*/*.parquet',
                               hive_partitioning = true, union_by_name = true, allow_empty = true)
    UNION ALL BY NAME SELECT * FROM dead_letters_shape())
QUALIFY row_number() OVER (PARTITION BY uri, stage, error_type ORDER BY ingested_at DESC) = 1;

-- The claims of each article as the run that wrote its current row (the one `articles` keeps) found
-- them: an article edited between two runs keeps only its new claims, not old and new ones. Files
-- are named part-<run key>-[<window>-]<shard>.parquet, so the run is read from the file name; a
-- rerun that dated the article anew left the old claims in another date partition under the same
-- run key, so the publication time must match too.
CREATE OR REPLACE VIEW claims AS
WITH stored AS (
    SELECT *, regexp_extract(filename, '/part-([^-/]+)-(?:[^/]*-)?\d{5}-of-\d{5}\.parquet$', 1) AS written_by
    FROM (SELECT COLUMNS(lambda c: c <> 'empty') FROM (
              SELECT * FROM read_parquet(getvariable('tollwatch_output') || '/claims/*/*.parquet',
                                         hive_partitioning = true, union_by_name = true,
                                         filename = true, allow_empty = true)
              UNION ALL BY NAME SELECT *, NULL::VARCHAR AS filename FROM claims_shape()))),
current_articles AS (
    SELECT doc_id, published_at,
           regexp_extract(filename, '/part-([^-/]+)-(?:[^/]*-)?\d{5}-of-\d{5}\.parquet$', 1) AS written_by
    FROM (SELECT COLUMNS(lambda c: c <> 'empty') FROM (
              SELECT * FROM read_parquet(getvariable('tollwatch_output') || '/articles/*/*.parquet',
                                         hive_partitioning = true, union_by_name = true,
                                         filename = true, allow_empty = true)
              UNION ALL BY NAME SELECT *, NULL::VARCHAR AS filename FROM articles_shape()))
    QUALIFY row_number() OVER (PARTITION BY doc_id ORDER BY ingested_at DESC) = 1)
SELECT stored.* EXCLUDE (written_by)
FROM stored SEMI JOIN current_articles USING (doc_id, written_by, published_at)
QUALIFY row_number() OVER (PARTITION BY claim_id ORDER BY filename DESC) = 1;

CREATE OR REPLACE VIEW toll AS
SELECT COLUMNS(lambda c: c <> 'empty') FROM (
    SELECT * FROM read_parquet(getvariable('tollwatch_output') || '/toll/*/*.parquet',
                               hive_partitioning = true, union_by_name = true, allow_empty = true)
    UNION ALL BY NAME SELECT * FROM toll_shape());

-- The last pane of each toll window: its latest (late copies included) answer; a window whose
-- last pane holds no claim (its articles were corrected) is left out.
CREATE OR REPLACE VIEW toll_latest AS
SELECT * FROM (
    SELECT * FROM toll
    QUALIFY row_number() OVER (PARTITION BY event_id, measure, "group", series, window_start,
                                            window_end
                               ORDER BY computed_at DESC, pane_index DESC) = 1)
WHERE n_claims > 0;

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
    ON c.claim_id = list_sort(list_transform(
        list_filter(now.sources, lambda s: s.value_low = now.best), lambda s: s.claim_id))[1];

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
