"""``etcd-gen [options] template [dest]``: pygen's engine with an etcd key tree as the state.

The flags are pygen's where they make sense (same names, same Go-style parsing, same config
file keys) plus the etcd connection: endpoints, prefixes, API version, TLS and auth.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Sequence

from pygen.cli_common import (
    add_common_flags,
    parse_command_line,
    render_settings,
    run_main,
)
from pygen.config import (
    TemplateConfig,
    load_config_files,
    runs_forever,
    split_templates,
)
from pygen.errors import ConfigError, UsageError
from pygen.flags import FlagSet, ParsedArgs
from pygen.prefetch import BackgroundRefresh

log = logging.getLogger("pygen")

DESCRIPTION = (
    "Generate files from an etcd key tree with Jinja2 templates, and run a command when they change.\n"
    "Templates see `tree` (nested dicts), `kv` (key -> value), `Env`, confd's get/gets/getv/getvs/\n"
    "exists/ls/lsdir and pygen's docker-gen function library."
)


def build_flags() -> FlagSet:
    flags = FlagSet("etcd-gen", "[options] template [dest]", DESCRIPTION)
    add_common_flags(flags, "key")
    flags.int("min-keys", "keep the last file when a read yields fewer keys than this under the prefixes")
    flags.string("endpoints", "etcd endpoints, comma separated (default $ETCD_ENDPOINTS, else $ETCD_HOST, "
                              "else http://127.0.0.1:2379)", metavar="urls")
    flags.list("prefix", "key prefix the templates see (repeatable, default /)", metavar="prefix")
    flags.string("api", "etcd API: v3, or v2 for clusters that still serve it (etcd < 3.6)", default="v3")
    flags.string("cacert", "CA certificate to verify etcd's TLS certificate", metavar="path")
    flags.string("cert", "TLS client certificate", metavar="path")
    flags.string("key", "TLS client key", metavar="path")
    flags.string("user", "etcd user as name:password (default $ETCD_USER and $ETCD_PASSWORD)",
                 metavar="name:password")
    return flags


def config_from_flags(args: ParsedArgs) -> TemplateConfig:
    templates = split_templates(args.positional[0]) if args.positional else []
    if not templates:
        if not args["dump-context"]:
            raise UsageError("no template given")
        templates = ["-"]
    if args["min-keys"] < 0:
        raise UsageError("-min-keys must not be negative")
    return TemplateConfig(
        templates=templates,
        prefixes=list(args["prefix"]) or ["/"],
        min_keys=args["min-keys"],
        **render_settings(args),
    )


def _credentials(args: ParsedArgs) -> tuple[str, str]:
    text = args["user"] or os.environ.get("ETCD_USER", "")
    if not text:
        return "", ""
    name, sep, password = text.partition(":")
    if not sep:
        password = os.environ.get("ETCD_PASSWORD", "")
    if not name:
        raise UsageError("-user must be name:password")
    return name, password


def _store_client(args: ParsedArgs):  # type: ignore[no-untyped-def]
    from pygen.etcd.connect import default_endpoints, make_store_client

    if args["api"] not in ("v3", "v2"):
        raise UsageError(f"-api must be v3 or v2, not {args['api']!r}")
    endpoints = [e.strip() for e in args["endpoints"].split(",") if e.strip()] or default_endpoints(os.environ)
    user, password = _credentials(args)
    try:
        return make_store_client(args["api"], endpoints, cacert=args["cacert"], cert=args["cert"],
                                 key=args["key"], user=user, password=password)
    except ValueError as error:  # a bad endpoint or option pair: fatal, as pygen's -endpoint
        raise ConfigError(str(error)) from None


def run(argv: Sequence[str]) -> int:
    args = parse_command_line(build_flags(), argv)
    if isinstance(args, int):
        return args
    configs = load_config_files(args["config"]) if args["config"] else [config_from_flags(args)]
    for config in configs:
        if not config.prefixes:
            config.prefixes = ["/"]
    from pygen.etcd.source import EtcdSource

    source = EtcdSource(_store_client(args), configs)
    if args["dump-context"]:
        source.refresh()
        context = source.render_input(configs[0]).context
        sys.stdout.write(json.dumps(context["kv"], indent=2, ensure_ascii=False) + "\n")
        return 0
    # One-shot: the read (mostly etcd marshalling its answer) overlaps importing Jinja and
    # compiling the templates.
    prefetch = None if runs_forever(configs) else BackgroundRefresh(source)
    from pygen.app import run_configs
    from pygen.functions.registry import confd_functions

    return run_configs(configs, source, args["config"], confd_functions(), prefetch)


def main(argv: Sequence[str] | None = None) -> int:
    return run_main("etcd-gen", run, lambda: build_flags().usage(), argv)
