"""Build a StoreClient from command-line settings; where the endpoints come from by default."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

from pygen.etcd.store import StoreClient

DEFAULT_ENDPOINT = "http://127.0.0.1:2379"


def default_endpoints(env: Mapping[str, str]) -> list[str]:
    """``ETCD_ENDPOINTS`` (comma-separated), else the 2014 seed's ``ETCD_HOST`` (``host:port``),
    else ``http://127.0.0.1:2379``."""
    listed = [item.strip() for item in env.get("ETCD_ENDPOINTS", "").split(",") if item.strip()]
    if listed:
        return listed
    host = env.get("ETCD_HOST", "").strip()
    if host:
        return [host if "://" in host else f"http://{host}"]
    return [DEFAULT_ENDPOINT]


def make_store_client(api: Literal["v3", "v2"], endpoints: Sequence[str], cacert: str | None = None,
                      cert: str | None = None, key: str | None = None, user: str | None = None,
                      password: str | None = None) -> StoreClient:
    """An etcd client for ``api``. ValueError (one line) for a bad endpoint or option pair.

    Endpoints without a scheme get ``https://`` when a CA or client certificate is given,
    ``http://`` otherwise; a missing port is 2379.
    """
    options = dict(cacert=cacert or None, cert=cert or None, key=key or None, user=user or None,
                   password=password or None)
    if api == "v3":
        from pygen.etcd.v3 import EtcdV3Client

        return EtcdV3Client(list(endpoints), **options)
    if api == "v2":
        from pygen.etcd.v2 import EtcdV2Client

        return EtcdV2Client(list(endpoints), **options)
    raise ValueError(f"unknown etcd API {api!r} (use v3 or v2)")
