"""Shared pytest fixtures: real dockerd, etcd and haproxy on loopback.

Session-scoped
  docker_api            docker.APIClient on unix:///var/run/docker.sock
  whoami_image          "local/whoami:latest" (built by scripts/build-whoami-image.sh if missing)
  test_token            random hex token; every test container/network is labelled pygen.test=<token>
  etcd_single           EtcdSingle: one etcd, fresh data dir, free ports, v2 enabled
  etcd_cluster_session  EtcdCluster: three etcd members
  haproxy_bin           path of the haproxy binary
Function-scoped
  logs                  caplog with the ``pygen`` logger's records (tests.helpers.log_capture.messages)
  containers            ContainerFactory: containers.run(...) -> ContainerHandle, removed after the test
  docker_networks       NetworkFactory: docker_networks.create(...) -> name, removed after the test
  etcd_clean            etcd_single, running, with every v2/v3 key deleted before the test
  etcd_cluster          etcd_cluster_session with all members running and every key deleted
  haproxy_factory       haproxy_factory(config_text) -> started HAProxy, stopped after the test
  second_dockerd        second_dockerd() -> SecondDockerd: a private dockerd (own socket, data/exec root and
                        network namespace) with the whoami image loaded; closed after the test

A missing service skips the test with the reason, except under CI=true (or PYGEN_REQUIRE_SERVICES=1),
where scripts/bootstrap.sh guarantees the services and a missing one is a failure.
Every process a fixture starts is killed at teardown, also when the test fails (and, through
PR_SET_PDEATHSIG and atexit, when pytest itself dies).
"""
from __future__ import annotations

import os
import secrets
import shutil
import tempfile
from pathlib import Path

import pytest

from tests.helpers import docker_util, proc_util
from tests.helpers.docker_util import ContainerFactory, NetworkFactory, SecondDockerd
from tests.helpers.etcd_util import ETCD_BIN, ETCDCTL_BIN, EtcdCluster, EtcdSingle
from tests.helpers.haproxy_util import HAPROXY_BIN, HAProxy
from tests.helpers.log_capture import pygen_records

_DOCKER_FIXTURES = {"docker_api", "whoami_image", "containers", "docker_networks", "second_dockerd"}
_ETCD_FIXTURES = {"etcd_single", "etcd_clean", "etcd_cluster", "etcd_cluster_session"}
_HAPROXY_FIXTURES = {"haproxy_bin", "haproxy_factory"}


def _require_services() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes") or os.environ.get("PYGEN_REQUIRE_SERVICES") == "1"


def unavailable(reason: str):
    """Skip (or, in CI, fail) because a real service is not there."""
    if _require_services():
        pytest.fail(f"{reason} (CI: scripts/bootstrap.sh should have provided it)", pytrace=False)
    pytest.skip(reason)


def pytest_collection_modifyitems(config, items):
    """Mark tests by the services their fixtures need, so `-m "not docker"` etc. work."""
    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        if names & _DOCKER_FIXTURES:
            item.add_marker(pytest.mark.docker)
        if names & _ETCD_FIXTURES:
            item.add_marker(pytest.mark.etcd)
        if names & _HAPROXY_FIXTURES:
            item.add_marker(pytest.mark.haproxy)


def pytest_sessionstart(session):
    # what earlier runs that were killed outright left in /tmp (their processes died with them)
    proc_util.sweep_stale_dirs(["/tmp/pygen-etcd-*", "/tmp/pygen-etcd-cluster-*", "/tmp/pygen-haproxy-*"])


def pytest_sessionfinish(session, exitstatus):
    proc_util.kill_all()


# ---------------------------------------------------------------------------- docker
@pytest.fixture
def logs(caplog):
    with pygen_records(caplog) as captured:
        yield captured


@pytest.fixture(scope="session")
def test_token() -> str:
    return secrets.token_hex(3)


@pytest.fixture(scope="session")
def docker_api(test_token):
    try:
        api = docker_util.api_client()
        api.ping()
    except Exception as exc:  # noqa: BLE001
        unavailable(f"dockerd not reachable on {docker_util.MAIN_DOCKER_URL} ({exc}); run scripts/bootstrap.sh")
    docker_util.sweep(api, test_token)  # leftovers of dead earlier runs
    yield api
    docker_util.sweep(api, test_token)
    api.close()


@pytest.fixture(scope="session")
def whoami_image(docker_api) -> str:
    try:
        return docker_util.ensure_whoami_image(docker_api)
    except Exception as exc:  # noqa: BLE001
        unavailable(f"test image {docker_util.WHOAMI_IMAGE} unavailable: {exc}")


@pytest.fixture
def containers(docker_api, whoami_image, test_token):
    factory = ContainerFactory(docker_api, whoami_image, test_token)
    yield factory
    factory.cleanup()


@pytest.fixture
def docker_networks(docker_api, test_token):
    factory = NetworkFactory(docker_api, test_token)
    yield factory
    factory.cleanup()


@pytest.fixture
def second_dockerd(docker_api, whoami_image, test_token):
    """Factory: ``second_dockerd()`` -> a started SecondDockerd with the whoami image loaded."""
    if shutil.which("dockerd") is None:
        unavailable("dockerd binary not installed")
    if os.geteuid() != 0:
        unavailable("a second dockerd needs root")
    SecondDockerd.sweep_stale()
    daemons: list[SecondDockerd] = []

    def make() -> SecondDockerd:
        daemon = SecondDockerd(test_token, image_source=docker_api, image=whoami_image)
        daemons.append(daemon)
        return daemon

    yield make
    for daemon in daemons:
        daemon.close()


# ---------------------------------------------------------------------------- etcd
def _need_etcd() -> None:
    for binary in (ETCD_BIN, ETCDCTL_BIN):
        if not os.access(binary, os.X_OK):
            unavailable(f"{binary} not installed (apt-get install etcd-server etcd-client)")


@pytest.fixture(scope="session")
def etcd_single():
    """One etcd 3.4 member (v2 enabled) on free loopback ports; see EtcdSingle. Tests that stop or
    kill it should use ``etcd_clean``, which brings it back for the next test."""
    _need_etcd()
    etcd = EtcdSingle()
    yield etcd
    etcd.close()


@pytest.fixture
def etcd_clean(etcd_single):
    """``etcd_single``, running (restarted if a previous test stopped it), with no v2/v3 key."""
    etcd_single.ensure_running()
    etcd_single.delete_all()
    return etcd_single


@pytest.fixture(scope="session")
def etcd_cluster_session():
    _need_etcd()
    cluster = EtcdCluster(3)
    yield cluster
    cluster.close()


@pytest.fixture
def etcd_cluster(etcd_cluster_session):
    """The three-member cluster with every member running and no v2/v3 key."""
    etcd_cluster_session.ensure_all_running()
    etcd_cluster_session.delete_all()
    return etcd_cluster_session


# ---------------------------------------------------------------------------- haproxy
@pytest.fixture(scope="session")
def haproxy_bin() -> str:
    if not os.access(HAPROXY_BIN, os.X_OK):
        unavailable("haproxy not installed (apt-get install haproxy)")
    return HAPROXY_BIN


@pytest.fixture
def haproxy_factory(haproxy_bin):
    """Factory: ``haproxy_factory(config_text, start=True)`` -> HAProxy in master-worker mode in a
    fresh directory; every instance is stopped (and its directory removed) after the test."""
    instances: list[HAProxy] = []
    workdirs: list[Path] = []

    def make(config: str, start: bool = True) -> HAProxy:
        workdir = Path(tempfile.mkdtemp(prefix="pygen-haproxy-"))
        workdirs.append(workdir)
        hap = HAProxy(workdir, config, binary=haproxy_bin)
        instances.append(hap)
        return hap.start() if start else hap

    yield make
    for hap in instances:
        hap.stop()
    for workdir in workdirs:
        shutil.rmtree(workdir, ignore_errors=True)
