"""Smoke tests of the shared fixtures themselves (tests/conftest.py, tests/helpers)."""
from __future__ import annotations

import json
import time

import pytest

from tests.helpers import etcdctl, free_port, http_get, wait_http, wait_port, wait_until


# ---------------------------------------------------------------------------- docker
@pytest.mark.docker
def test_whoami_answers_with_its_id_on_loopback(containers, test_token):
    c = containers.run(labels={"app": "smoke"})
    assert c.host_ip == "127.0.0.1" and c.host_port
    body = wait_http(c.url + "/", f"I'm {c.short_id}", timeout=10)
    assert body.strip() == c.expected_body
    info = c.inspect()
    assert info["Config"]["Labels"]["pygen.test"] == test_token
    assert info["Config"]["Labels"]["app"] == "smoke"
    binding = info["HostConfig"]["PortBindings"]["8000/tcp"][0]
    assert binding["HostIp"] == "127.0.0.1"


@pytest.mark.docker
def test_whoami_other_loopback_host_signals_and_fast_stop(containers):
    c = containers.run("host2", publish_ip="127.0.0.2", env={"SERVICE_NAME": "web"})
    assert c.host_ip == "127.0.0.2"
    c.wait_http()
    assert "SERVICE_NAME=web" in c.inspect()["Config"]["Env"]
    c.kill("SIGHUP")
    wait_http(c.url + "/hup", None, timeout=5)
    assert len(c.signals("hup")) == 1
    t0 = time.monotonic()
    c.stop()
    assert time.monotonic() - t0 < 2.0, "whoami must trap TERM and stop at once"
    assert c.status == "exited"


@pytest.mark.docker
def test_container_options(containers, docker_networks, docker_api):
    net = docker_networks.create("smoke")
    c = containers.run("net", network=net, healthcheck=True)
    c.wait_healthy(timeout=15)
    assert net in c.inspect()["NetworkSettings"]["Networks"]
    created = containers.run("created", start=False, publish_ip=None)
    assert created.status == "created" and created.host_port is None
    cmd = containers.run("cmd", command=["/bin/sh", "-c", "echo hello; exec sleep 60"], publish_ip=None)
    wait_until(lambda: b"hello" in docker_api.logs(cmd.id), 5, message="command output")


@pytest.mark.docker
def test_containers_are_removed_after_the_test(docker_api, test_token, containers):
    # the previous tests' containers are gone
    left = docker_api.containers(all=True, filters={"label": f"pygen.test={test_token}"})
    assert left == []


@pytest.mark.docker
def test_second_dockerd_runs_a_container_and_restarts(second_dockerd, docker_api):
    d2 = second_dockerd()
    assert d2.api.ping()
    assert d2.api.info()["DockerRootDir"] == str(d2.data_root)
    c = d2.containers.run("d2", labels={"where": "second"})
    assert c.status == "running" and c.host_port
    # published inside the daemon's own network namespace, answering with its id
    wait_until(lambda: d2.http_get(c.url + "/")[1].strip() == c.expected_body, 10, message="whoami in d2")
    assert c.exec(["wget", "-q", "-O-", "http://127.0.0.1:8000/"]) == (0, c.expected_body + "\n")
    # the main daemon does not see it, and the host's links (docker0 ...) are untouched
    assert not docker_api.containers(all=True, filters={"id": c.id})
    assert "docker0" in _links()
    # the events stream ends when the daemon stops; it comes back with the container stopped
    events = d2.api.events(decode=True, since=int(time.time()) - 1)
    t0 = time.monotonic()
    d2.stop()
    stop_s = time.monotonic() - t0
    list(events)  # the stream simply ends
    t0 = time.monotonic()
    d2.start()
    start_s = time.monotonic() - t0
    assert c.status == "exited"
    c.start()
    assert c.status == "running"
    print(f"second dockerd: stop {stop_s:.2f}s, start {start_s:.2f}s")


@pytest.mark.docker
def test_second_dockerd_kill_and_cleanup(second_dockerd):
    d2 = second_dockerd()
    c = d2.containers.run()
    d2.kill()
    assert not d2.answers()
    d2.start()
    assert c.status in ("running", "exited")
    base = d2.base
    d2.close()
    assert not base.exists()
    assert not [line for line in open("/proc/self/mountinfo") if str(base) in line]


def _links() -> set[str]:
    import os
    return set(os.listdir("/sys/class/net"))


# ---------------------------------------------------------------------------- etcd
@pytest.mark.etcd
def test_etcd_single_put_get(etcd_clean):
    etcdctl(etcd_clean.endpoint, "put", "/smoke/a", "1")
    assert etcdctl(etcd_clean.endpoint, "get", "/smoke/a", "--print-value-only").stdout.strip() == "1"
    assert etcd_clean.get("/smoke/a") == "1"
    # v2 API is enabled
    etcdctl(etcd_clean.endpoint, "set", "/v2key", "x", api="2")
    code, body = http_get(f"{etcd_clean.endpoint}/v2/keys/v2key")
    assert code == 200 and json.loads(body)["node"]["value"] == "x"


@pytest.mark.etcd
def test_etcd_clean_removes_keys_and_restarts(etcd_clean):
    assert etcd_clean.get("/smoke/a") is None  # cleaned since the previous test
    code, _ = http_get(f"{etcd_clean.endpoint}/v2/keys/v2key")
    assert code == 404
    etcd_clean.put("/persist", "yes")
    etcd_clean.stop()
    assert not etcd_clean.is_running()
    etcd_clean.start()
    assert etcd_clean.get("/persist") == "yes"  # same data dir
    etcd_clean.kill()  # the next etcd_clean brings it back


@pytest.mark.etcd
def test_etcd_single_comes_back_after_kill(etcd_clean):
    assert etcd_clean.is_running()
    assert etcd_clean.get("/persist") is None


@pytest.mark.etcd
def test_etcd_cluster_leader_failover_and_rejoin(etcd_cluster):
    assert len(etcd_cluster.endpoints) == 3
    leader = etcd_cluster.leader()
    etcd_cluster.put("/c/before", "1")
    etcd_cluster.kill(leader)
    survivors = [n.endpoint for n in etcd_cluster.nodes if n is not leader]
    t0 = time.monotonic()
    wait_until(lambda: etcdctl(survivors, "put", "/c/after", "2", check=False).returncode == 0, 15,
               message="a write after the leader was killed")
    failover = time.monotonic() - t0
    new_leader = etcd_cluster.leader()
    assert new_leader is not leader
    assert etcdctl(survivors, "get", "/c/before", "--print-value-only").stdout.strip() == "1"
    etcd_cluster.restart(leader)
    assert leader.is_running()
    assert etcdctl(leader.endpoint, "get", "/c/after", "--print-value-only", "--consistency=s").stdout.strip() in ("2", "")
    wait_until(lambda: etcdctl(leader.endpoint, "get", "/c/after", "--print-value-only").stdout.strip() == "2", 5,
               message="rejoined member to catch up")
    print(f"failover after SIGKILL of the leader: {failover:.2f}s")


@pytest.mark.etcd
def test_etcd_cluster_fixture_restores_members(etcd_cluster):
    assert all(n.is_running() for n in etcd_cluster.nodes)
    assert etcd_cluster.get("/c/before") is None


# ---------------------------------------------------------------------------- haproxy
HAPROXY_CFG = """
global
    log stdout format raw local0
defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
    option idle-close-on-response
listen stats
    bind 127.0.0.1:{stats}
    stats enable
    stats uri /
frontend web
    bind 127.0.0.1:{web}
    default_backend app
backend app
    server s1 127.0.0.1:{backend}
"""


@pytest.mark.haproxy
@pytest.mark.docker
def test_haproxy_starts_reloads_and_proxies(haproxy_factory, containers):
    c = containers.run("hap")
    c.wait_http()
    stats, web = free_port(), free_port()
    hap = haproxy_factory(HAPROXY_CFG.format(stats=stats, web=web, backend=c.host_port))
    wait_port("127.0.0.1", stats)
    wait_http(f"http://127.0.0.1:{web}/", c.expected_body, timeout=5)
    workers = hap.worker_pids()
    assert len(workers) == 1 and hap.master_pid
    assert hap.reload() is True
    assert hap.worker_pids() != workers
    assert hap.reload_counts()[0] == 1
    wait_http(f"http://127.0.0.1:{web}/", c.expected_body, timeout=5)
    # a bad config: the reload fails and the old worker keeps serving
    current = hap.worker_pids()
    hap.write_config("this is not haproxy\n")
    assert hap.check()[0] is False
    assert hap.reload(timeout=2) is False
    assert hap.worker_pids() == current
    wait_http(f"http://127.0.0.1:{web}/", c.expected_body, timeout=5)
    master = hap.master_pid
    hap.stop()
    assert not hap.is_running()
    wait_until(lambda: not _pid_alive(master), 5, message="haproxy master to exit")


def _pid_alive(pid: int) -> bool:
    from tests.helpers.proc_util import pid_alive
    return pid_alive(pid)
