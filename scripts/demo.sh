#!/usr/bin/env bash
# The main job, runnable on a fresh Debian machine: install what is missing, start dockerd,
# build the local whoami image, start two labelled containers, and let pygen render a
# template from them to stdout. Cleans up its containers on exit. Idempotent.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash scripts/bootstrap.sh >&2

LABEL="pygen.demo=render"
cleanup() { docker ps -aq --filter "label=$LABEL" | xargs -r docker rm -f >/dev/null; }
trap cleanup EXIT
cleanup
for name in web-a web-b; do
    docker run -d --label "$LABEL" --label "com.example.role=$name" --name "pygen-demo-$name" \
        -p 127.0.0.1::8000 local/whoami:latest >/dev/null
done
echo "== pygen -container-filter label=$LABEL examples/basic/containers.tmpl" >&2
.venv/bin/pygen -container-filter "label=$LABEL" examples/basic/containers.tmpl
