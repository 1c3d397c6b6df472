# shellcheck shell=bash
# tools/lib/deps.sh — ensure_packages: install the Debian packages of tools/lib/packages that are
# missing, so a fresh bookworm machine (CI included) gets everything from the project's own files.
#
# Asking dpkg is fast, so this runs on every tools/up and tools/check; apt-get update runs once,
# and only when something is missing. TUTORD_SKIP_DEPS=1 skips the whole step (e.g. a machine
# without apt that has the libraries some other way).

ensure_packages () {
    [ "${TUTORD_SKIP_DEPS:-0}" = 1 ] && return 0
    local list="$TD_ROOT/tools/lib/packages" pkg status
    local -a missing=()
    [ -r "$list" ] || td_die "missing $list"
    command -v dpkg-query >/dev/null 2>&1 || td_die "dpkg-query not found: tools/up needs Debian (bookworm) or TUTORD_SKIP_DEPS=1"
    while IFS= read -r pkg; do
        pkg="${pkg%%#*}"
        pkg="${pkg//[[:space:]]/}"
        [ -n "$pkg" ] || continue
        status="$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)"
        [ "$status" = "install ok installed" ] || missing+=("$pkg")
    done < "$list"
    [ "${#missing[@]}" -eq 0 ] && return 0
    td_note "installing missing packages: ${missing[*]}"
    td_as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q \
        || td_die "apt-get update failed"
    td_as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" \
        || td_die "apt-get install failed for: ${missing[*]}"
}
