#!/usr/bin/env bash
# Makes sure the PostgreSQL server binaries the tests start a throwaway server from are
# installed (the tests need initdb and pg_ctl; no server is started or enabled here).
set -euo pipefail
have_pg() {
    local dir
    dir="$(pg_config --bindir 2>/dev/null || true)"
    [[ -n "$dir" && -x "$dir/initdb" && -x "$dir/pg_ctl" ]] && return 0
    compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null
}
if ! have_pg; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends postgresql >/dev/null
fi
have_pg || { echo "PostgreSQL server binaries still missing after install" >&2; exit 1; }
