"""``pygen [options] template [dest]``: docker-gen's command line, flags and environment.

Every docker-gen flag is accepted with the same name, default and environment variable, as
``-flag`` or ``--flag``. Additions are marked "pygen:" in the help text.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Sequence

from pygen.cli_common import (
    RENDER_FLAG_NAMES,
    add_common_flags,
    parse_command_line,
    render_settings,
    run_main,
)
from pygen.config import (
    TemplateConfig,
    check_signal,
    load_config_files,
    parse_filter_items,
    runs_forever,
    split_templates,
)
from pygen.errors import PygenError, UsageError
from pygen.flags import FlagSet, ParsedArgs
from pygen.prefetch import BackgroundRefresh

log = logging.getLogger("pygen")

SYNOPSIS = "[options] template [dest]"
DESCRIPTION = (
    "Generate files from Docker container state with Jinja2 templates.\n"
    "template may list several files separated by ';'; without dest, output goes to stdout."
)


def build_flags() -> FlagSet:
    flags = FlagSet("pygen", SYNOPSIS, DESCRIPTION)
    add_common_flags(flags, "container")
    flags.bool("only-exposed", "only include containers with exposed ports")
    flags.bool("only-published", "only include containers with published ports (implies -only-exposed)")
    flags.bool("include-stopped", "include stopped containers")
    flags.list("container-filter", "container filter for inclusion by docker-gen, key=value (repeatable)",
               metavar="key=value")
    flags.list("notify-sighup", "send HUP signal to container (repeatable)", metavar="container")
    flags.list("notify-container", "send -notify-signal signal (defaults to 1 / HUP) to container (repeatable)",
               metavar="container")
    flags.list("notify-filter", "container filter for notification, key=value (repeatable)", metavar="key=value")
    flags.int("notify-signal", "signal to send to the notify-container and notify-filter (-1 = restart)", default=1)
    flags.string("endpoint", "docker api endpoint (tcp|unix://..). Default unix:///var/run/docker.sock")
    flags.string("tlscert", "path to TLS client certificate file", metavar="path")
    flags.string("tlskey", "path to TLS client key file", metavar="path")
    flags.string("tlscacert", "path to TLS CA certificate file", metavar="path")
    flags.bool("tlsverify", "verify docker daemon's TLS certicate (default from DOCKER_TLS_VERIFY)")
    flags.list("event-filter", "additional events filter, key=value (repeatable)", metavar="key=value")
    flags.string("inspect-file", "pygen: read containers from a saved 'docker inspect' JSON array instead "
                                 "of the daemon", metavar="path")
    flags.string("resync-interval", "pygen: with -watch, re-list and re-inspect everything this often "
                                    "(Go duration, 0 = never)", default="5m", metavar="duration")
    return flags


def config_from_flags(args: ParsedArgs) -> TemplateConfig:
    """The single config a command line without -config describes (spec §1)."""
    templates = split_templates(args.positional[0]) if args.positional else []
    if not templates:
        raise UsageError("no template given")
    try:
        notify_filter = parse_filter_items(args["notify-filter"])
        signal_number = check_signal(args["notify-signal"], "-notify-signal")
    except ValueError as error:
        raise UsageError(str(error)) from None
    notify_containers = {name: 1 for name in args["notify-sighup"]}
    notify_containers.update({name: signal_number for name in args["notify-container"]})
    return TemplateConfig(
        templates=templates,
        notify_containers=notify_containers,
        notify_containers_filter=notify_filter,
        notify_containers_signal=signal_number,
        **render_settings(args),
        **_selection_from_flags(args),
    )


def _selection_from_flags(args: ParsedArgs) -> dict[str, object]:
    """Which containers the command line selects: filters, DOCKER_CONTAINER_FILTERS, -only-*."""
    filter_items = list(args["container-filter"])
    if not filter_items and "DOCKER_CONTAINER_FILTERS" in os.environ:
        filter_items = [p.strip() for p in os.environ["DOCKER_CONTAINER_FILTERS"].split(",") if p.strip()]
    try:
        container_filter = parse_filter_items(filter_items)
    except ValueError as error:
        raise UsageError(str(error)) from None
    return {
        "container_filter": container_filter,
        "only_exposed": args["only-exposed"],
        "only_published": args["only-published"],
        "include_stopped": args["include-stopped"],
    }


def _configs(args: ParsedArgs) -> list[TemplateConfig]:
    if args["config"]:
        ignored = sorted(
            name for name in args.given
            if name in RENDER_FLAG_NAMES | {"only-exposed", "only-published", "include-stopped",
                                             "container-filter", "notify-sighup", "notify-container",
                                             "notify-filter", "notify-signal"}
        )
        if ignored or args.positional:
            log.warning("With -config, these command-line settings are ignored: %s",
                        " ".join([f"-{name}" for name in ignored] + args.positional))
        return load_config_files(args["config"])
    return [config_from_flags(args)]


def _tls(args: ParsedArgs):  # type: ignore[no-untyped-def]
    """docker-gen's TLS rules: files default to $DOCKER_CERT_PATH or ~/.docker."""
    from pygen.docker.api import TLSFiles

    cert_dir = os.environ.get("DOCKER_CERT_PATH") or os.path.join(os.path.expanduser("~"), ".docker")
    cert = args["tlscert"] or os.path.join(cert_dir, "cert.pem")
    key = args["tlskey"] or os.path.join(cert_dir, "key.pem")
    ca = args["tlscacert"] or os.path.join(cert_dir, "ca.pem")
    verify = args["tlsverify"] if args.was_given("tlsverify") else bool(os.environ.get("DOCKER_TLS_VERIFY"))
    present = [os.path.exists(path) for path in (cert, key, ca)]
    if not verify and not any(present):
        return None
    if verify and not present[2]:
        raise PygenError("TLS verification was requested, but CA cert does not exist")
    return TLSFiles(cert if present[0] else "", key if present[1] else "", ca if present[2] else "", verify)


def _event_filters(args: ParsedArgs) -> dict[str, list[str]]:
    try:
        return parse_filter_items(args["event-filter"])
    except ValueError as error:
        raise UsageError(str(error)) from None


def _docker_source(args: ParsedArgs, configs: list[TemplateConfig]):  # type: ignore[no-untyped-def]
    if args["inspect-file"]:
        from pygen.docker.source import InspectFileSource

        return InspectFileSource(args["inspect-file"])
    from pygen.docker.api import DEFAULT_ENDPOINT, DockerClient, parse_endpoint
    from pygen.docker.source import DockerSource
    from pygen.durations import parse_go_duration

    text = args["endpoint"] or os.environ.get("DOCKER_HOST", "") or DEFAULT_ENDPOINT
    try:
        endpoint = parse_endpoint(text)
    except ValueError as error:  # docker-gen: "Error creating generator", exit 1
        raise PygenError(f"Error creating generator: {error}") from None
    try:
        resync = parse_go_duration(args["resync-interval"])
    except ValueError as error:
        raise UsageError(str(error)) from None
    client = DockerClient(endpoint, _tls(args))
    return DockerSource(client, configs, _event_filters(args), resync_interval=resync)


def _dump_context(source, args: ParsedArgs) -> int:  # type: ignore[no-untyped-def]
    """Print the containers the (first) config selects, in docker-gen's ``{{ json . }}`` shape."""
    from pygen.functions.gojson import go_json

    if args["config"]:
        config = load_config_files(args["config"])[0]
    else:
        config = TemplateConfig(templates=["-"], **_selection_from_flags(args))
    source.refresh()
    containers = source.render_input(config).context["containers"]
    sys.stdout.write(go_json(containers) + "\n")
    return 0


def run(argv: Sequence[str]) -> int:
    args = parse_command_line(build_flags(), argv)
    if isinstance(args, int):
        return args
    if args["dump-context"]:
        return _dump_context(_docker_source(args, []), args)
    configs = _configs(args)
    source = _docker_source(args, configs)
    # One-shot: read the daemon while Jinja2 is imported and the templates compile.
    prefetch = None if runs_forever(configs) else BackgroundRefresh(source)
    from pygen.app import run_configs
    from pygen.functions.registry import docker_gen_functions

    return run_configs(configs, source, args["config"], docker_gen_functions(), prefetch)


def main(argv: Sequence[str] | None = None) -> int:
    return run_main("pygen", run, lambda: build_flags().usage(), argv)
