"""``Config.Image`` -> ``DockerImage{Registry, Repository, Tag}``, exactly as docker-gen splits it.

docker-gen's split is deliberately naive (spec §5.3): it does not understand digests and it does not
normalise ``docker.io``. Templates compare these strings, so pygen reproduces the split byte for byte
(including ``nginx@sha256:abc`` -> Repository ``nginx@sha256``, Tag ``abc``) rather than using a
"correct" reference parser.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DockerImage", "docker_image", "split_image_name"]


@dataclass(slots=True)
class DockerImage:
    """docker-gen's ``context.DockerImage`` (Go JSON field order: Registry, Repository, Tag)."""

    Registry: str = ""
    Repository: str = ""
    Tag: str = ""

    def String(self) -> str:
        """``[Registry/]Repository[:Tag]``; round-trips every input of ``split_image_name``."""
        ret = self.Repository
        if self.Registry:
            ret = self.Registry + "/" + ret
        if self.Tag:
            ret = ret + ":" + self.Tag
        return ret

    def __str__(self) -> str:
        return self.String()


def split_image_name(name: str | None) -> tuple[str, str, str]:
    """Split an image reference into ``(registry, repository, tag)`` per docker-gen's rules.

    1. The part before the first ``/`` is a registry iff it contains ``.`` or ``:`` or is exactly
       ``localhost`` (case-sensitive).
    2. In the remainder, the tag is everything after the first ``:``.
    """
    if not name:
        return "", "", ""
    registry = ""
    remainder = name
    slash = name.find("/")
    if slash >= 0:
        first = name[:slash]
        if "." in first or ":" in first or first == "localhost":
            registry = first
            remainder = name[slash + 1:]
    repository, sep, tag = remainder.partition(":")
    return registry, repository, tag if sep else ""


def docker_image(name: str | None) -> DockerImage:
    """``split_image_name`` as a ``DockerImage``."""
    registry, repository, tag = split_image_name(name)
    return DockerImage(registry, repository, tag)
