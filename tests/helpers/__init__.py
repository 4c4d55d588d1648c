"""Test helpers shared by the fixtures in tests/conftest.py (docker, etcd, haproxy, processes, HTTP).

Import what a test needs directly, e.g. ``from tests.helpers import wait_http, etcdctl``.
"""
from .docker_util import (
    MAIN_DOCKER_URL,
    TEST_LABEL,
    WHOAMI_IMAGE,
    ContainerFactory,
    ContainerHandle,
    NetworkFactory,
    SecondDockerd,
    api_client,
    ensure_whoami_image,
    sweep,
)
from .etcd_util import EtcdCluster, EtcdError, EtcdNode, EtcdSingle, delete_all_keys, etcdctl, healthy
from .haproxy_util import HAPROXY_BIN, HAProxy, HAProxyError, check_config
from .net_util import free_port, free_ports, http_get, port_open, wait_http, wait_port
from .proc_util import wait_until

__all__ = [
    "MAIN_DOCKER_URL", "TEST_LABEL", "WHOAMI_IMAGE", "ContainerFactory", "ContainerHandle", "NetworkFactory",
    "SecondDockerd", "api_client", "ensure_whoami_image", "sweep",
    "EtcdCluster", "EtcdError", "EtcdNode", "EtcdSingle", "delete_all_keys", "etcdctl", "healthy",
    "HAPROXY_BIN", "HAProxy", "HAProxyError", "check_config",
    "free_port", "free_ports", "http_get", "port_open", "wait_http", "wait_port", "wait_until",
]
