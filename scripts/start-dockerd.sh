#!/usr/bin/env bash
# Start the machine's dockerd (unix:///var/run/docker.sock) unless it already answers.
# Idempotent: does nothing when `docker version` answers. Removes a stale /var/run/docker.pid left by
# a killed daemon, starts dockerd with setsid (so it outlives this shell) logging to /tmp/dockerd.log,
# and polls until it answers. Fails after DOCKERD_START_TIMEOUT seconds (default 30) with the log tail.
set -euo pipefail

SOCK_URL="unix:///var/run/docker.sock"
PIDFILE=/var/run/docker.pid
LOG=/tmp/dockerd.log
TIMEOUT="${DOCKERD_START_TIMEOUT:-30}"
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"

log() { printf '[dockerd] %s\n' "$*"; }
answers() { timeout 5 docker -H "$SOCK_URL" version --format '{{.Server.Version}}' >/dev/null 2>&1; }
pidfile_dockerd_alive() {
    # Is the process named in the pid file a live dockerd? (Another dockerd, such as a test's private
    # one on another socket, does not count.)
    local pid
    pid="$(cat "$PIDFILE" 2>/dev/null || true)"
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = dockerd ] || return 1
    [ "$(proc_state "$pid")" != Z ]  # a zombie is not alive
}

proc_state() { sed 's/.*) \(.\).*/\1/' "/proc/$1/stat" 2>/dev/null || true; }
wait_old_containerd_gone() {
    # A killed dockerd takes its managed containerd down too, but that stays a zombie until PID 1
    # reaps it; a dockerd started meanwhile takes it for alive and waits forever for its socket.
    local pid
    pid="$(cat /var/run/docker/containerd/containerd.pid 2>/dev/null || true)"
    [[ "$pid" =~ ^[0-9]+$ ]] || return 0
    for _ in $(seq 1 100); do
        [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = containerd ] || return 0
        [ "$(proc_state "$pid")" = Z ] || return 0
        sleep 0.1
    done
}

if answers; then
    log "already running ($(docker -H "$SOCK_URL" version --format '{{.Server.Version}}' 2>/dev/null))"
    exit 0
fi
command -v dockerd >/dev/null || { log "ERROR: dockerd is not installed" >&2; exit 1; }
if [ "$(id -u)" != 0 ]; then
    log "ERROR: dockerd is not answering on $SOCK_URL and only root can start it" >&2
    exit 1
fi

if pidfile_dockerd_alive; then
    log "dockerd (pid $(cat "$PIDFILE")) is starting; waiting for it"
else
    if [ -e "$PIDFILE" ]; then
        log "removing stale $PIDFILE (its dockerd is gone)"
        rm -f "$PIDFILE"
    fi
    wait_old_containerd_gone
    log "starting dockerd (log: $LOG)"
    # setsid: own session, so the daemon outlives this shell; all standard fds redirected so it
    # never holds a caller's pipe open.
    setsid dockerd --host "$SOCK_URL" </dev/null >"$LOG" 2>&1 &
    started=$!
fi

start=$SECONDS
until answers; do
    # ($started is dockerd itself unless setsid had to fork: then only the pid file tells)
    if [ -n "${started:-}" ] && (( SECONDS - start >= 2 )) && [ ! -e "/proc/$started" ] \
            && ! pidfile_dockerd_alive; then
        log "ERROR: dockerd exited at start; last lines of $LOG:" >&2
        tail -n 30 "$LOG" >&2 || true
        exit 1
    fi
    if (( SECONDS - start >= TIMEOUT )); then
        log "ERROR: dockerd did not answer on $SOCK_URL within ${TIMEOUT}s; last lines of $LOG:" >&2
        tail -n 30 "$LOG" >&2 || true
        exit 1
    fi
    sleep 0.2
done
log "ready after $(( SECONDS - start ))s ($(docker -H "$SOCK_URL" version --format '{{.Server.Version}}' 2>/dev/null))"
