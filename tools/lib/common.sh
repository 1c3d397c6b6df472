# shellcheck shell=bash
# tools/lib/common.sh — small helpers every tools/ script sources: messages, the repo root,
# TUTORD_VAR made absolute, and running a command as root (apt-get) when we are not root.
#
# Sourced, never run. Callers have `set -euo pipefail` on; nothing here changes that.

# The repository root: the folder above tools/.
TD_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
export TD_ROOT

td_note () { printf '%s: %s\n' "${TD_PROG:-tutord}" "$*" >&2; }
td_die ()  { printf '%s: error: %s\n' "${TD_PROG:-tutord}" "$*" >&2; exit 1; }

# Run a command as root: directly when we are root, else through sudo (CONTRACT §1: root or sudo).
td_as_root () {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        td_die "'$*' needs root: run as root or install sudo"
    fi
}

# Resolve TUTORD_VAR to an absolute path (default: <repo>/var; a relative value is taken from the
# caller's working directory), create it, and export it so tutord and tutorctl see the same one.
td_resolve_var () {
    local default="$1" var="${TUTORD_VAR:-}"
    [ -n "$var" ] || var="$default"
    mkdir -p -- "$var" || td_die "TUTORD_VAR='$var' cannot be created"
    TUTORD_VAR="$(cd -- "$var" && pwd -P)"
    export TUTORD_VAR
}

# td_http_status HOST:PORT PATH — the HTTP status code of a GET (empty when nothing answers
# within 3 s). Plain bash (/dev/tcp), so it needs no curl on a fresh machine.
td_http_status () {
    local hostport="$1" path="$2" host port
    host="${hostport%:*}"
    port="${hostport##*:}"
    host="${host#[}"
    host="${host%]}"
    [ "$host" = "0.0.0.0" ] && host=127.0.0.1
    # shellcheck disable=SC2016
    timeout 3 bash -c '
        exec 3<>"/dev/tcp/$1/$2" || exit 1
        printf "GET %s HTTP/1.0\r\nHost: %s\r\nConnection: close\r\n\r\n" "$3" "$1" >&3
        IFS=" " read -r _ code _ <&3 && printf "%s" "$code"' _ "$host" "$port" "$path" 2>/dev/null || true
}

# PIDs of tutord processes started with this TUTORD_VAR (their environment says so): what a
# killed tools/up leaves running.
td_tutord_pids_of_var () {
    local d exe
    for d in /proc/[0-9]*; do
        exe="$(readlink "$d/exe" 2>/dev/null)" || continue
        exe="${exe% (deleted)}"
        [ "${exe##*/}" = tutord ] || continue
        if tr '\0' '\n' <"$d/environ" 2>/dev/null | grep -qxF "TUTORD_VAR=$TUTORD_VAR"; then
            printf '%s\n' "${d#/proc/}"
        fi
    done
    return 0
}

# Stop such leftovers (TERM, up to 15 s for their drain, then KILL) before starting anew.
td_stop_stale_tutord () {
    local pids _
    pids="$(td_tutord_pids_of_var)"
    [ -n "$pids" ] || return 0
    td_note "stopping a leftover tutord of $TUTORD_VAR: $(echo "$pids" | tr '\n' ' ')"
    # shellcheck disable=SC2086
    kill -TERM $pids 2>/dev/null || true
    for _ in $(seq 150); do
        [ -n "$(td_tutord_pids_of_var)" ] || return 0
        sleep 0.1
    done
    # shellcheck disable=SC2086
    pids="$(td_tutord_pids_of_var)"
    # shellcheck disable=SC2086
    [ -z "$pids" ] || kill -KILL $pids 2>/dev/null || true
    sleep 0.2
}
