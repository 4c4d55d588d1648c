"""Image name splitting: every vector of spec §5.3."""

from __future__ import annotations

import pytest

from pygen.docker.imagename import DockerImage, docker_image, split_image_name

VECTORS = [
    ("ubuntu", "", "ubuntu", ""),
    ("custom.registry/ubuntu", "custom.registry", "ubuntu", ""),
    ("ubuntu:12.04", "", "ubuntu", "12.04"),
    ("custom.registry/ubuntu:12.04", "custom.registry", "ubuntu", "12.04"),
    ("localhost/ubuntu:12.04", "localhost", "ubuntu", "12.04"),
    ("localhost:8888/ubuntu:12.04", "localhost:8888", "ubuntu", "12.04"),
    ("localhost:8888/ubuntu/foo:12.04", "localhost:8888", "ubuntu/foo", "12.04"),
    ("tianon/centos", "", "tianon/centos", ""),
    ("tianon/centos:7", "", "tianon/centos", "7"),
    ("custom.registry/tianon/centos:7", "custom.registry", "tianon/centos", "7"),
    ("nginx@sha256:0123456789abcdef", "", "nginx@sha256", "0123456789abcdef"),
    ("nginx:1.25@sha256:0123456789abcdef", "", "nginx", "1.25@sha256:0123456789abcdef"),
    ("library/nginx@sha256:abc", "", "library/nginx@sha256", "abc"),
    ("docker.io/library/nginx:latest", "docker.io", "library/nginx", "latest"),
    ("ghcr.io/owner/app:v1", "ghcr.io", "owner/app", "v1"),
    ("registry:5000/foo", "registry:5000", "foo", ""),
    ("registry:5000/foo/bar:tag", "registry:5000", "foo/bar", "tag"),
    ("sha256:4e1b3c2f", "", "sha256", "4e1b3c2f"),
    ("4e1b3c2f0a9d", "", "4e1b3c2f0a9d", ""),
    ("LocalHost/foo", "", "LocalHost/foo", ""),
    ("foo:bar/baz", "foo:bar", "baz", ""),
    ("my_registry/foo", "", "my_registry/foo", ""),
    ("127.0.0.1:5000/foo:1", "127.0.0.1:5000", "foo", "1"),
    ("[::1]:5000/foo:1", "[::1]:5000", "foo", "1"),
    ("", "", "", ""),
    ("a/b/c:d:e", "", "a/b/c", "d:e"),
]


@pytest.mark.parametrize("name, registry, repository, tag", VECTORS, ids=[v[0] or "empty" for v in VECTORS])
def test_split(name: str, registry: str, repository: str, tag: str) -> None:
    assert split_image_name(name) == (registry, repository, tag)
    img = docker_image(name)
    assert (img.Registry, img.Repository, img.Tag) == (registry, repository, tag)


@pytest.mark.parametrize("name", [v[0] for v in VECTORS], ids=[v[0] or "empty" for v in VECTORS])
def test_string_round_trips(name: str) -> None:
    img = docker_image(name)
    assert img.String() == name
    assert str(img) == name


def test_string_builds_optional_parts() -> None:
    assert DockerImage("r.io", "app", "").String() == "r.io/app"
    assert DockerImage("", "app", "1").String() == "app:1"
    assert DockerImage().String() == ""


def test_none_is_empty() -> None:
    assert split_image_name(None) == ("", "", "")


def test_field_order_is_go_order() -> None:
    from dataclasses import fields

    assert [f.name for f in fields(DockerImage)] == ["Registry", "Repository", "Tag"]
