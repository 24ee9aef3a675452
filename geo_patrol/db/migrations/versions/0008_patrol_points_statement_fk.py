"""Patrol fixes: their patrol is checked once per statement instead of once per row.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27
Introduced in: geo-patrol 0.1.0

The foreign key patrol_points.patrol_id -> patrols(id) ON DELETE CASCADE checked every
inserted fix on its own: PostgreSQL's row-level check looked up (and locked) the same patrol
a million times for a million-fix upload, 2.7 s of the 6.1 s that storing it took. These
statement-level triggers keep the same guarantees with one look-up per statement:

- after an INSERT (and an UPDATE that brings in new patrol ids), the distinct patrol ids of
  the new rows must exist; they are locked FOR KEY SHARE, as the built-in check does, so a
  concurrent delete of the patrol waits for this transaction, and a patrol deleted before the
  lock was granted counts as missing. The error is the foreign key's own (SQLSTATE 23503,
  constraint fk_patrol_points_patrol_id_patrols), so callers see no difference;
- after a DELETE of patrols, their fixes are deleted (the cascade); TRUNCATE of patrols
  truncates the fixes; changing a patrol's id is refused while fixes still point at the old
  one (the constraint's NO ACTION on update).

One difference remains, under REPEATABLE READ only: a patrol delete that waited for a
concurrent insert of its fixes does not see them (they are newer than its snapshot), where
the built-in cascade would raise a serialization failure. READ COMMITTED (what geo-patrol
uses throughout) sees them, and SERIALIZABLE refuses the pair as a read/write conflict.

Growth path (docs DESIGN "Growth path": Citus, sharded by jurisdiction): Citus does not run
triggers on distributed tables by default (citus.enable_unsafe_triggers; a trigger then runs
on each shard, where patrols may not be), while it supports a foreign key between co-located
distributed tables that includes the distribution column. Moving to Citus therefore means
going back to a foreign key, (jurisdiction, patrol_id) -> patrols: this migration's
downgrade restores the plain one, and its per-row cost is then spread over the workers.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CONSTRAINT = "fk_patrol_points_patrol_id_patrols"

REQUIRE = f"""
CREATE FUNCTION patrol_points_require_patrols(ids bigint[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    missing bigint;
BEGIN
    -- Lock, then compare: a patrol deleted while we waited for its lock is not returned.
    WITH locked AS MATERIALIZED (
        SELECT id FROM patrols WHERE id = ANY (ids) FOR KEY SHARE
    )
    SELECT i INTO missing FROM unnest(ids) AS i
    WHERE i NOT IN (SELECT id FROM locked) LIMIT 1;
    IF missing IS NOT NULL THEN
        RAISE EXCEPTION 'insert or update on table "patrol_points" violates foreign key '
                        'constraint "{CONSTRAINT}"'
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = '{CONSTRAINT}',
                  TABLE = 'patrol_points', COLUMN = 'patrol_id',
                  DETAIL = format('Key (patrol_id)=(%s) is not present in table "patrols".',
                                  missing);
    END IF;
END $$
"""

INSERTED = """
CREATE FUNCTION patrol_points_check_inserted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM patrol_points_require_patrols(
        ARRAY(SELECT DISTINCT patrol_id FROM new_points));
    RETURN NULL;
END $$
"""

UPDATED = """
CREATE FUNCTION patrol_points_check_updated() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    -- Only ids the statement brings in: the others already had fixes pointing at them.
    PERFORM patrol_points_require_patrols(
        ARRAY(SELECT patrol_id FROM new_points EXCEPT SELECT patrol_id FROM old_points));
    RETURN NULL;
END $$
"""

CASCADE = """
CREATE FUNCTION patrols_delete_points() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM patrol_points WHERE patrol_id IN (SELECT id FROM old_patrols);
    RETURN NULL;
END $$
"""

TRUNCATE = """
CREATE FUNCTION patrols_truncate_points() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    TRUNCATE patrol_points;
    RETURN NULL;
END $$
"""

KEEP_ID = f"""
CREATE FUNCTION patrols_keep_referenced_id() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM patrol_points WHERE patrol_id = OLD.id)
       AND NOT EXISTS (SELECT 1 FROM patrols WHERE id = OLD.id) THEN
        RAISE EXCEPTION 'update or delete on table "patrols" violates foreign key constraint '
                        '"{CONSTRAINT}" on table "patrol_points"'
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = '{CONSTRAINT}',
                  TABLE = 'patrol_points', COLUMN = 'patrol_id',
                  DETAIL = format('Key (id)=(%s) is still referenced from table '
                                  '"patrol_points".', OLD.id);
    END IF;
    RETURN NULL;
END $$
"""

TRIGGERS = """
CREATE TRIGGER patrol_points_check_inserted AFTER INSERT ON patrol_points
    REFERENCING NEW TABLE AS new_points
    FOR EACH STATEMENT EXECUTE FUNCTION patrol_points_check_inserted();
CREATE TRIGGER patrol_points_check_updated AFTER UPDATE ON patrol_points
    REFERENCING OLD TABLE AS old_points NEW TABLE AS new_points
    FOR EACH STATEMENT EXECUTE FUNCTION patrol_points_check_updated();
CREATE TRIGGER patrols_delete_points AFTER DELETE ON patrols
    REFERENCING OLD TABLE AS old_patrols
    FOR EACH STATEMENT EXECUTE FUNCTION patrols_delete_points();
CREATE TRIGGER patrols_truncate_points AFTER TRUNCATE ON patrols
    FOR EACH STATEMENT EXECUTE FUNCTION patrols_truncate_points();
CREATE TRIGGER patrols_keep_referenced_id AFTER UPDATE OF id ON patrols
    FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id)
    EXECUTE FUNCTION patrols_keep_referenced_id();
"""

# (table, trigger) and the functions, in the order they are dropped.
DROP_TRIGGERS = (
    ("patrol_points", "patrol_points_check_inserted"),
    ("patrol_points", "patrol_points_check_updated"),
    ("patrols", "patrols_delete_points"),
    ("patrols", "patrols_truncate_points"),
    ("patrols", "patrols_keep_referenced_id"),
)
DROP_FUNCTIONS = (
    "patrol_points_check_inserted()",
    "patrol_points_check_updated()",
    "patrol_points_require_patrols(bigint[])",
    "patrols_delete_points()",
    "patrols_truncate_points()",
    "patrols_keep_referenced_id()",
)


def upgrade() -> None:
    """Apply this migration."""
    op.drop_constraint(CONSTRAINT, "patrol_points", type_="foreignkey")
    for function in (REQUIRE, INSERTED, UPDATED, CASCADE, TRUNCATE, KEEP_ID):
        op.execute(function)
    op.execute(TRIGGERS)


def downgrade() -> None:
    """Revert this migration."""
    for table, trigger in DROP_TRIGGERS:
        op.execute(f"DROP TRIGGER {trigger} ON {table}")
    for function in DROP_FUNCTIONS:
        op.execute(f"DROP FUNCTION {function}")
    op.create_foreign_key(
        CONSTRAINT, "patrol_points", "patrols", ["patrol_id"], ["id"], ondelete="CASCADE"
    )
