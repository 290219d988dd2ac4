#!/bin/sh
# First start of the database container: Orthanc's index gets a database of its own beside the
# portal's (the same server; "Scaling out" in the README says how to split them).
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
    -c 'CREATE DATABASE orthanc'
