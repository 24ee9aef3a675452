#!/usr/bin/env bash
# The primary's replication role, made once when its cluster is created: the image runs the
# files of /docker-entrypoint-initdb.d after initdb (compose.yaml mounts this one there). The
# replica (replica.sh) copies the primary with pg_basebackup and then streams its WAL as this
# role. The password comes from the environment (GEO_PATROL_REPLICATION_PASSWORD in the shell
# that runs docker compose), never from a file. A cluster made before this file was added does
# not run it: docs/operators/several-nodes.md gives the two statements to run by hand.
#
# No `set -u` and no `exit`: the image sources a script that is not executable, and both would
# then act on its own entrypoint.
set -e

psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  --set role="${REPLICATION_USER:-replicator}" \
  --set password="${REPLICATION_PASSWORD:?set GEO_PATROL_REPLICATION_PASSWORD}" <<'SQL'
CREATE ROLE :"role" WITH REPLICATION LOGIN PASSWORD :'password';
SQL

# The image's pg_hba.conf lets every address connect to every database with a password, but
# `all` does not cover replication connections: they need a line of their own.
echo "host replication ${REPLICATION_USER:-replicator} all scram-sha-256" >>"$PGDATA/pg_hba.conf"
echo "replication role ${REPLICATION_USER:-replicator} created, pg_hba.conf line added"
