#!/bin/sh
# Run once by the postgres image when it creates the database (docker-entrypoint-initdb.d):
# lets the replica service stream from this server (its default pg_hba.conf allows only
# ordinary connections from other containers).
set -e
echo "host replication all all scram-sha-256" >> "$PGDATA/pg_hba.conf"
