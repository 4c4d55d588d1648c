#!/usr/bin/env bash
# The 2014 article "Docker Service Discovery Using Etcd and Haproxy", its AWS walk-through, on one
# machine: an etcd host, two backend hosts and a client host, with pygen and etcd-gen in place of
# docker-register and docker-discover.
#
#   etcd            127.0.0.1 (free loopback ports, a temporary data dir)
#   backend host A  containers published on 127.0.0.2; pygen registers only its own containers
#                   (label pygen.demo.host=a) with HOST_IP=127.0.0.2
#   backend host B  the same on 127.0.0.3 (label pygen.demo.host=b)
#   client host     etcd-gen renders templates/haproxy.cfg.j2; haproxy (master-worker) serves
#                   127.0.0.1:8000 and is reloaded (haproxy_reload.py: SIGUSR2, then wait for the
#                   new worker) after every change that passes `haproxy -c`
#
# Runs on a fresh Debian machine (as root): scripts/bootstrap.sh installs what is missing and
# starts dockerd first. Everything it starts is stopped and removed on exit, also on Ctrl-C.
# Takes about 30 seconds.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
HERE="$ROOT/examples/service-discovery"
cd "$ROOT"

if [ -t 1 ]; then say() { printf '\n\033[1m%s\033[0m\n' "$*"; }; else say() { printf '\n%s\n' "$*"; }; fi
note() { printf '  %s\n' "$*"; }
die() { printf 'run-demo: %s\n' "$*" >&2; exit 1; }
now_ns() { date +%s%N; }

echo "== bootstrap (installs what is missing, starts dockerd, builds local/whoami)" >&2
bash scripts/bootstrap.sh 2>&1 | sed 's/^/   /' >&2

PY="$ROOT/.venv/bin/python"
PYGEN="$ROOT/.venv/bin/pygen"
ETCDGEN="$ROOT/.venv/bin/etcd-gen"
CLIENT=("$PY" "$HERE/demo_client.py")
LABEL="pygen.demo=service-discovery"
IMAGE="local/whoami:latest"
for tool in etcd haproxy docker; do command -v "$tool" >/dev/null || die "$tool is missing after bootstrap"; done
[ -x "$ETCDGEN" ] || die "$ETCDGEN is missing (pip install -e . in .venv)"

WORK="$(mktemp -d /tmp/pygen-sd-demo.XXXXXX)"
PIDS=()
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for _ in $(seq 1 50); do
        local alive=0
        for pid in "${PIDS[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
        [ "$alive" = 0 ] && break
        sleep 0.1
    done
    for pid in "${PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
    docker ps -aq --filter "label=$LABEL" | xargs -r docker rm -f >/dev/null 2>&1 || true
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
# containers left by an earlier run that was killed outright
docker ps -aq --filter "label=$LABEL" | xargs -r docker rm -f >/dev/null 2>&1 || true

"${CLIENT[@]}" port-free 127.0.0.1 8000 || die "127.0.0.1:8000 is in use; the client host's haproxy needs it"
STATS_PORT=1936
"${CLIENT[@]}" port-free 127.0.0.1 "$STATS_PORT" || STATS_PORT="$("${CLIENT[@]}" free-port)"
ETCD_PORT="$("${CLIENT[@]}" free-port)"
PEER_PORT="$("${CLIENT[@]}" free-port)"
ETCD="http://127.0.0.1:$ETCD_PORT"
# registrations refresh every 5 s and live 15 s without a refresh (the seed: 10 s and 15 s)
INTERVAL=5
TTL=15

start() {  # start NAME CMD...: run in the background, output to $WORK/NAME.log
    local name="$1"; shift
    "$@" >"$WORK/$name.log" 2>&1 &
    PIDS+=("$!")
}

# ------------------------------------------------------------------------------ etcd host
say "Etcd host: etcd on $ETCD"
start etcd etcd --name demo --data-dir "$WORK/etcd" \
    --listen-client-urls "$ETCD" --advertise-client-urls "$ETCD" \
    --listen-peer-urls "http://127.0.0.1:$PEER_PORT" --initial-advertise-peer-urls "http://127.0.0.1:$PEER_PORT" \
    --initial-cluster "demo=http://127.0.0.1:$PEER_PORT" --initial-cluster-state new --initial-cluster-token pygen-demo
for _ in $(seq 1 100); do
    "$PY" -c "import urllib.request,sys; o=urllib.request.build_opener(urllib.request.ProxyHandler({})); sys.exit(0 if b'true' in o.open('$ETCD/health', timeout=1).read() else 1)" 2>/dev/null && break
    sleep 0.1
done

# ------------------------------------------------------------------------------ backend hosts
for host in a b; do
    ip=127.0.0.2; [ "$host" = b ] && ip=127.0.0.3
    mkdir -p "$WORK/host-$host"
    script="$WORK/host-$host/register.py"
    say "Backend host ${host^^}: pygen registers containers labelled pygen.demo.host=$host as $ip"
    note "HOST_IP=$ip ETCD_ENDPOINTS=$ETCD pygen -watch -interval $INTERVAL -container-filter label=pygen.demo.host=$host \\"
    note "    -notify \"python $script\" templates/register.py.j2 $script"
    start "pygen-$host" env HOST_IP="$ip" ETCD_ENDPOINTS="$ETCD" REGISTER_TTL="$TTL" \
        "$PYGEN" -watch -interval "$INTERVAL" -container-filter "label=pygen.demo.host=$host" \
        -notify "$(printf '%q %q' "$PY" "$script")" templates/register.py.j2 "$script"
done

# ------------------------------------------------------------------------------ client host
CFG="$WORK/client/haproxy.cfg"
PIDFILE="$WORK/client/haproxy.pid"
mkdir -p "$WORK/client"
STATE="$WORK/client/server-state"  # servers keep their health across reloads
export HAPROXY_BIND_IP=127.0.0.1 HAPROXY_STATS="127.0.0.1:$STATS_PORT" HAPROXY_STATE_FILE="$STATE"
say "Client host: etcd-gen renders haproxy.cfg from /backends; haproxy listens on 127.0.0.1:8000"
note "etcd-gen -endpoints $ETCD -prefix /backends -watch -min-keys 2 -atomic \\"
note "    -check-cmd \"haproxy -c -q -f {{ src }}\" \\"
note "    -notify \"python haproxy_reload.py --state-file server-state master.sock\" \\"
note "    templates/haproxy.cfg.j2 haproxy.cfg"
# the first file (no backends yet: only the stats page), so that haproxy can start
"$ETCDGEN" -endpoints "$ETCD" -prefix /backends templates/haproxy.cfg.j2 "$CFG" 2>>"$WORK/etcd-gen.log" \
    || die "etcd-gen could not render the first haproxy.cfg (see $WORK/etcd-gen.log)"
start haproxy haproxy -W -S "$WORK/client/master.sock,mode,600" -f "$CFG" -p "$PIDFILE"
start etcd-gen "$ETCDGEN" -endpoints "$ETCD" -prefix /backends -watch -min-keys 2 -atomic \
    -check-cmd "haproxy -c -q -f {{ src }}" -notify "$(printf '%q %q --state-file %q %q' "$PY" "$HERE/haproxy_reload.py" "$STATE" "$WORK/client/master.sock")" \
    templates/haproxy.cfg.j2 "$CFG"
for _ in $(seq 1 100); do [ -s "$PIDFILE" ] && break; sleep 0.05; done
[ -s "$PIDFILE" ] || die "haproxy did not start: $(tail -n 5 "$WORK/haproxy.log")"
note "stats page: http://127.0.0.1:$STATS_PORT/"
sleep 1  # let both pygens and etcd-gen connect

run_whoami() {  # run_whoami HOST NAME -> container id
    local host="$1" name="$2" ip=127.0.0.2
    [ "$host" = b ] && ip=127.0.0.3
    docker run -d --label "$LABEL" --label "pygen.demo.host=$host" --name "pygen-demo-$name" \
        -p "$ip::8000" "$IMAGE"
}
short() { printf '%s' "${1:0:12}"; }
URL=http://127.0.0.1:8000
TIMINGS=()

# ------------------------------------------------------------------------------ the story
say "On backend host A and on backend host B: docker run -d -p <host ip>::8000 --name whoami $IMAGE"
A1="$(run_whoami a whoami-a)"; T0="$(now_ns)"
B1="$(run_whoami b whoami-b)"; T1="$(now_ns)"
note "host A: $(short "$A1")    host B: $(short "$B1")"
ms="$("${CLIENT[@]}" wait-answers "$URL" "$(short "$A1"),$(short "$B1")" "$T1" 20)" || die "the two backends never answered"
TIMINGS+=("both backends answering through haproxy: ${ms} ms after the second docker run returned")
say "Client host: requests are load-balanced across the two hosts"
"${CLIENT[@]}" curl "$URL" 4

say "We can start some more instances on the backends (one more on each host):"
A2="$(run_whoami a whoami-a-2)"
B2="$(run_whoami b whoami-b-3)"; T2="$(now_ns)"
note "host A: $(short "$A2")    host B: $(short "$B2")"
ms="$("${CLIENT[@]}" wait-answers "$URL" "$(short "$A1"),$(short "$A2"),$(short "$B1"),$(short "$B2")" "$T2" 20)" \
    || die "the new containers never joined the rotation"
TIMINGS+=("two new containers in the rotation: ${ms} ms after docker run returned")
"${CLIENT[@]}" curl "$URL" 5

say "Finally, kill everything on backend host B: docker kill $(short "$B1") $(short "$B2")"
T3="$(now_ns)"; docker kill "$B1" "$B2" >/dev/null
ms_cfg="$("${CLIENT[@]}" wait-config "$CFG" "$(short "$A1"),$(short "$A2")" "$T3" 20)" \
    || die "host B's containers never left the haproxy config"
ms="$("${CLIENT[@]}" wait-answers "$URL" "$(short "$A1"),$(short "$A2")" "$T3" 20)" || die "host A did not answer alone"
TIMINGS+=("host B's containers gone from haproxy.cfg: ${ms_cfg} ms after docker kill was issued")
TIMINGS+=("only host A answering: ${ms} ms after docker kill was issued (haproxy retried the others meanwhile)")
"${CLIENT[@]}" curl "$URL" 4

say "Timings"
for line in "${TIMINGS[@]}"; do note "$line"; done
reloads="$(printf 'show proc\n' | "$PY" -c "
import socket,sys
s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(sys.stdin.buffer.read()); s.shutdown(socket.SHUT_WR)
data=b''
while (c:=s.recv(65536)): data+=c
for line in data.decode().splitlines():
    p=line.split()
    if len(p)>2 and p[1]=='master': print(p[2])
" "$WORK/client/master.sock" 2>/dev/null || true)"
note "haproxy reloads: ${reloads:-?} (one per accepted config change, no request lost to a reload)"
say "Done: stopping etcd, pygen, etcd-gen and haproxy, removing the demo containers"
