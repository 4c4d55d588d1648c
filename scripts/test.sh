#!/usr/bin/env bash
# Bootstrap the machine (scripts/bootstrap.sh), then run pytest from the repo's .venv.
# Usage: scripts/test.sh [pytest args...]   (default: -q -ra tests)
# The exit code is pytest's, except that "no tests collected" (pytest's 5) is a failure too.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

bash scripts/bootstrap.sh

[ "$#" -gt 0 ] || set -- -q -ra tests
set +e
"$ROOT/.venv/bin/python" -m pytest "$@"
rc=$?
set -e
if [ "$rc" -eq 5 ]; then
    echo "[test] ERROR: pytest collected no tests" >&2
    exit 1
fi
exit "$rc"
