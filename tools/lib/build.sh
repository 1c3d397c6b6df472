# shellcheck shell=bash
# tools/lib/build.sh — the three CMake configurations tools/up and tools/check build, in one place
# so both scripts build them the same way:
#   build/release  Release                                  what tools/up runs
#   build/debug    Debug + ASan/UBSan (TUTORD_SANITIZE=ON)  what tools/check tests
#   build/fuzz     clang + libFuzzer targets (TUTORD_FUZZ)  what tests/fuzz/run drives
#
# Configuring again is cheap and idempotent, so every call configures then builds; make only
# rebuilds what changed. Output goes to the terminal (or to the caller's redirection).

td_jobs () { nproc 2>/dev/null || echo 2; }

# td_build DIR [TARGET] -- CMAKE_ARGS...
td_build () {
    local dir="$1"; shift
    local target=""
    if [ "$#" -gt 0 ] && [ "$1" != "--" ]; then target="$1"; shift; fi
    [ "${1:-}" = "--" ] && shift
    # A build folder configured from another source tree (a copied checkout, an experiment) makes
    # cmake refuse; it holds nothing but build output, so start it afresh.
    local cache="$dir/CMakeCache.txt" home
    if [ -f "$cache" ]; then
        home="$(sed -n 's/^CMAKE_HOME_DIRECTORY:INTERNAL=//p' "$cache")"
        if [ -n "$home" ] && [ "$(cd "$home" 2>/dev/null && pwd -P)" != "$(cd "$TD_ROOT" && pwd -P)" ]; then
            td_note "$dir was configured for $home: starting it afresh"
            rm -rf -- "$dir"
        fi
    fi
    cmake -S "$TD_ROOT" -B "$dir" "$@" >/dev/null || return 1
    if [ -n "$target" ]; then
        cmake --build "$dir" --target "$target" -j "$(td_jobs)" || return 1
    else
        cmake --build "$dir" -j "$(td_jobs)" || return 1
    fi
}

build_release () { td_build "$TD_ROOT/build/release" "${1:-}" -- -DCMAKE_BUILD_TYPE=Release; }
build_debug ()   { td_build "$TD_ROOT/build/debug" "${1:-}" -- -DCMAKE_BUILD_TYPE=Debug -DTUTORD_SANITIZE=ON; }
build_fuzz ()    { td_build "$TD_ROOT/build/fuzz" "${1:-}" -- -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_COMPILER=clang -DTUTORD_FUZZ=ON; }
