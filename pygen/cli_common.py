"""What the pygen and etcd-gen command lines share: the rendering flags and the error handling.

Both front ends accept the same names for the same things (``-watch``, ``-wait``, ``-notify``,
``-check-cmd``...), parse them the same way and turn them into the same TemplateConfig fields.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import Any

from pygen.durations import parse_go_duration, parse_wait
from pygen.errors import PygenError, UsageError
from pygen.flags import FlagSet, ParsedArgs

RENDER_FLAG_NAMES = frozenset({
    "watch", "wait", "interval", "keep-blank-lines", "atomic", "check-cmd",
    "notify", "notify-output", "notify-timeout",
})


def add_common_flags(flags: FlagSet, source_noun: str) -> None:
    """Flags whose meaning does not depend on the state source."""
    flags.bool("version", "show version")
    flags.bool("watch", f"watch for {source_noun} changes")
    flags.string("wait", "minimum and maximum durations to wait (e.g. \"500ms:2s\") before triggering generate",
                 metavar="string")
    flags.list("config", "config files with template directives (repeatable; sections are concatenated)",
               metavar="path")
    flags.bool("keep-blank-lines", "keep blank lines in the output file")
    flags.string("notify", "run command after template is regenerated (e.g. \"restart xyz\")")
    flags.bool("notify-output", "log the output (stdout/stderr) of notify command")
    flags.int("interval", "notify command interval (secs)")
    flags.bool("atomic", "pygen: write a temp file and rename it over dest (keeps mode and owner) "
                         "instead of rewriting dest in place")
    flags.string("check-cmd", "pygen: command run on the staged new content before dest is replaced, "
                              "a Jinja string with src and dest (e.g. \"nginx -t -c {{ src }}\"); "
                              "non-zero exit keeps dest and skips notify", metavar="command")
    flags.string("notify-timeout", "pygen: kill the notify command after this Go duration (e.g. 30s)",
                 metavar="duration")
    flags.bool("dump-context", f"pygen: print the {source_noun}s the templates see as JSON, and exit")
    flags.string("log-format", "pygen: text or json", default="text")


def render_settings(args: ParsedArgs) -> dict[str, Any]:
    """TemplateConfig fields from the common flags and the positional ``template [dest]``."""
    if len(args.positional) > 2:
        raise UsageError(f"too many arguments: {' '.join(args.positional[2:])}")
    try:
        wait = parse_wait(args["wait"])
    except ValueError as error:  # fatal in docker-gen (exit 1), not a flag-syntax error
        raise PygenError(f"Error parsing wait interval: {error}") from None
    try:
        timeout = parse_go_duration(args["notify-timeout"]) if args["notify-timeout"] else 0.0
    except ValueError as error:
        raise UsageError(f"invalid value for -notify-timeout: {error}") from None
    if args["interval"] < 0:
        raise UsageError("-interval must not be negative")
    if timeout < 0:
        raise UsageError("-notify-timeout must not be negative")
    return {
        "dest": args.positional[1] if len(args.positional) > 1 else "",
        "watch": args["watch"],
        "wait": wait,
        "interval": args["interval"],
        "keep_blank_lines": args["keep-blank-lines"],
        "atomic": args["atomic"],
        "check_cmd": args["check-cmd"],
        "notify_cmd": args["notify"],
        "notify_output": args["notify-output"],
        "notify_timeout": timeout,
    }


def parse_command_line(flags: FlagSet, argv: Sequence[str]) -> ParsedArgs | int:
    """Parse; answer -version and a missing template (usage, exit 1, as docker-gen) directly.

    Returns the parsed arguments, or the exit code when there is nothing more to do.
    """
    from pygen import __version__
    from pygen.logs import configure_logging

    args = flags.parse(argv)
    if args["version"]:
        print(__version__)
        return 0
    try:
        configure_logging(args["log-format"])
    except ValueError as error:
        raise UsageError(str(error)) from None
    if not args.positional and not args["config"] and not args["dump-context"]:
        sys.stderr.write(flags.usage())
        return 1
    return args


def run_main(program: str, run: Callable[[Sequence[str]], int], usage: Callable[[], str],
             argv: Sequence[str] | None) -> int:
    """Exit codes: 2 for usage errors (with usage), 1 for one-line errors, 130 on ^C."""
    try:
        return run(sys.argv[1:] if argv is None else argv)
    except UsageError as error:
        sys.stderr.write(f"{program}: {error}\n")
        sys.stderr.write(usage())
        return 2
    except PygenError as error:
        sys.stderr.write(f"{program}: {error}\n")
        return 1
    except KeyboardInterrupt:
        return 130
