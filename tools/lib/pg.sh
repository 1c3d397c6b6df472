# shellcheck shell=bash
# tools/lib/pg.sh — the private PostgreSQL cluster of tools/up and tools/check, under $TUTORD_VAR/pg.
#
#   pg_start           create the cluster if needed, clean up after a crash, start it, make db tutord
#   pg_stop            stop it (fast, then immediate), and end any of its processes still alive
#   pg_conninfo [DB]   libpq conninfo of a database in it (default tutord)
#   pg_psql DB ARGS..  psql as the cluster's superuser
#
# Layout (td_config.c's default TUTORD_DB points at the socket directory, so keep to it):
#   $TUTORD_VAR/pg/data            the cluster, owned by the postgres user, mode 0700
#   $TUTORD_VAR/pg/run             unix socket directory (no TCP: listen_addresses = '')
#   $TUTORD_VAR/pg/postgresql.log  server log
#
# PostgreSQL refuses to run as root, so as root the server runs as the `postgres` user (runuser);
# as anyone else it runs as that user. The postgres user must be able to reach the directory; when
# it cannot (TUTORD_VAR under /root, or a 0700 temporary folder), $TUTORD_VAR/pg becomes a symlink
# to /var/lib/tutord/pg-<hash of TUTORD_VAR> and the server is given the real path.
#
# Crash recovery: a server's processes all have the data directory as their working directory,
# so "our processes" are exactly those whose /proc/PID/cwd is the data directory. Before a start
# any such leftover (a postmaster whose tools/up was killed, orphaned backends after a kill -9) is
# stopped, and a postmaster.pid or socket lock whose process is not ours is removed as stale.

TD_PG_BIN="${TUTORD_PG_BIN:-}"
if [ -z "$TD_PG_BIN" ]; then
    TD_PG_BIN="$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin 2>/dev/null | sort -V | tail -n 1)"
fi
# 1 while this shell has a server running that it started (tools/up and tools/check read it).
# shellcheck disable=SC2034
TD_PG_STARTED=0

# Run a command as the cluster's owner, from / (initdb and pg_ctl refuse a cwd they cannot read).
td_as_pg () {
    if [ "$(id -u)" -eq 0 ]; then
        (cd / && runuser -u postgres -- "$@")
    else
        (cd / && "$@")
    fi
}

td_pg_owner () { if [ "$(id -u)" -eq 0 ]; then echo postgres; else id -un; fi; }

# Set TD_PG_DIR (as we address it), TD_PG_REAL (as the server sees it), data/run/log paths,
# creating the directories with the right owner when missing.
td_pg_paths () {
    [ -n "${TUTORD_VAR:-}" ] || td_die "TUTORD_VAR is not set"
    [ -x "$TD_PG_BIN/pg_ctl" ] || td_die "PostgreSQL server binaries not found under /usr/lib/postgresql (package postgresql)"
    local owner; owner="$(td_pg_owner)"
    TD_PG_DIR="$TUTORD_VAR/pg"
    if [ ! -e "$TD_PG_DIR" ]; then
        if td_as_pg test -x "$TUTORD_VAR" 2>/dev/null; then
            mkdir -m 0700 -- "$TD_PG_DIR"
        else
            local hash real
            hash="$(printf '%s' "$TUTORD_VAR" | sha256sum | cut -c1-16)"
            real="/var/lib/tutord/pg-$hash"
            mkdir -p /var/lib/tutord
            chmod 0755 /var/lib/tutord
            mkdir -p -- "$real"
            chmod 0700 -- "$real"
            ln -s -- "$real" "$TD_PG_DIR"
            td_note "postgres cannot reach $TUTORD_VAR; the cluster lives in $real (linked from $TD_PG_DIR)"
        fi
    fi
    TD_PG_REAL="$(cd -- "$TD_PG_DIR" && pwd -P)"
    if [ "$(id -u)" -eq 0 ]; then
        chown "$owner:" -- "$TD_PG_REAL"
        chmod 0700 -- "$TD_PG_REAL"
        td_as_pg test -x "$TD_PG_REAL" \
            || td_die "the postgres user cannot reach $TD_PG_REAL: make its parent folders searchable (chmod o+x) or choose another TUTORD_VAR"
    fi
    TD_PG_DATA="$TD_PG_REAL/data"
    TD_PG_RUN="$TD_PG_REAL/run"
    TD_PG_LOG="$TD_PG_REAL/postgresql.log"
    TD_PG_SOCKDIR="$TUTORD_VAR/pg/run"          # the path clients use (td_config.c's default)
    local sock
    for sock in "$TD_PG_SOCKDIR/.s.PGSQL.5432" "$TD_PG_RUN/.s.PGSQL.5432"; do
        [ "${#sock}" -lt 108 ] || td_die "socket path $sock is too long for a unix socket (max 107 bytes): choose a shorter TUTORD_VAR"
    done
    mkdir -p -- "$TD_PG_RUN"
    chmod 0700 -- "$TD_PG_RUN"
    [ "$(id -u)" -ne 0 ] || chown "$owner:" -- "$TD_PG_RUN"
}

td_pg_conf_quote () { printf "'%s'" "${1//\'/\'\'}"; }

# PIDs of processes whose working directory is our data directory (the server and its children).
td_pg_pids () {
    local d link
    for d in /proc/[0-9]*; do
        link="$(readlink "$d/cwd" 2>/dev/null)" || continue
        [ "$link" = "$TD_PG_DATA" ] && printf '%s\n' "${d#/proc/}"
    done
    return 0
}

# 0 when postmaster.pid names a live process of this cluster.
td_pg_running () {
    local pid link
    [ -f "$TD_PG_DATA/postmaster.pid" ] || return 1
    pid="$(head -n 1 "$TD_PG_DATA/postmaster.pid" 2>/dev/null)" || return 1
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    link="$(readlink "/proc/$pid/cwd" 2>/dev/null)" || return 1
    [ "$link" = "$TD_PG_DATA" ]
}

# End every process of this cluster still alive: TERM, up to 5 s, then KILL.
td_pg_kill_leftovers () {
    local pids _
    pids="$(td_pg_pids)"
    [ -n "$pids" ] || return 0
    td_note "ending leftover PostgreSQL processes of $TD_PG_DATA: $(echo "$pids" | tr '\n' ' ')"
    # shellcheck disable=SC2086
    kill -TERM $pids 2>/dev/null || true
    for _ in $(seq 50); do
        pids="$(td_pg_pids)"
        [ -n "$pids" ] || return 0
        sleep 0.1
    done
    # shellcheck disable=SC2086
    kill -KILL $pids 2>/dev/null || true
    for _ in $(seq 50); do
        [ -n "$(td_pg_pids)" ] || return 0
        sleep 0.1
    done
    td_die "PostgreSQL processes of $TD_PG_DATA will not end"
}

td_pg_initdb () {
    if [ -d "$TD_PG_DATA" ] && [ ! -f "$TD_PG_DATA/PG_VERSION" ]; then
        td_note "removing an incomplete cluster at $TD_PG_DATA"
        rm -rf -- "$TD_PG_DATA"
    fi
    [ -f "$TD_PG_DATA/PG_VERSION" ] && return 0
    td_note "creating a private PostgreSQL cluster in $TD_PG_DATA"
    local -a sync=()
    [ "${TD_PG_FAST:-0}" = 1 ] && sync=(--no-sync)
    if ! td_as_pg "$TD_PG_BIN/initdb" -D "$TD_PG_DATA" -U postgres -E UTF8 --locale=C.UTF-8 \
            --auth-local=trust --auth-host=reject "${sync[@]}" >"$TD_PG_REAL/initdb.log" 2>&1; then
        cat "$TD_PG_REAL/initdb.log" >&2
        rm -rf -- "$TD_PG_DATA"
        td_die "initdb failed"
    fi
    printf "\n# tools/lib/pg.sh writes tutord.conf on every start\ninclude_if_exists = 'tutord.conf'\n" \
        | td_as_pg tee -a "$TD_PG_DATA/postgresql.conf" >/dev/null
}

# Settings rewritten on each start, so a moved TUTORD_VAR or a changed mode takes effect.
td_pg_write_conf () {
    local fsync=on
    [ "${TD_PG_FAST:-0}" = 1 ] && fsync=off
    {
        echo "# Written by tools/lib/pg.sh on each start: private cluster, unix socket only."
        echo "listen_addresses = ''"
        echo "unix_socket_directories = $(td_pg_conf_quote "$TD_PG_RUN")"
        echo "unix_socket_permissions = 0700"
        echo "max_connections = 200"
        echo "fsync = $fsync"
        echo "synchronous_commit = $fsync"
        echo "full_page_writes = $fsync"
    } | td_as_pg tee "$TD_PG_DATA/tutord.conf" >/dev/null
}

pg_conninfo () { printf 'host=%s dbname=%s user=postgres' "$TD_PG_SOCKDIR" "${1:-tutord}"; }

pg_psql () {
    local db="$1"; shift
    "$TD_PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$TD_PG_SOCKDIR" -U postgres -d "$db" "$@"
}

# pg_createdb NAME [fresh]: create database NAME if missing; with "fresh", drop it first.
pg_createdb () {
    local name="$1" fresh="${2:-}"
    [[ "$name" =~ ^[a-z_][a-z0-9_]*$ ]] || td_die "bad database name '$name'"
    if [ "$fresh" = fresh ]; then
        pg_psql postgres -c "DROP DATABASE IF EXISTS $name WITH (FORCE)" >/dev/null
    fi
    if [ -z "$(pg_psql postgres -Atc "SELECT 1 FROM pg_database WHERE datname = '$name'")" ]; then
        pg_psql postgres -c "CREATE DATABASE $name" >/dev/null
    fi
}

pg_start () {
    td_pg_paths
    td_pg_initdb
    if td_pg_running; then
        td_note "a PostgreSQL of $TD_PG_DATA is already running (left by an earlier run); restarting it"
        td_as_pg "$TD_PG_BIN/pg_ctl" -D "$TD_PG_DATA" -m fast -w -t 30 -s stop 9>&- || true
    fi
    td_pg_kill_leftovers
    # Nothing of ours runs now: a pid file or socket lock left behind is stale.
    rm -f -- "$TD_PG_DATA/postmaster.pid" "$TD_PG_RUN"/.s.PGSQL.* 2>/dev/null || true
    td_pg_write_conf
    : >>"$TD_PG_LOG"
    [ "$(id -u)" -ne 0 ] || chown "$(td_pg_owner):" -- "$TD_PG_LOG"
    if ! td_as_pg "$TD_PG_BIN/pg_ctl" -D "$TD_PG_DATA" -l "$TD_PG_LOG" -w -t 60 -s start 9>&- >/dev/null; then
        tail -n 20 "$TD_PG_LOG" >&2 || true
        td_pg_kill_leftovers
        td_die "PostgreSQL did not start (log: $TD_PG_LOG)"
    fi
    TD_PG_STARTED=1
    pg_createdb tutord
}

pg_stop () {
    [ -n "${TD_PG_DATA:-}" ] || return 0
    if td_pg_running; then
        td_as_pg "$TD_PG_BIN/pg_ctl" -D "$TD_PG_DATA" -m fast -w -t 30 -s stop 9>&- >/dev/null 2>&1 \
            || td_as_pg "$TD_PG_BIN/pg_ctl" -D "$TD_PG_DATA" -m immediate -w -t 30 -s stop 9>&- >/dev/null 2>&1 \
            || true
    fi
    td_pg_kill_leftovers
    # shellcheck disable=SC2034
    TD_PG_STARTED=0
}
