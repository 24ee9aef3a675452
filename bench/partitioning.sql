-- Measures what partitioning patrol_points by month would cost and allow (docs/partitioning.md).
-- Run on a database holding one uploaded patrol (the upload benchmark's 1M walk), e.g.:
--   psql "$URL" -X -f bench/partitioning.sql
-- It works in a transaction and rolls everything back.
\timing on
\set ON_ERROR_STOP on
BEGIN;
SET LOCAL max_parallel_workers_per_gather = 0;
SELECT patrol_id AS src FROM patrol_points GROUP BY patrol_id ORDER BY count(*) DESC LIMIT 1 \gset

-- The same rows as patrol_points, plus the day the patrol was opened (all fixes of a patrol
-- share it, so a patrol lives in one partition and its live positions stay unique in it).
CREATE TEMP TABLE sample AS
SELECT p.*, date '2026-11-15' AS patrol_day FROM patrol_points p WHERE p.patrol_id = :src;

CREATE TABLE part_plain (LIKE sample INCLUDING DEFAULTS,
    PRIMARY KEY (patrol_id, seq));
CREATE TABLE part_month (LIKE sample INCLUDING DEFAULTS,
    PRIMARY KEY (patrol_id, seq, patrol_day)) PARTITION BY RANGE (patrol_day);
SELECT format('CREATE TABLE part_month_%s PARTITION OF part_month FOR VALUES FROM (%L) TO (%L)',
              to_char(m, 'YYYYMM'), m::date, (m + interval '1 month')::date)
FROM generate_series(date '2025-01-01', date '2026-12-01', interval '1 month') m \gexec
CREATE TABLE part_month_default PARTITION OF part_month DEFAULT;

-- Statement-level triggers with transition tables (migration 0008's foreign-key check) on
-- the partitioned table: PostgreSQL accepts them on the parent.
CREATE FUNCTION part_check() RETURNS trigger LANGUAGE plpgsql AS
$$ BEGIN PERFORM count(*) FROM new_points; RETURN NULL; END $$;
CREATE TRIGGER part_check AFTER INSERT ON part_month REFERENCING NEW TABLE AS new_points
    FOR EACH STATEMENT EXECUTE FUNCTION part_check();

-- Storing one 1M-fix upload: plain table, then the partitioned one (one partition).
\echo insert 1M fixes: plain
INSERT INTO part_plain SELECT * FROM sample;
\echo insert 1M fixes: partitioned by month
INSERT INTO part_month SELECT * FROM sample;

-- 23 other months, 1M fixes each, as other patrols.
INSERT INTO part_month
SELECT patrol_id + 1000 * n, seq, ord, time, geom, ele, accuracy_m, live, mock, drop_reason,
       (date '2025-01-15' + make_interval(months => n - 1))::date
FROM sample, generate_series(1, 23) n;
INSERT INTO part_plain
SELECT patrol_id + 1000 * n, seq, ord, time, geom, ele, accuracy_m, live, mock, drop_reason,
       patrol_day
FROM sample, generate_series(1, 23) n;
ANALYZE part_plain, part_month;

-- Reading one patrol in time order: plain, partitioned without the day (every partition's
-- index is probed), partitioned with the day (one partition).
\echo read one patrol: plain
SELECT count(*), sum(ST_X(geom)) FROM (SELECT geom FROM part_plain WHERE patrol_id = :src AND ord IS NOT NULL ORDER BY ord) x;
\echo read one patrol: partitioned, no day
SELECT count(*), sum(ST_X(geom)) FROM (SELECT geom FROM part_month WHERE patrol_id = :src AND ord IS NOT NULL ORDER BY ord) x;
\echo read one patrol: partitioned, with its day
SELECT count(*), sum(ST_X(geom)) FROM (SELECT geom FROM part_month WHERE patrol_id = :src AND patrol_day = date '2026-11-15' AND ord IS NOT NULL ORDER BY ord) x;
\echo small read (first 100 fixes) x 200: plain, partitioned without and with the day
EXPLAIN (ANALYZE, COSTS OFF, SUMMARY ON) SELECT * FROM part_plain WHERE patrol_id = :src AND seq < 100;
EXPLAIN (ANALYZE, COSTS OFF, SUMMARY ON) SELECT * FROM part_month WHERE patrol_id = :src AND seq < 100;
EXPLAIN (ANALYZE, COSTS OFF, SUMMARY ON) SELECT * FROM part_month WHERE patrol_id = :src AND seq < 100 AND patrol_day = date '2026-11-15';

-- Retention: dropping a month of raw fixes.
\echo drop a month: partitioned (DROP TABLE) vs plain (DELETE)
DROP TABLE part_month_202501;
DELETE FROM part_plain WHERE patrol_id = :src + 1000;
ROLLBACK;
