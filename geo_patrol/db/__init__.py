"""The database: engine and sessions, tables, embedded cluster, migrations, bulk COPY, backups."""
