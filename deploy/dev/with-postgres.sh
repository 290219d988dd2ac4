#!/usr/bin/env bash
# Run a command against a throwaway PostgreSQL server of its own: data in a temp dir, listening on
# a free loopback port, stopped and removed on exit, failure included. The command gets
# DATABASE_URL. Installs Debian's postgresql package when the server is missing and we are root.
set -euo pipefail

find_pg_bin() {
    local dir
    for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
        [ -x "$dir/initdb" ] && { echo "$dir"; return 0; }
    done
    command -v initdb >/dev/null 2>&1 && { dirname "$(readlink -f "$(command -v initdb)")"; return 0; }
    return 1
}

PG_BIN=$(find_pg_bin || true)
if [ -z "$PG_BIN" ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "with-postgres: PostgreSQL server not found; installing Debian's postgresql package" >&2
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
        PG_BIN=$(find_pg_bin)
    else
        echo "with-postgres: PostgreSQL server not found. Install it: sudo apt-get install postgresql" >&2
        exit 1
    fi
fi

TMP_ROOT=$(mktemp -d "${TMPDIR:-/tmp}/preview-dicom-pg.XXXXXX")
RUN_AS=()
if [ "$(id -u)" = 0 ]; then
    # PostgreSQL refuses to run as root: run it as the postgres system user.
    id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
    chown postgres "$TMP_ROOT"
    RUN_AS=(runuser -u postgres --)
fi
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

cleanup() {
    "${RUN_AS[@]}" "$PG_BIN/pg_ctl" -D "$TMP_ROOT/data" -m fast -w stop >/dev/null 2>&1 || true
    rm -rf "$TMP_ROOT"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"${RUN_AS[@]}" "$PG_BIN/initdb" -D "$TMP_ROOT/data" -U postgres -A trust -E UTF8 --no-sync >/dev/null
# Durability is pointless for a throwaway test server; speed is not.
"${RUN_AS[@]}" "$PG_BIN/pg_ctl" -D "$TMP_ROOT/data" -l "$TMP_ROOT/server.log" -w -t 60 \
    -o "-p $PORT -k $TMP_ROOT -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
    start >/dev/null
echo "with-postgres: PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PORT" >&2

export DATABASE_URL="postgres://postgres@127.0.0.1:$PORT/postgres"
"$@"
