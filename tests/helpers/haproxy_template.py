"""templates/haproxy.cfg.j2 rendered in-process, as etcd-gen renders it, from a kv dict."""

from __future__ import annotations

from pathlib import Path

from pygen.etcd.keys import build_tree
from pygen.functions.registry import confd_functions
from pygen.templating import TemplateSet
from pygen.writer import remove_blank_lines

HAPROXY_TEMPLATE = Path(__file__).resolve().parents[2] / "templates" / "haproxy.cfg.j2"


def render_haproxy(kv: dict[str, str], env: dict[str, str] | None = None) -> str:
    """The file etcd-gen writes for these keys, with ``env`` as the template's ``Env``."""
    ordered = dict(sorted(kv.items()))
    context = {"kv": ordered, "tree": build_tree(ordered), "Env": dict(env or {})}
    text = TemplateSet([str(HAPROXY_TEMPLATE)], confd_functions(ordered)).render(context)
    return remove_blank_lines(text)
