#!/usr/bin/env bash
# Make this machine ready for the test suite. Idempotent, non-interactive, safe to run on a bare
# Debian bookworm machine (installs everything) or on one where everything already runs (does nothing).
#   1. apt: docker.io busybox-static etcd-server etcd-client haproxy iproute2 iptables, if a tool is missing
#   2. .venv in the repo root with `pip install -e '.[test]'` (again only when pyproject.toml changed)
#   3. dockerd answering on unix:///var/run/docker.sock (scripts/start-dockerd.sh)
#   4. the test image local/whoami:latest, rebuilt when scripts/build-whoami-image.sh changed
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export DEBIAN_FRONTEND=noninteractive
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"

log() { printf '[bootstrap] %s\n' "$*"; }
die() { printf '[bootstrap] ERROR: %s\n' "$*" >&2; exit 1; }
as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"
    elif command -v sudo >/dev/null; then sudo -n "$@"
    else die "need root for: $*"; fi
}

# ---------------------------------------------------------------- 1. system packages
APT_PKGS=(docker.io busybox-static etcd-server etcd-client haproxy iproute2 iptables)
missing=()
for tool in dockerd etcd etcdctl haproxy ip iptables; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
[ -x /bin/busybox ] || missing+=(/bin/busybox)
PY="${PYTHON:-python3}"
need_venv_pkg=0
if ! command -v "$PY" >/dev/null 2>&1; then
    missing+=(python3); need_venv_pkg=1; PY=python3
elif ! "$PY" -c 'import venv, ensurepip' >/dev/null 2>&1; then
    missing+=(python3-venv); need_venv_pkg=1
fi
if [ "${#missing[@]}" -gt 0 ]; then
    pkgs=("${APT_PKGS[@]}")
    [ "$need_venv_pkg" = 1 ] && pkgs+=(python3 python3-venv)
    log "missing: ${missing[*]}; apt-get install ${pkgs[*]}"
    APT_OPTS=(-o DPkg::Lock::Timeout=300 -o Acquire::Retries=3)
    as_root apt-get "${APT_OPTS[@]}" update -qq
    as_root apt-get "${APT_OPTS[@]}" install -y -qq --no-install-recommends "${pkgs[@]}" >/tmp/pygen-apt.log 2>&1 \
        || { tail -n 30 /tmp/pygen-apt.log >&2; die "apt-get install failed (log: /tmp/pygen-apt.log)"; }
    log "apt packages installed"
else
    log "system tools present (dockerd etcd etcdctl haproxy ip iptables busybox)"
fi

# ---------------------------------------------------------------- 2. virtualenv
VENV="$ROOT/.venv"
STAMP="$VENV/.pygen-bootstrap-stamp"
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c 'import sys' >/dev/null 2>&1; then
    log "creating $VENV with $("$PY" --version 2>&1)"
    rm -rf "$VENV"
    "$PY" -m venv "$VENV"
fi
# editable_mode=compat: the repo goes on sys.path through a .pth line; the default editable
# finder costs 18 ms of every interpreter start (pathlib, importlib.util), and pygen and the
# register script it renders are short-lived processes.
want="$({ cat pyproject.toml; echo editable_mode=compat; } | sha1sum | cut -d' ' -f1)"
if [ ! -f "$STAMP" ] || [ "$(cat "$STAMP")" != "$want" ]; then
    log "pip install -e '.[test]' (editable_mode=compat)"
    "$VENV/bin/python" -m pip install -q -e '.[test]' --config-settings editable_mode=compat >/tmp/pygen-pip.log 2>&1 \
        || { tail -n 30 /tmp/pygen-pip.log >&2; die "pip install failed (log: /tmp/pygen-pip.log)"; }
    echo "$want" > "$STAMP"
else
    touch "$STAMP"
    log "venv up to date"
fi

# ---------------------------------------------------------------- 3. dockerd
bash "$ROOT/scripts/start-dockerd.sh"

# ---------------------------------------------------------------- 4. whoami image
IMAGE=local/whoami:latest
want="$(sha1sum "$ROOT/scripts/build-whoami-image.sh" | cut -d' ' -f1)"
have="$(docker -H unix:///var/run/docker.sock image inspect \
        --format '{{ index .Config.Labels "pygen.whoami.sha1" }}' "$IMAGE" 2>/dev/null || true)"
if [ "$have" != "$want" ]; then
    log "building $IMAGE"
    bash "$ROOT/scripts/build-whoami-image.sh"
else
    log "$IMAGE up to date"
fi
log "ready"
