#!/usr/bin/env bash
# Build the test image local/whoami:latest from Debian's busybox-static (no registry needed).
#
# The container answers "I'm <hostname>" (its 12-character id) on port 8000 via busybox httpd
# (env WHOAMI_PORT=[ip:]port changes the listen address, for network_mode=host),
# stops in well under a second (its start script traps TERM), and records every SIGHUP / SIGUSR1 /
# SIGUSR2 it receives as a line with the date in /www/hup, /www/usr1, /www/usr2, so a test can
# GET /hup to prove a signal arrived (one line per signal).
#
# The image carries the label pygen.whoami.sha1=<sha1 of this script>; scripts/bootstrap.sh
# rebuilds the image when the label no longer matches.
set -euo pipefail

IMAGE="${WHOAMI_IMAGE:-local/whoami:latest}"
DOCKER_HOST_URL="${PYGEN_DOCKER_HOST:-unix:///var/run/docker.sock}"
SCRIPT="$(readlink -f "${BASH_SOURCE[0]}")"
SHA="$(sha1sum "$SCRIPT" | cut -d' ' -f1)"
BUSYBOX=/bin/busybox

log() { printf '[whoami] %s\n' "$*"; }
die() { printf '[whoami] ERROR: %s\n' "$*" >&2; exit 1; }
docker_() { docker -H "$DOCKER_HOST_URL" "$@"; }
# GET http://127.0.0.1:$1$2 with bash's /dev/tcp (the host's busybox wget crashes, curl may be absent);
# prints the body only.
http_get() {
    timeout 2 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
        printf "GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n" "$2" >&3
        sed "1,/^\r\{0,1\}$/d" <&3' http_get "$1" "$2" 2>/dev/null
}

[ -x "$BUSYBOX" ] || die "$BUSYBOX is missing (apt-get install busybox-static)"
"$BUSYBOX" --list | grep -qx httpd || die "$BUSYBOX has no httpd applet (need Debian's busybox-static)"

WORK="$(mktemp -d /tmp/pygen-whoami.XXXXXX)"
VERIFY_NAME="pygen-whoami-verify-$$"
cleanup() {
    docker_ rm -f "$VERIFY_NAME" >/dev/null 2>&1 || true
    rm -rf "$WORK"
}
trap cleanup EXIT

ROOT="$WORK/root"
mkdir -p "$ROOT/bin" "$ROOT/www" "$ROOT/tmp" "$ROOT/etc"
chmod 1777 "$ROOT/tmp"
cp "$BUSYBOX" "$ROOT/bin/busybox"
for applet in sh httpd hostname echo cat kill sleep date wget nc ls; do
    ln -s busybox "$ROOT/bin/$applet"
done
echo 'root:x:0:0:root:/:/bin/sh' > "$ROOT/etc/passwd"
echo 'root:x:0:' > "$ROOT/etc/group"

# The start script runs as PID 1. It must never poll with `sleep` (hundreds of containers would keep
# the machine busy forking): it waits on httpd, and `wait` returns whenever a trapped signal arrives.
cat > "$ROOT/start.sh" <<'START'
#!/bin/sh
PATH=/bin
mkdir -p /www
echo "I'm $(hostname)" > /www/index.html
httpd -f -p "${WHOAMI_PORT:-8000}" -h /www &
HTTPD=$!
trap 'kill $HTTPD 2>/dev/null; exit 0' TERM INT
trap 'date >> /www/hup' HUP
trap 'date >> /www/usr1' USR1
trap 'date >> /www/usr2' USR2
while kill -0 $HTTPD 2>/dev/null; do
    wait $HTTPD
done
wait $HTTPD
exit $?
START
chmod 755 "$ROOT/start.sh"

log "importing $IMAGE (sha1 ${SHA:0:12})"
tar -C "$ROOT" --numeric-owner --owner=0 --group=0 -c . | docker_ import \
    -c 'CMD ["/bin/sh","/start.sh"]' \
    -c 'EXPOSE 8000' \
    -c "LABEL pygen.whoami.sha1=$SHA" \
    - "$IMAGE" >/dev/null

# Verify: answers "I'm <12-char id>" on a loopback-published port, and stops in under a second.
log "verifying"
CID="$(docker_ run -d --name "$VERIFY_NAME" --label pygen.test=build-verify -p 127.0.0.1::8000 "$IMAGE")"
PORT="$(docker_ port "$VERIFY_NAME" 8000/tcp | head -n1 | sed 's/.*://')"
[ -n "$PORT" ] || die "container has no published port"
EXPECT="I'm ${CID:0:12}"
BODY=""
for _ in $(seq 1 100); do
    BODY="$(http_get "$PORT" / || true)"
    [ "$BODY" = "$EXPECT" ] && break
    sleep 0.05
done
[ "$BODY" = "$EXPECT" ] || die "container answered '${BODY}' on 127.0.0.1:$PORT, expected '$EXPECT'"
docker_ kill -s HUP "$VERIFY_NAME" >/dev/null
HUP=""
for _ in $(seq 1 40); do
    HUP="$(http_get "$PORT" /hup || true)"
    [ -n "$HUP" ] && break
    sleep 0.05
done
[ -n "$HUP" ] || die "SIGHUP was not recorded in /hup"
T0="$(date +%s%N)"
docker_ stop "$VERIFY_NAME" >/dev/null
MS=$(( ($(date +%s%N) - T0) / 1000000 ))
docker_ rm -f "$VERIFY_NAME" >/dev/null 2>&1 || true
# A broken TERM trap makes `docker stop` wait its full 10 s grace period; a busy machine can push a
# good stop a little past 1 s, so only warn between 1 and 5 s.
if [ "$MS" -ge 5000 ]; then
    die "docker stop took ${MS} ms (the TERM trap does not work)"
elif [ "$MS" -ge 1000 ]; then
    log "WARNING: docker stop took ${MS} ms (expected < 1000 ms)"
fi
# Drop older untagged builds that no container uses.
docker_ image prune -f --filter label=pygen.whoami.sha1 >/dev/null 2>&1 || true
log "ok: $IMAGE answers '$EXPECT', SIGHUP recorded, docker stop ${MS} ms"
