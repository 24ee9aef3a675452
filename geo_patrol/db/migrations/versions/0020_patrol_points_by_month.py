"""Raw fixes partitioned by month of the patrol's day; retention can drop a month.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06
Introduced in: geo-patrol 0.6.0

docs/partitioning.md has the design and its measurements. In short:

- `patrols.patrol_day` is the local (China Standard Time) day the patrol row was created. It
  never changes, so a patrol's fixes all live in one partition, a live patrol that runs past
  midnight included, and a position replayed the next day still meets the unique index
  that keeps it single.
- `patrol_points` becomes a table partitioned by RANGE (patrol_day), one partition a month
  (`patrol_points_YYYY_MM`) and a default partition for a day no month was made for. Its
  keys carry the day: PRIMARY KEY (patrol_id, seq, patrol_day) and UNIQUE (patrol_id, time,
  patrol_day) WHERE live: still unique per patrol, since a patrol has one day.
- The statement-level foreign-key triggers of 0008 move to the partitioned table (PostgreSQL
  15 runs AFTER ... FOR EACH STATEMENT triggers with transition tables on it); the cascade
  from patrols deletes with the patrols' days too, so only their months are searched.

The months from the oldest patrol's to two after the current one are made here; the service's
maintenance makes the later ones (geo_patrol.patrols.partitions). The downgrade puts every
fix back into one plain table.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LOCAL_DAY = "(now() AT TIME ZONE 'Asia/Shanghai')::date"

COLUMNS = """
    patrol_id bigint NOT NULL,
    seq integer NOT NULL,
    ord integer,
    time timestamp with time zone,
    geom geometry(POINT,4326) NOT NULL,
    ele double precision,
    accuracy_m double precision,
    live boolean DEFAULT false NOT NULL,
    mock boolean DEFAULT false NOT NULL,
    drop_reason character varying(32)
"""
FIELDS = "patrol_id, seq, ord, time, geom, ele, accuracy_m, live, mock, drop_reason"

PARTITIONED = f"""
CREATE TABLE patrol_points ({COLUMNS},
    patrol_day date NOT NULL,
    CONSTRAINT pk_patrol_points PRIMARY KEY (patrol_id, seq, patrol_day)
) PARTITION BY RANGE (patrol_day);
CREATE INDEX ix_patrol_points_geom ON patrol_points USING brin (geom);
CREATE UNIQUE INDEX ix_patrol_points_live_time ON patrol_points (patrol_id, time, patrol_day)
    WHERE live;
CREATE TABLE patrol_points_default PARTITION OF patrol_points DEFAULT;
"""

# One partition per month from the oldest patrol's to two months after today's (local).
MONTHS = f"""
DO $$
DECLARE
    month date;
BEGIN
    FOR month IN
        SELECT generate_series(
            date_trunc('month', least(coalesce(min(patrol_day), {LOCAL_DAY}), {LOCAL_DAY})),
            date_trunc('month', {LOCAL_DAY}) + interval '2 months',
            interval '1 month')::date
        FROM patrols
    LOOP
        EXECUTE format(
            'CREATE TABLE %I PARTITION OF patrol_points FOR VALUES FROM (%L) TO (%L)',
            'patrol_points_' || to_char(month, 'YYYY_MM'), month,
            (month + interval '1 month')::date);
    END LOOP;
END $$
"""

COPY_IN = f"""
INSERT INTO patrol_points ({FIELDS}, patrol_day)
SELECT {", ".join("f." + name.strip() for name in FIELDS.split(","))}, p.patrol_day
FROM patrol_points_plain f JOIN patrols p ON p.id = f.patrol_id
"""

CHECKS = """
CREATE TRIGGER patrol_points_check_inserted AFTER INSERT ON patrol_points
    REFERENCING NEW TABLE AS new_points
    FOR EACH STATEMENT EXECUTE FUNCTION patrol_points_check_inserted();
CREATE TRIGGER patrol_points_check_updated AFTER UPDATE ON patrol_points
    REFERENCING OLD TABLE AS old_points NEW TABLE AS new_points
    FOR EACH STATEMENT EXECUTE FUNCTION patrol_points_check_updated();
"""

# The cascade searches only the deleted patrols' months (pruned when the plan runs).
CASCADE = """
CREATE OR REPLACE FUNCTION patrols_delete_points() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM patrol_points
    WHERE patrol_id = ANY(ARRAY(SELECT id FROM old_patrols))
      AND patrol_day = ANY(ARRAY(SELECT DISTINCT patrol_day FROM old_patrols));
    RETURN NULL;
END $$
"""

PREVIOUS_CASCADE = """
CREATE OR REPLACE FUNCTION patrols_delete_points() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM patrol_points WHERE patrol_id = ANY(ARRAY(SELECT id FROM old_patrols));
    RETURN NULL;
END $$
"""

PLAIN = f"""
CREATE TABLE patrol_points_plain ({COLUMNS},
    CONSTRAINT pk_patrol_points_plain PRIMARY KEY (patrol_id, seq)
);
INSERT INTO patrol_points_plain ({FIELDS}) SELECT {FIELDS} FROM patrol_points;
DROP TABLE patrol_points;
ALTER TABLE patrol_points_plain RENAME TO patrol_points;
ALTER TABLE patrol_points RENAME CONSTRAINT pk_patrol_points_plain TO pk_patrol_points;
CREATE INDEX ix_patrol_points_geom ON patrol_points USING brin (geom);
CREATE UNIQUE INDEX ix_patrol_points_live_time ON patrol_points (patrol_id, time) WHERE live;
"""


def upgrade() -> None:
    """Apply this migration."""
    op.execute("ALTER TABLE patrols ADD COLUMN patrol_day date")
    op.execute("UPDATE patrols SET patrol_day = (created_at AT TIME ZONE 'Asia/Shanghai')::date")
    op.execute("ALTER TABLE patrols ALTER COLUMN patrol_day SET NOT NULL")
    op.execute(f"ALTER TABLE patrols ALTER COLUMN patrol_day SET DEFAULT {LOCAL_DAY}")
    op.execute("DROP TRIGGER patrol_points_check_inserted ON patrol_points")
    op.execute("DROP TRIGGER patrol_points_check_updated ON patrol_points")
    op.execute("ALTER TABLE patrol_points RENAME TO patrol_points_plain")
    op.execute("ALTER TABLE patrol_points_plain RENAME CONSTRAINT pk_patrol_points TO pk_plain")
    op.execute("ALTER INDEX ix_patrol_points_geom RENAME TO ix_plain_geom")
    op.execute("ALTER INDEX ix_patrol_points_live_time RENAME TO ix_plain_live_time")
    op.execute(PARTITIONED)
    op.execute(MONTHS)
    op.execute(COPY_IN)
    op.execute("DROP TABLE patrol_points_plain")
    op.execute(CHECKS)
    op.execute(CASCADE)


def downgrade() -> None:
    """Revert this migration."""
    op.execute(PLAIN)
    op.execute(CHECKS)
    op.execute(PREVIOUS_CASCADE)
    op.execute("ALTER TABLE patrols DROP COLUMN patrol_day")
