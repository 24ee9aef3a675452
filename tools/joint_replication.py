"""Two administrations' servers share their joint cases: PostgreSQL 15 logical replication
with a row filter, shown on two throwaway local clusters (docs/scale.md, "Joint cases
between two servers").

    .venv/bin/python -m tools.joint_replication

Jiangsu's server ("js") publishes the incidents it owns that are joint cases; Zhejiang's
("zj") subscribes. Each side draws incident ids from its own range (Zhejiang's start at
10^15), so a replicated row never meets an id of the other side. The script:

1. makes two clusters under a temporary folder (the project's embedded cluster, run as the
   postgres user when we are root); Jiangsu's gets wal_level = logical;
2. creates the same `incidents` table on both, with the replica identity (id, origin,
   is_joint): the row filter of an UPDATE or DELETE may only use replica-identity columns;
   Zhejiang's also has a foreign key to its (empty) table of zones;
3. publishes `incidents WHERE (is_joint AND origin = 'js')` and subscribes to it;
4. inserts a joint and a local case in Jiangsu, and a case of Zhejiang's own;
5. waits until Zhejiang has the joint one (its zone unknown there: the apply worker does
   not check foreign keys), then makes the local case joint (an UPDATE that
   now passes the filter arrives as an INSERT) and checks the update of a joint case arrives;
6. makes that case local again with deletes no longer published: it still disappears from
   Zhejiang (an UPDATE that leaves the filter is sent as a DELETE, whatever `publish` says);
7. shows that with the default replica identity (the primary key) an UPDATE is refused;
8. stops both clusters by their data folders and removes the folder.

It prints one JSON report and exits 0 when Zhejiang held exactly the joint cases at each step.

Introduced in: geo-patrol 0.6.0
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg

from geo_patrol.db.embedded import EmbeddedCluster, free_port

ZHEJIANG_FIRST_ID = 10**15 + 1

TABLE = """
CREATE TABLE incidents (
    id bigint GENERATED ALWAYS AS IDENTITY (START WITH {first}) PRIMARY KEY,
    origin text NOT NULL,
    zone_code text,
    is_joint boolean NOT NULL DEFAULT false,
    status text NOT NULL DEFAULT 'reported',
    description text
);
CREATE UNIQUE INDEX incidents_replica ON incidents (id, origin, is_joint);
ALTER TABLE incidents REPLICA IDENTITY USING INDEX incidents_replica
"""
# Zhejiang checks a case's zone against its own zones, which are empty here: a replicated
# row is applied without the check (foreign keys do not fire for the apply worker).
ZONES = """
CREATE TABLE zones (code text PRIMARY KEY);
ALTER TABLE incidents ADD FOREIGN KEY (zone_code) REFERENCES zones (code)
"""
PUBLICATION = (
    "CREATE PUBLICATION joint_cases FOR TABLE incidents WHERE (is_joint AND origin = 'js')"
)
SUBSCRIPTION = "CREATE SUBSCRIPTION joint_from_js CONNECTION '{conninfo}' PUBLICATION joint_cases"


def conninfo(cluster: EmbeddedCluster) -> str:
    """libpq connection string of a cluster's database, over its Unix socket."""
    return f"host={cluster.socket_dir} port={cluster.port()} user=geo_patrol dbname=geo_patrol"


def run(cluster: EmbeddedCluster, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
    """Run one statement (autocommit) and return its rows."""
    with psycopg.connect(conninfo(cluster), autocommit=True) as conn:
        cur = conn.execute(sql.encode(), params) if params else conn.execute(sql.encode())
        return cur.fetchall() if cur.description else []


def wait_for(cluster: EmbeddedCluster, sql: str, expected: list[Any], seconds: float) -> list[Any]:
    """Poll `sql` until it returns `expected` or the time is up; its last rows."""
    deadline = time.monotonic() + seconds
    while True:
        rows = run(cluster, sql)
        if rows == expected or time.monotonic() > deadline:
            return rows
        time.sleep(0.1)


@contextmanager
def two_clusters() -> Iterator[tuple[EmbeddedCluster, EmbeddedCluster]]:
    """Jiangsu's (wal_level = logical) and Zhejiang's clusters; stopped and removed after."""
    folder = Path(tempfile.mkdtemp(prefix="geo-patrol-joint-"))
    folder.chmod(0o755)  # the postgres user must reach the clusters' folders
    js = EmbeddedCluster(folder / "js", preferred_port=free_port())
    zj = EmbeddedCluster(folder / "zj", preferred_port=free_port())
    try:
        js.up()
        run(js, "ALTER SYSTEM SET wal_level = logical")
        js.down()
        js.up()
        zj.up()
        yield js, zj
    finally:
        for cluster in (zj, js):  # the subscriber first: its worker holds a slot on js
            if cluster.initialised():
                cluster.down()
        shutil.rmtree(folder, ignore_errors=True)


def demonstrate(js: EmbeddedCluster, zj: EmbeddedCluster) -> dict[str, Any]:
    """The steps of the module's docstring on two running clusters; what each shows."""
    run(js, TABLE.format(first=1))
    run(zj, TABLE.format(first=ZHEJIANG_FIRST_ID))
    run(zj, ZONES)
    run(js, PUBLICATION)
    run(zj, SUBSCRIPTION.format(conninfo=conninfo(js)))
    insert = "INSERT INTO incidents (origin, zone_code, is_joint, description) VALUES "
    run(js, insert + "('js', 'ZONE-SZ-WJJ', true, 'joint: dye in the border canal')")
    run(js, insert + "('js', NULL, false, 'local: litter in a Shengze ditch')")
    run(zj, insert + "('zj', NULL, false, 'local: Wangjiangjing pump station')")
    arrived = "SELECT id, origin, description FROM incidents WHERE origin = 'js' ORDER BY id"
    first = wait_for(zj, arrived, [(1, "js", "joint: dye in the border canal")], 30)
    run(js, "UPDATE incidents SET is_joint = true, zone_code = 'ZONE-SZ-WJJ' WHERE id = 2")
    run(js, "UPDATE incidents SET status = 'assigned' WHERE id = 1")
    states = "SELECT id, is_joint, status FROM incidents WHERE origin = 'js' ORDER BY id"
    then = wait_for(zj, states, [(1, True, "assigned"), (2, True, "reported")], 30)
    run(js, "ALTER PUBLICATION joint_cases SET (publish = 'insert, update')")
    run(js, "UPDATE incidents SET is_joint = false WHERE id = 2")
    unjoined = wait_for(zj, states, [(1, True, "assigned")], 30)
    run(js, "ALTER TABLE incidents REPLICA IDENTITY DEFAULT")
    try:
        run(js, "UPDATE incidents SET status = 'accepted' WHERE id = 1")
        refused = ""
    except psycopg.Error as error:
        refused = str(error).splitlines()[0]
    return {
        "zhejiang_after_inserts": [list(r) for r in first],
        "zhejiang_after_updates": [list(r) for r in then],
        "zhejiang_after_unjoining_2_without_publishing_deletes": [list(r) for r in unjoined],
        "zhejiang_all_ids": [r[0] for r in run(zj, "SELECT id FROM incidents ORDER BY id")],
        "jiangsu_all_ids": [r[0] for r in run(js, "SELECT id FROM incidents ORDER BY id")],
        "update_refused_with_primary_key_identity": refused,
        "zhejiang_zones": [r[0] for r in run(zj, "SELECT code FROM zones")],
    }


def main() -> int:
    """Run the demonstration and print its report."""
    os.umask(0o022)
    with two_clusters() as (js, zj):
        report = demonstrate(js, zj)
    ok = (
        report["zhejiang_after_inserts"] == [[1, "js", "joint: dye in the border canal"]]
        and report["zhejiang_after_updates"] == [[1, True, "assigned"], [2, True, "reported"]]
        and report["zhejiang_after_unjoining_2_without_publishing_deletes"]
        == [[1, True, "assigned"]]
        and bool(report["update_refused_with_primary_key_identity"])
    )
    print(json.dumps({**report, "ok": ok}, ensure_ascii=False, indent=2))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
