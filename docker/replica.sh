#!/usr/bin/env bash
# Entrypoint of the streaming replica (compose.yaml, service `replica`): on the first start,
# when $PGDATA holds no cluster yet, copy the primary with pg_basebackup -R (which writes
# standby.signal and primary_conninfo), add a restore_command reading the primary's WAL archive
# (mounted read-only at /archive: a replica that fell behind further than the primary's pg_wal
# catches up from there), then hand over to the image's own entrypoint, which starts
# PostgreSQL as a hot standby. Later starts go straight to the image's entrypoint.
#
# The copy is made in $PGDATA.partial and renamed when complete: a copy cut off half-way is
# never started as a cluster, the next start begins again.
set -euo pipefail

log() { printf '%s replica.sh: %s\n' "$(date -u +%FT%TZ)" "$*" >&2; }

pgdata=${PGDATA:?PGDATA is not set}
primary_host=${PRIMARY_HOST:-db}
primary_port=${PRIMARY_PORT:-5432}
user=${REPLICATION_USER:-replicator}

if [[ ! -s $pgdata/PG_VERSION ]]; then
  : "${REPLICATION_PASSWORD:?set GEO_PATROL_REPLICATION_PASSWORD}"
  partial=$pgdata.partial
  rm -rf "$partial"
  install -d -o postgres -g postgres -m 0700 "$partial"
  until pg_isready -q -h "$primary_host" -p "$primary_port"; do
    log "waiting for the primary at $primary_host:$primary_port"
    sleep 2
  done
  log "copying the primary $primary_host:$primary_port into $pgdata (pg_basebackup -R)"
  started=$(date +%s)
  # The password reaches pg_basebackup in its environment, never on a command line; -R keeps
  # it in primary_conninfo (postgresql.auto.conf, readable by postgres only).
  PGPASSWORD=$REPLICATION_PASSWORD gosu postgres pg_basebackup \
    --dbname="host=$primary_host port=$primary_port user=$user application_name=replica" \
    --pgdata="$partial" --write-recovery-conf --wal-method=stream --checkpoint=fast \
    --no-password
  echo "restore_command = 'cp /archive/wal/%f %p'" >>"$partial/postgresql.auto.conf"
  mv "$partial" "$pgdata"
  log "copy complete in $(($(date +%s) - started)) s; starting as a standby"
fi

exec docker-entrypoint.sh "$@"
