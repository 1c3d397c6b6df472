# shellcheck shell=bash
# tools/lib/node.sh — ensure_browser_tools: what the browser test (tests/api/test_browser.py)
# needs besides Debian's chromium (in tools/lib/packages): Node.js with npm, and playwright-core
# from the npm registry in tests/browser/node_modules, exactly as tests/browser/package-lock.json
# pins it. Only tools/check calls it: tools/up serves the client and needs neither.
#
# A machine with node and npm already (as CI's has) keeps them; one without gets Debian's nodejs
# and npm. npm ci runs only when node_modules is missing or older than the lock file.

ensure_browser_tools () {
    [ "${TUTORD_SKIP_DEPS:-0}" = 1 ] && return 0
    local dir="$TD_ROOT/tests/browser"
    if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
        td_note "installing Node.js and npm (Debian's) for the browser test"
        td_as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q nodejs npm \
            || td_die "apt-get install failed for: nodejs npm"
    fi
    if [ ! -f "$dir/node_modules/playwright-core/package.json" ] \
       || [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
        td_note "installing playwright-core into tests/browser/node_modules (npm ci)"
        (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error) \
            || td_die "npm ci failed in tests/browser"
    fi
}
