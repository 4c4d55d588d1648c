"""Template configurations: one ``TemplateConfig`` per ``[[config]]`` section or per command line.

Both front ends (pygen and etcd-gen) use this model. TOML keys follow docker-gen: they match
case-insensitively (``notifyCmd`` = ``notifycmd``). Deliberate fixes of docker-gen's quirks
(spec §8): several ``-config`` files are concatenated instead of overwritten by index,
``onlyexposed``/``onlypublished``/``includestopped`` are honoured, config mode shows running
containers only unless asked otherwise, and a signal <= 0 other than -1 is refused instead of
silently becoming SIGKILL.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from pygen.durations import Wait, parse_wait
from pygen.errors import ConfigError

log = logging.getLogger("pygen")

RESTART_SIGNAL = -1
"""docker-gen's "signal" -1: restart the container instead of signalling it."""


@dataclass(slots=True)
class TemplateConfig:
    """Everything needed to render one destination and react to its changes."""

    templates: list[str]
    dest: str = ""
    watch: bool = False
    wait: Wait = field(default_factory=Wait)
    interval: int = 0
    keep_blank_lines: bool = False
    atomic: bool = False
    check_cmd: str = ""
    notify_cmd: str = ""
    notify_output: bool = False
    notify_timeout: float = 0.0
    # Docker source
    container_filter: dict[str, list[str]] = field(default_factory=dict)
    only_exposed: bool = False
    only_published: bool = False
    include_stopped: bool = False
    notify_containers: dict[str, int] = field(default_factory=dict)
    notify_containers_filter: dict[str, list[str]] = field(default_factory=dict)
    notify_containers_signal: int = 1
    # etcd source
    prefixes: list[str] = field(default_factory=list)
    min_keys: int = 0
    origin: str = "command line"

    @property
    def name(self) -> str:
        """How logs refer to this config: its destination, or stdout."""
        return self.dest or "stdout"

    def effective_container_filter(self) -> dict[str, list[str]]:
        """The Docker list filters this config selects containers with (spec §1, §5.1).

        Running containers only unless a ``status`` filter or include_stopped says otherwise;
        only_published wins over only_exposed, and neither overrides a user's own filter.
        """
        filters = {key: list(values) for key, values in self.container_filter.items()}
        if "status" not in filters and not self.include_stopped:
            filters["status"] = ["running"]
        if self.only_published:
            filters.setdefault("publish", ["1-65535"])
        elif self.only_exposed:
            filters.setdefault("expose", ["1-65535"])
        return filters


def runs_forever(configs: list[TemplateConfig]) -> bool:
    """A run with a watching or ticking config is a daemon; otherwise it renders once."""
    return any(config.watch or config.interval > 0 for config in configs)


def split_templates(value: str) -> list[str]:
    """docker-gen accepts several template files joined with ``;``."""
    return [part for part in (piece.strip() for piece in value.split(";")) if part]


def parse_filter_items(items: list[str]) -> dict[str, list[str]]:
    """``key=value`` items into a Docker filter map. Values of one key accumulate.

    docker-gen silently drops an item without ``=``; we refuse it, naming the item.
    """
    filters: dict[str, list[str]] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ValueError(f"filter {item!r} is not of the form key=value")
        filters.setdefault(key, []).append(value)
    return filters


def check_signal(value: int, where: str) -> int:
    """Refuse signals docker-gen would turn into SIGKILL by accident."""
    if value <= 0 and value != RESTART_SIGNAL:
        raise ValueError(
            f"{where}: signal {value} is not valid (use a positive signal number, or -1 to restart)"
        )
    return value


# ----------------------------------------------------------------------------- TOML decoding


def _bool(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"{where} must be true or false, not {value!r}")
    return value


def _int(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{where} must be an integer, not {value!r}")
    return value


def _count(value: Any, where: str) -> int:
    """An int that must not be negative (seconds of interval, a number of keys): the flags
    refuse a negative value, and so does the file."""
    number = _int(value, where)
    if number < 0:
        raise ValueError(f"{where} must not be negative, not {number}")
    return number


def _str(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{where} must be a string, not {value!r}")
    return value


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise ValueError(f"{where} must be a number of seconds, not {value!r}")
    return float(value)


def _string_list(value: Any, where: str) -> list[str]:
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValueError(f"{where} must be a list of strings, not {value!r}")
    return list(value)


def _filter_table(value: Any, where: str) -> dict[str, list[str]]:
    if not isinstance(value, dict):
        raise ValueError(f"{where} must be a table of key = [\"value\", ...]")
    return {str(key): _string_list(item, f"{where}.{key}") for key, item in value.items()}


def _signal_table(value: Any, where: str) -> dict[str, int]:
    if not isinstance(value, dict):
        raise ValueError(f"{where} must be a table of container = signal")
    return {
        str(key): check_signal(_int(item, f"{where}.{key}"), f"{where}.{key}")
        for key, item in value.items()
    }


def _wait(value: Any, where: str) -> Wait:
    text = _str(value, where)
    try:
        return parse_wait(text)
    except ValueError as error:
        raise ValueError(f"{where}: {error}") from None


def _templates(value: Any, where: str) -> list[str]:
    templates = split_templates(_str(value, where))
    if not templates:
        raise ValueError(f"{where} must name at least one template file")
    return templates


def _prefixes(value: Any, where: str) -> list[str]:
    return _string_list(value, where)


def _signal(value: Any, where: str) -> int:
    return check_signal(_int(value, where), where)


_KEYS: dict[str, tuple[str, Any]] = {
    "template": ("templates", _templates),
    "dest": ("dest", _str),
    "watch": ("watch", _bool),
    "wait": ("wait", _wait),
    "interval": ("interval", _count),
    "keepblanklines": ("keep_blank_lines", _bool),
    "atomic": ("atomic", _bool),
    "checkcmd": ("check_cmd", _str),
    "notifycmd": ("notify_cmd", _str),
    "notifyoutput": ("notify_output", _bool),
    "notifytimeout": ("notify_timeout", _number),
    "containerfilter": ("container_filter", _filter_table),
    "onlyexposed": ("only_exposed", _bool),
    "onlypublished": ("only_published", _bool),
    "includestopped": ("include_stopped", _bool),
    "notifycontainers": ("notify_containers", _signal_table),
    "notifycontainersfilter": ("notify_containers_filter", _filter_table),
    "notifycontainerssignal": ("notify_containers_signal", _signal),
    "prefix": ("prefixes", _prefixes),
    "prefixes": ("prefixes", _prefixes),
    "minkeys": ("min_keys", _count),
}


def _normalise_key(key: str) -> str:
    """``notify_cmd``, ``notifyCmd`` and ``NotifyCmd`` all mean the same key."""
    return key.replace("_", "").replace("-", "").lower()


def config_from_table(table: dict[str, Any], origin: str) -> TemplateConfig:
    """Build one TemplateConfig from a decoded ``[[config]]`` table."""
    values: dict[str, Any] = {}
    for key, raw in table.items():
        known = _KEYS.get(_normalise_key(key))
        if known is None:
            log.warning("%s: ignoring unknown key %r", origin, key)
            continue
        attribute, convert = known
        try:
            values[attribute] = convert(raw, f"{origin}: {key}")
        except ValueError as error:
            raise ConfigError(str(error)) from None
    if "templates" not in values:
        raise ConfigError(f"{origin}: missing key 'template'")
    config = TemplateConfig(templates=values.pop("templates"), origin=origin)
    return replace(config, **values)


def load_config_file(path: str | Path) -> list[TemplateConfig]:
    """Decode one TOML file; every ``[[config]]`` section becomes a TemplateConfig."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError(f"Error loading config {path}: {error.strerror or error}") from None
    except UnicodeDecodeError as error:
        raise ConfigError(f"Error loading config {path}: not UTF-8 ({error.reason})") from None
    import tomllib  # only config mode pays for the TOML parser

    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"Error loading config {path}: {error}") from None
    sections = document.get("config")
    if sections is None:
        raise ConfigError(f"Error loading config {path}: no [[config]] section")
    if not isinstance(sections, list):
        raise ConfigError(
            f"Error loading config {path}: 'config' must be an array of tables, write [[config]]"
        )
    configs = []
    for number, table in enumerate(sections, start=1):
        if not isinstance(table, dict):
            raise ConfigError(
                f"Error loading config {path}: 'config' must be an array of tables, write [[config]]"
            )
        configs.append(config_from_table(table, f"{path} [[config]] #{number}"))
    for key in document:
        if key != "config":
            log.warning("%s: ignoring unknown top-level key %r", path, key)
    return configs


def load_config_files(paths: list[str]) -> list[TemplateConfig]:
    """Load several files and concatenate their sections, in command-line order.

    docker-gen sorts the paths and overlays later files onto earlier ones by index, losing
    sections; concatenation is what its help text ("merged") promises and what users expect.
    """
    configs: list[TemplateConfig] = []
    seen: set[Path] = set()
    for raw in paths:
        resolved = Path(raw).resolve()
        if resolved in seen:
            continue
        seen.add(resolved)
        configs.extend(load_config_file(raw))
    return configs
