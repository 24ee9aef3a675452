"""docker/compose.yaml: the PostGIS server archives its WAL into a volume of its own."""

from __future__ import annotations

import re
import shlex

from tests.support.compose import compose_file, server_settings


def test_the_database_archives_wal_into_a_mounted_volume() -> None:
    compose = compose_file()
    db = compose["services"]["db"]
    settings = server_settings(db["command"])
    assert db["command"][0] == "postgres"
    assert settings["wal_level"] == "replica" and settings["archive_mode"] == "on"
    # %p is the segment's path, %f its name; never overwrite an archived segment.
    archive = settings["archive_command"]
    target = re.fullmatch(r"test ! -f (\S+)/%f && cp %p \1/%f", archive)
    assert target is not None, archive
    mounts = {mount.split(":")[1]: mount.split(":")[0] for mount in db["volumes"]}
    assert "/archive" in mounts and target.group(1).startswith("/archive/")
    assert mounts["/archive"] in compose["volumes"]
    assert mounts["/archive"] != mounts["/var/lib/postgresql/data"]
    # The entrypoint wrapper creates the folder for postgres, then runs the image's own.
    script = db["entrypoint"][2]
    assert target.group(1) in shlex.split(script)
    assert 'exec docker-entrypoint.sh "$$@"' in script
