"""Memoised loop bodies (pygen.loopmemo) print exactly what plain Jinja prints, render after render.

pygen compiles every template with ``loopmemo.MemoCodeGenerator``: an eligible ``{% for %}`` body
is keyed by the values it reads, and a re-render reuses the text of every iteration whose key is
unchanged. That is only correct if the key captures *everything* the body's text depends on, so
these tests are differential: each template is rendered by two ``TemplateSet``\\ s of the same
files and functions,

* the **memo** set, exactly as pygen builds it, kept for the whole test so that its memo tables
  carry over from one render to the next (the reuse is what is under test), and
* the **oracle** set, the same environment with Jinja's own ``CodeGenerator`` (set before anything
  is compiled), which re-runs every loop body on every render, and with the memo state disabled,
  so that the ``groupBy*`` functions do not keep what each item is filed under either
  (``loopmemo.per_item_table``),

and after every change of the data both must produce the same text, byte for byte.

What changes, and how:

1. **Docker templates** (every template of ``templates/`` and ``examples/`` that renders from
   Docker state): containers built from the captured ``tests/fixtures/inspect_sample.json`` as
   ``bench/render.py`` builds them, in a real ``ContainerStore``, with the context from the real
   ``build_context``. Between renders a seeded random batch of zero to five events is applied as
   the watcher applies them: ``mark_stopped``, ``put`` of an edited inspect (VIRTUAL_HOST,
   VIRTUAL_PORT, labels, SERVICE_* names, IP, name, published port), ``put`` of a new container,
   ``put`` of an unchanged one (a restart), ``remove``. Fleets of 0, 1, a few and 80 containers
   (most of them on one virtual host, so that a group holds more than 64 containers and is keyed
   by identity instead of by its items). A template calling every ``groupBy*`` function (which
   keep per-item results across renders) runs through the same events.
2. **etcd templates** (``templates/haproxy.cfg.j2``), with the context from the real
   ``EtcdSource.render_input`` over a mirror patched by key events as the watch patches it, and
   sometimes re-read whole as after a compaction: puts and deletes under
   ``/backends/<service>/<id>``, valid and invalid values, ports, service names and key shapes.
   haproxy.cfg.j2 changes lists in place, which turns the memo off for its whole set, so a
   confd-style template the memo does apply to is rendered from the same contexts.
3. **Synthetic templates** aimed at the memo's risky spots (``loop.index``/``cycle``/``last``
   while items come and go at the front, ``loop.changed()``, ``namespace``, sprig ``set``/``unset``,
   ``do xs.append``, ``joiner``, macros, ``{% include %}``, ``1`` vs ``1.0`` vs ``True`` vs ``"1"``,
   ``0.0`` vs ``-0.0``, nested loops over one list, ``containers|length`` around 64 items,
   ``break``/``continue``, template files edited on disk), each over a random evolution of its data,
   followed by minimal reproducers of the cases where the memo and Jinja once disagreed (all fixed).

Everything is seeded and bounded (the file runs in a few seconds); a failure message names the
step and the events that led to it, so a failing case can be replayed.
"""

from __future__ import annotations

import copy
import difflib
import json
import os
import random
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import jinja2.compiler
import pytest

from pygen.config import TemplateConfig
from pygen.docker.state import ContainerStore, build_context
from pygen.etcd.source import EtcdSource
from pygen.etcd.store import KeyEvent, Snapshot
from pygen.functions.registry import confd_functions, docker_gen_functions
from pygen.templating import TemplateSet, make_environment
from tests.helpers.bench_inspects import bench_inspects

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures"
NGINX = REPO / "examples" / "nginx-proxy" / "nginx.conf.j2"
BASIC = REPO / "examples" / "basic" / "containers.tmpl"
REGISTER = REPO / "templates" / "register.py.j2"
HAPROXY = REPO / "templates" / "haproxy.cfg.j2"

Functions = Mapping[str, Callable[..., Any]]


# ============================================================================ memo vs oracle


class TemplatePair:
    """The same template files rendered by pygen's memoising environment and by plain Jinja."""

    def __init__(self, paths: Sequence[Path | str], functions: Functions) -> None:
        self.paths = [str(path) for path in paths]
        self.memo = TemplateSet(self.paths, functions)
        self.oracle = TemplateSet(self.paths, functions)
        # Before anything is compiled: the oracle's templates are Jinja's own code.
        self.oracle.environment.code_generator_class = jinja2.compiler.CodeGenerator
        # And its groupBy* functions keep nothing across renders (loopmemo.per_item_table).
        self.oracle.environment.pygen_memo.enabled = False  # type: ignore[attr-defined]
        self.functions = functions

    def assert_same(self, context: Mapping[str, Any], history: Sequence[str] = ()) -> str:
        """Render ``context`` with both sets; fail with a diff and the history unless equal."""
        memo_text = self.memo.render(context)
        oracle_text = self.oracle.render(context)
        if memo_text != oracle_text:
            raise AssertionError(_mismatch(memo_text, oracle_text, history))
        return memo_text

    def assert_oracle_is_plain_jinja(self) -> None:
        """The oracle's code for the entry template has no memo in it."""
        source = Path(self.paths[0]).read_text(encoding="utf-8")
        assert "pygen_memo" not in self.oracle.environment.compile(source, raw=True)

    def assert_compiles_with_memo(self) -> None:
        """The memo set's code really memoises a loop of the entry template, the oracle's does not
        (checked on a throwaway environment: compiling is not free of effects on the memo state)."""
        source = Path(self.paths[0]).read_text(encoding="utf-8")
        assert "pygen_memo" in make_environment(self.paths, self.functions).compile(source, raw=True)
        self.assert_oracle_is_plain_jinja()

    @property
    def memo_enabled(self) -> bool:
        """False once a template of the set changed a value in place (memoisation is then off)."""
        return bool(self.memo.environment.pygen_memo.enabled)  # type: ignore[attr-defined]


def _mismatch(memo_text: str, oracle_text: str, history: Sequence[str]) -> str:
    diff = list(difflib.unified_diff(oracle_text.splitlines(), memo_text.splitlines(),
                                     "plain Jinja", "memoised", lineterm="", n=2))
    shown = "\n".join(diff[:60]) + ("\n..." if len(diff) > 60 else "")
    steps = "\n".join(f"  {line}" for line in history[-12:])
    return (f"memoised render differs from plain Jinja\nlast steps:\n{steps}\n{shown}\n"
            f"memoised:    {memo_text[:300]!r}\nplain Jinja: {oracle_text[:300]!r}")


def pair_from_source(tmp_path: Path, source: str, functions: Functions | None = None,
                     name: str = "main.j2", **others: str) -> TemplatePair:
    """A TemplatePair over ``source`` written to ``tmp_path/name`` (``others``: more files of the set
    directory, by file name, reachable with ``{% include %}``)."""
    for other, text in others.items():
        (tmp_path / other).write_text(text, encoding="utf-8")
    path = tmp_path / name
    path.write_text(source, encoding="utf-8")
    return TemplatePair([path], functions if functions is not None else docker_gen_functions())


def bump_mtime(path: Path, seconds: int) -> None:
    """Make the file look modified ``seconds`` later, whatever the file system's time resolution."""
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + seconds * 1_000_000_000))


# ============================================================================ 1. Docker state

SAMPLES: list[dict[str, Any]] = json.loads((FIXTURES / "inspect_sample.json").read_text())
NETWORKS: list[dict[str, Any]] = json.loads((FIXTURES / "networks_sample.json").read_text())


def sample(name: str) -> dict[str, Any]:
    return copy.deepcopy(next(s for s in SAMPLES if s["Name"] == name))


CROWDED_HOST = "crowd.example.com"
VIRTUAL_HOSTS = ["app0.example.com", "app1.example.com", " app1.example.com ", "app2.example.com,app3.example.com",
                 "app3.example.com, app4.example.com", CROWDED_HOST, "", None]
VIRTUAL_PORTS = ["8000", "80", "9000", None]
SERVICE_NAMES = ["web", "api", "whoami", "Bad Name!", "", "db.v2"]
LABEL_VALUES = ["blue", "green", "", "a\nb", "ünï"]


def crowded(inspects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """All but every tenth container on one virtual host: that group holds more than 64."""
    for index, inspect in enumerate(inspects):
        if index % 10:
            set_env(inspect, "VIRTUAL_HOST", CROWDED_HOST)
    return inspects


def set_env(inspect: dict[str, Any], name: str, value: str | None) -> None:
    """Set (or, with None, remove) one variable of an inspect's ``Config.Env``."""
    env = [item for item in inspect["Config"].get("Env") or [] if item.split("=", 1)[0] != name]
    if value is not None:
        env.append(f"{name}={value}")
    inspect["Config"]["Env"] = env


class Fleet:
    """A Docker daemon's containers as inspect dicts, mirrored into a real ContainerStore by the
    store's own event methods, with seeded random events."""

    def __init__(self, inspects: list[dict[str, Any]], rng: random.Random) -> None:
        self.rng = rng
        self.inspects = {inspect["Id"]: inspect for inspect in inspects}
        self.store = ContainerStore()
        self.store.current_id = ""
        self.store.replace_all(inspects, NETWORKS)
        self.serial = 0

    def render_context(self, config: TemplateConfig) -> Mapping[str, Any]:
        return build_context(self.store, config, None, self.store.find).context

    def random_event(self) -> str:
        """Apply one event; return what it was, for failure messages."""
        kinds = ["new"] if not self.inspects else ["stop", "stop", "restart", "edit", "edit", "edit", "new", "remove"]
        kind = self.rng.choice(kinds)
        if kind == "new":
            inspect = self._new_container()
            self.inspects[inspect["Id"]] = inspect
            self.store.put(inspect)
            return f"new {inspect['Name']} {inspect['Id'][:12]}"
        container_id = self.rng.choice(sorted(self.inspects))
        if kind == "stop":
            code = self.rng.choice([0, 137, 143])
            self.store.mark_stopped(container_id, code)
            return f"mark_stopped {container_id[:12]} {code}"
        if kind == "restart":
            self.store.put(self.inspects[container_id])
            return f"put unchanged {container_id[:12]}"
        if kind == "remove":
            del self.inspects[container_id]
            self.store.remove(container_id)
            return f"remove {container_id[:12]}"
        inspect, change = self._edited(self.inspects[container_id])
        self.inspects[container_id] = inspect
        self.store.put(inspect)
        return f"put {container_id[:12]} with {change}"

    def _new_container(self) -> dict[str, Any]:
        rng = self.rng
        self.serial += 1
        inspect = sample(rng.choice(["/pygen-cap-plain", "/pygen-cap-plain", "/pygen-cap-web", "/pygen-cap-publishall"]))
        inspect["Id"] = f"{rng.getrandbits(256):064x}"
        inspect["Name"] = f"/new-{self.serial}"
        # Anywhere in the list order: newest, oldest, or between (even a tie, ordered by ID).
        inspect["Created"] = f"2026-11-25T{rng.choice([19, 20, 21]):02d}:{rng.randrange(2):02d}:{rng.randrange(60):02d}.000000000Z"
        set_env(inspect, "VIRTUAL_HOST", rng.choice(VIRTUAL_HOSTS))
        set_env(inspect, "VIRTUAL_PORT", rng.choice(VIRTUAL_PORTS))
        self._set_ip(inspect, f"172.18.{rng.randrange(4)}.{rng.randrange(2, 250)}")
        return inspect

    def _edited(self, inspect: dict[str, Any]) -> tuple[dict[str, Any], str]:
        """A changed copy, running (the store never sees an inspect dict edited in place)."""
        rng = self.rng
        edited = copy.deepcopy(inspect)
        edited["State"] = {**edited["State"], "Running": True, "Status": "running", "ExitCode": 0}
        change = rng.choice(["VIRTUAL_HOST", "VIRTUAL_PORT", "SERVICE_NAME", "label", "ip", "name", "published"])
        if change in {"VIRTUAL_HOST", "VIRTUAL_PORT", "SERVICE_NAME"}:
            value = rng.choice({"VIRTUAL_HOST": VIRTUAL_HOSTS, "VIRTUAL_PORT": VIRTUAL_PORTS,
                                "SERVICE_NAME": [*SERVICE_NAMES, None]}[change])
            set_env(edited, change, value)
            return edited, f"env {change}={value!r}"
        if change == "label":
            labels = dict(edited["Config"].get("Labels") or {})
            key = rng.choice(["com.example.tier", "SERVICE_NAME", "SERVICE_8000_NAME", "SERVICE_IGNORE", "pygen.bench"])
            label = rng.choice([*LABEL_VALUES, None])
            if label is None:
                labels.pop(key, None)
            else:
                labels[key] = label
            edited["Config"]["Labels"] = labels
            return edited, f"label {key}={label!r}"
        if change == "ip":
            ip = rng.choice(["", f"172.19.{rng.randrange(4)}.{rng.randrange(2, 250)}"])
            self._set_ip(edited, ip)
            return edited, f"ip {ip!r}"
        if change == "name":
            edited["Name"] = f"/renamed-{rng.randrange(1000)}"
            return edited, f"name {edited['Name']}"
        host_port = rng.choice([None, "32768", "32769", "40000"])
        edited["NetworkSettings"]["Ports"] = {
            "8000/tcp": None if host_port is None else [{"HostIp": "0.0.0.0", "HostPort": host_port}]}
        return edited, f"8000/tcp published on {host_port}"

    @staticmethod
    def _set_ip(inspect: dict[str, Any], ip: str) -> None:
        networks = inspect["NetworkSettings"].get("Networks") or {}
        for name, network in networks.items():
            network["IPAddress"] = ip
            if name == "bridge":
                inspect["NetworkSettings"]["IPAddress"] = ip
            break


DOCKER_TEMPLATES: dict[str, tuple[Path, dict[str, Any]]] = {
    # name: (template, the TemplateConfig options its header says to render it with)
    "nginx-proxy": (NGINX, {"only_exposed": True}),  # pygen -only-exposed nginx.conf.j2 ...
    "basic": (BASIC, {}),
    "basic-all": (BASIC, {"include_stopped": True}),  # stopped containers stay, without addresses
    "register": (REGISTER, {}),  # HOST_IP=... pygen -watch ... register.py.j2 /tmp/register.py
}
MEMOISED_DOCKER_TEMPLATES = {NGINX, BASIC}
"""The templates whose loops the memo applies to (register.py.j2 changes dicts in place)."""

FLEETS: dict[str, Callable[[], list[dict[str, Any]]]] = {
    "empty": list,
    "one": lambda: bench_inspects(1),
    "few": lambda: bench_inspects(4) + [sample("/pygen-cap-web"), sample("/pygen-cap-publishall")],
    "80-crowded": lambda: crowded(bench_inspects(80)),
}
DOCKER_STEPS = 40
BATCH_SIZES = [0, 1, 1, 1, 2, 3, 5]
"""Events between two renders: often one (watch mode), sometimes none (an interval render)."""


def run_events(pair: TemplatePair, fleet: Fleet, config: TemplateConfig, rng: random.Random) -> None:
    """DOCKER_STEPS renders of both sets, a random batch of container events before each."""
    history: list[str] = []
    for step in range(DOCKER_STEPS):
        events = [fleet.random_event() for _ in range(rng.choice(BATCH_SIZES))]
        history.append(f"step {step}: {'; '.join(events) or 'no change'} ({len(fleet.inspects)} containers)")
        pair.assert_same(fleet.render_context(config), history)


@pytest.mark.parametrize("fleet_name", FLEETS)
@pytest.mark.parametrize("template_name", DOCKER_TEMPLATES)
def test_docker_templates_render_as_plain_jinja_through_container_events(
        template_name: str, fleet_name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each Docker template, rendered as its header says, through a seeded run of container events."""
    monkeypatch.setenv("HOST_IP", "10.0.0.5")  # register.py.j2's header sets it (the script reads it)
    template, options = DOCKER_TEMPLATES[template_name]
    rng = random.Random(f"{template_name}/{fleet_name}")
    fleet = Fleet(FLEETS[fleet_name](), rng)
    config = TemplateConfig([str(template)], dest=str(tmp_path / "out"), **options)
    pair = TemplatePair([template], docker_gen_functions())
    pair.assert_oracle_is_plain_jinja()
    if template in MEMOISED_DOCKER_TEMPLATES:
        pair.assert_compiles_with_memo()

    run_events(pair, fleet, config, rng)
    if template in MEMOISED_DOCKER_TEMPLATES:
        assert pair.memo_enabled, "the test must exercise memoised loops, not the plain path"


GROUPING = """\
{#- Every groupBy* function, some twice with other arguments, as a call and as a filter; loop bodies
    with a filter or a call in them, which the memo keys (|map and |select never are). -#}
{% for host, group in groupBy(containers, "Env.VIRTUAL_HOST").items() %}host {{ host|trim }} ({{ group|length }}): \
{% for c in group %}{{ c.Name|lower }} {% endfor %}
{% endfor %}
{% for port, group in groupByWithDefault(containers, "Env.VIRTUAL_PORT", "none").items() %}port {{ port|upper }}: \
{% for c in group %}{{ c.Name|lower }} {% endfor %}
{% endfor %}
hosts: {{ groupByKeys(containers, "Env.VIRTUAL_HOST")|join(",") }} names: {{ groupByKeys(containers, "Name")|length }}
{% for host, group in groupByMulti(containers, "Env.VIRTUAL_HOST", ",").items() %}multi {{ host|trim }}: \
{% for c in group %}{{ c.Name|lower }}{% for net in c.Networks %}@{{ net.IP|default("-", true) }}{% endfor %} {% endfor %}
{% endfor %}
{% for tier, group in groupByLabel(containers, "com.example.tier").items() %}tier {{ tier|tojson }}: {{ group|length }}
{% endfor %}
{% for name, group in (containers|groupByLabel("SERVICE_NAME")).items() %}service {{ name|tojson }}: {{ group|length }}
{% endfor %}
{% for tier, group in groupByLabelWithDefault(containers, "com.example.tier", "untiered").items() %}\
tier* {{ tier|tojson }}: {% for c in group %}{{ c.ID|truncate(15) }} {% endfor %}
{% endfor %}"""


SELECTION = """\
{#- Every where* function, some twice with other arguments (each call keeps its own answers). -#}
{% set picks = [
    where(containers, "Env.VIRTUAL_PORT", "8000"), where(containers, "Env.VIRTUAL_PORT", "80"),
    whereNot(containers, "Env.VIRTUAL_PORT", "8000"), whereExist(containers, "Env.VIRTUAL_HOST"),
    whereNotExist(containers, "Env.VIRTUAL_HOST"), whereAny(containers, "Env.VIRTUAL_HOST", ",", ["app1.example.com", "b"]),
    whereAll(containers, "Env.VIRTUAL_HOST", ",", ["a", "b"]), whereAll(containers, "Env.VIRTUAL_HOST", ",", ["a"]),
    whereLabelExists(containers, "com.example.tier"), whereLabelDoesNotExist(containers, "com.example.tier"),
    whereLabelValueMatches(containers, "SERVICE_NAME", "^w"), whereLabelValueMatches(containers, "SERVICE_NAME", "i$"),
    containers|where("State.Running", true),
] %}
{% for pick in picks %}{{ loop.index }}: {% for c in pick %}{{ c.Name|lower }} {% endfor %}
{% endfor %}"""


@pytest.mark.parametrize("fleet_name", ["few", "80-crowded"])
@pytest.mark.parametrize(("seed", "source"), [("grouping", GROUPING), ("selection", SELECTION)], ids=["groupBy", "where"])
def test_per_item_functions_render_as_plain_jinja_through_container_events(
        seed: str, source: str, fleet_name: str, tmp_path: Path) -> None:
    """``groupBy*`` and ``where*`` keep each container's answer (what it is filed under, whether it
    is kept) across renders, by identity, per call and arguments: after each event they must
    still answer for every container as a fresh pass would."""
    rng = random.Random(f"{seed}/{fleet_name}")
    fleet = Fleet(FLEETS[fleet_name](), rng)
    config = TemplateConfig([str(tmp_path / "main.j2")], dest=str(tmp_path / "out"), include_stopped=True)
    pair = pair_from_source(tmp_path, source)
    pair.assert_compiles_with_memo()
    run_events(pair, fleet, config, rng)
    assert pair.memo_enabled


def test_a_crowded_fleet_has_a_group_beyond_the_sequence_key_limit() -> None:
    """The 80-container fleet really puts more than 64 containers in one VIRTUAL_HOST group, so the
    nginx-proxy runs above cover the loop over a group keyed by identity, not by its items."""
    from pygen.loopmemo import _SEQUENCE_KEY_LIMIT

    hosts = [item for inspect in FLEETS["80-crowded"]() for item in inspect["Config"]["Env"]
             if item == f"VIRTUAL_HOST={CROWDED_HOST}"]
    assert len(hosts) > _SEQUENCE_KEY_LIMIT


# ============================================================================ 2. etcd state


class SnapshotClient:
    """etcd without a server: ``read`` answers with the keys the test holds (a StoreClient)."""

    def __init__(self) -> None:
        self.kv: dict[str, str] = {}
        self.revision = 1

    def read(self, prefixes: Sequence[str]) -> Snapshot:
        return Snapshot(self.revision, {key: value.encode() for key, value in self.kv.items()
                                        if any(key.startswith(prefix) for prefix in prefixes)})

    def watch(self, prefixes: Sequence[str], from_revision: int, stop_event: Any) -> Iterator[list[KeyEvent]]:
        raise AssertionError("the test applies key events to the mirror itself")

    def describe(self) -> str:
        return "the test's keys"

    def close(self) -> None:
        pass


# Valid values and invalid ones the template must skip (picked one time in six), so that services
# get served, and re-served as they change, among skipped keys.
SERVICES = (["web", "api", "db", "cache", "svc.v2"], ["Bad Name", "-dash", "x" * 70])
SERVER_IDS = (["a1b2c3d4e5f6", "0123456789ab", "host-1", "host-2", "host-3"], ["bad id!", "y" * 65])
ADDRESSES = (["10.0.0.1:8000", "10.0.0.2:8000", "192.168.1.10:32768", "10.0.0.3:80", "10.0.0.4:65535"],
             ["10.0.0.300:80", "10.0.0.1:0", "10.0.0.1", "not-an-address", "10.0.0.01:80", "::1:80", "",
              "10.0.0.3:80\nlisten pwn"])
PORTS = (["80", "8080", "8081", "443", "5432", "6379", "1936"], ["0", "70000", "abc", " 80", "08080", ""])
INITIAL_KEYS = {
    "/backends/web/port": "80", "/backends/web/a1b2c3d4e5f6": "10.0.0.1:8000", "/backends/web/host-1": "10.0.0.2:8000",
    "/backends/api/port": "8080", "/backends/api/0123456789ab": "10.0.0.3:80",
    "/backends/db/port": "5432", "/backends/db/host-2": "192.168.1.10:32768",
}
ODD_KEYS = ["/backends/web/extra/deep", "/backends/web", "/backends", "/backendsx/web/a1", "/other/key"]


def pick(rng: random.Random, choices: tuple[list[str], list[str]]) -> str:
    valid, invalid = choices
    return rng.choice(invalid if rng.random() < 1 / 6 else valid)


def random_key_event(rng: random.Random, kv: Mapping[str, str], revision: int) -> KeyEvent:
    """A put or delete under /backends, valid or not, as the watch reports them."""
    kind = rng.choice(["server"] * 5 + ["port"] * 2 + ["odd", "delete", "delete", "delete-dir"])
    service = pick(rng, SERVICES)
    if kind == "server":
        return KeyEvent("put", f"/backends/{service}/{pick(rng, SERVER_IDS)}", pick(rng, ADDRESSES).encode(), revision)
    if kind == "port":
        return KeyEvent("put", f"/backends/{service}/port", pick(rng, PORTS).encode(), revision)
    if kind == "odd":
        return KeyEvent("put", rng.choice(ODD_KEYS), pick(rng, ADDRESSES).encode(), revision)
    if kind == "delete" and kv:
        return KeyEvent("delete", rng.choice(sorted(kv)), b"", revision)
    return KeyEvent("delete", f"/backends/{service}", b"", revision, recursive=True)  # an etcd v2 directory delete


def apply_to_model(kv: dict[str, str], event: KeyEvent) -> None:
    if event.kind == "put":
        kv[event.key] = event.value.decode()
        return
    kv.pop(event.key, None)
    if event.recursive:
        for key in [key for key in kv if key.startswith(event.key.rstrip("/") + "/")]:
            del kv[key]


CONFD_STYLE = """\
{#- confd style, without in-place changes, so that the memo applies to its loops. -#}
{% for key, value in kv.items() %}
{{ loop.index }}/{{ loop.length }} {{ base(key) }} in {{ key.split("/")[2] if key.count("/") > 1 else "-" }}: \
{{ value|trim|replace(":", " port ")|tojson }}{% if loop.last %} (last){% endif %}
{%- endfor %}
{% for service in lsdir("/backends") %}
[{{ service }}]
{%- for pair in gets("/backends/" ~ service ~ "/*") %}
  {{ loop.cycle("odd", "even") }} {{ pair.Key }} = {{ pair.Value|upper|tojson }}
{%- endfor %}
{%- endfor %}
{% for name, entries in tree.get("backends", {}).items() %}
{{ name }} ({{ entries|length if entries is mapping else "value" }}):
{%- if entries is mapping %}{% for id, value in entries.items() %} {{ id }}={{ value if value is string else "dir" }}{% endfor %}{% endif %}
{% endfor %}
"""

ETCD_ENVIRONMENTS: dict[str, dict[str, str]] = {
    "defaults": {},
    "tcp": {"HAPROXY_MODE": "tcp", "HAPROXY_TCP_SERVICES": "db, cache", "HAPROXY_STATS": "*:1937"},
}
ETCD_STEPS = 50


@pytest.mark.parametrize("env_name", ETCD_ENVIRONMENTS)
def test_etcd_templates_render_as_plain_jinja_through_key_changes(
        env_name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """haproxy.cfg.j2 as etcd-gen renders it (``-prefix /backends``, confd's functions, the context
    of ``EtcdSource.render_input``), and a confd-style template over the same contexts."""
    for name, value in ETCD_ENVIRONMENTS[env_name].items():
        monkeypatch.setenv(name, value)
    rng = random.Random(f"etcd/{env_name}")
    client = SnapshotClient()
    client.kv.update(INITIAL_KEYS)  # what the first full read finds
    config = TemplateConfig([str(HAPROXY)], dest=str(tmp_path / "haproxy.cfg"), prefixes=["/backends"])
    source = EtcdSource(client, [config])
    source.refresh()
    haproxy = TemplatePair([HAPROXY], confd_functions())
    haproxy.assert_oracle_is_plain_jinja()
    confd_style = pair_from_source(tmp_path, CONFD_STYLE, confd_functions(), name="confd.tmpl")
    confd_style.assert_compiles_with_memo()

    history: list[str] = []
    for step in range(ETCD_STEPS):
        batch = []
        for _ in range(rng.choice(BATCH_SIZES)):
            client.revision += 1
            event = random_key_event(rng, client.kv, client.revision)
            apply_to_model(client.kv, event)
            batch.append(event)
        if rng.random() < 0.1:
            source.refresh()  # a full read, as after a compaction or a reconnect
            how = "re-read"
        else:
            source.mirror.apply(batch)
            how = "watched"
        history.append(f"step {step} ({how}): " + "; ".join(
            f"{e.kind} {e.key!r}{'/*' if e.recursive else ''}{'=' + repr(e.value.decode()) if e.kind == 'put' else ''}"
            for e in batch))
        context = source.render_input(config).context
        haproxy.assert_same(context, history)
        confd_style.assert_same(context, history)

    assert confd_style.memo_enabled


# ============================================================================ 3. synthetic templates

VALUES: list[Any] = ["a", "b", "c", "a", "Ω", "", 1, 1.0, True, "1", 0, 0.0, -0.0, False, None, 2.5, "<b>"]
"""Loop items: equal-but-differently-printed values (1, 1.0, True, "1"; 0, 0.0, -0.0, False)
and repeats, so that keys collide whenever the memo keys too coarsely."""


def evolve(rng: random.Random, items: list[Any]) -> list[Any]:
    """A new list: the old one with one random edit, at the front as often as anywhere else."""
    items = list(items)
    edit = rng.choice(["insert-front", "remove-front", "append", "pop", "replace", "duplicate", "swap", "same"])
    if edit == "insert-front":
        items.insert(0, rng.choice(VALUES))
    elif edit == "append" or not items:
        items.append(rng.choice(VALUES))
    elif edit == "remove-front":
        items.pop(0)
    elif edit == "pop":
        items.pop()
    elif edit == "replace":
        items[rng.randrange(len(items))] = rng.choice(VALUES)
    elif edit == "duplicate":
        items.insert(rng.randrange(len(items) + 1), rng.choice(items))
    elif edit == "swap":
        i, j = rng.randrange(len(items)), rng.randrange(len(items))
        items[i], items[j] = items[j], items[i]
    return items[:12]


def evolving_contexts(seed: str, steps: int = 30) -> Iterator[tuple[dict[str, Any], str]]:
    """Contexts whose lists ``xs`` and ``ys`` and dict ``d`` change a little each step (fresh
    objects each time, as a source builds them), with a description of the step."""
    rng = random.Random(seed)
    xs: list[Any] = ["a", "b", 1]
    ys: list[Any] = ["a", 1.0]
    for step in range(steps):
        xs, ys = evolve(rng, xs), (evolve(rng, ys) if rng.random() < 0.5 else list(ys))
        d = {str(value): value for value in xs[:3]}
        yield {"xs": xs, "ys": ys, "d": d}, f"step {step}: xs={xs!r} ys={ys!r}"


SYNTHETIC: dict[str, str] = {
    "loop position while items come and go at the front": """\
{% for x in xs %}{{ loop.index }}/{{ loop.length }} {{ loop.index0 }} {{ loop.revindex }} {{ loop.revindex0 }} \
{{ loop.cycle("odd", "even") }}{% if loop.first %} first{% endif %}{% if loop.last %} last{% endif %} \
{{ x|string|upper }}
{% endfor %}""",
    "loop.changed, previtem and nextitem": """\
{% for x in xs %}{% if loop.changed(x) %}[{{ x|string|upper }}]{% endif %}\
{{ loop.previtem|string }}<{{ x|string|lower }}>{{ loop.nextitem|string }} {% endfor %}
{% for x in xs %}{{ loop.index }}{{ x|string|upper }} {% endfor %}""",
    "namespace counter set in the outer loop, read in the inner one": """\
{% set ns = namespace(count=0, last="") %}{% for x in xs %}{% set ns.count = ns.count + 1 %}\
{% for y in ys %}{{ ns.count }}{{ ns.last }}:{{ (y ~ x)|upper }} {% endfor %}{% set ns.last = x|string %}
{% endfor %}{{ ns.count }}""",
    "sprig set and unset on a dict read later in a loop": """\
{% set seen = {} %}{% for x in xs %}{% if loop.index is odd %}{% set _ = set(seen, x|string, loop.index) %}\
{% else %}{% set _ = unset(seen, x|string) %}{% endif %}{% endfor %}\
{% for key in seen|sort %}{{ key|upper }}={{ seen[key] }} {% endfor %}
{% for x in xs %}{{ seen.get(x|string, "-")|string|upper }} {% endfor %}""",
    "do xs.append": """\
{% set acc = [] %}{% for x in xs %}{% do acc.append(x|string) %}{{ acc|join(",")|upper }};{% endfor %}
{% for x in xs %}{{ (acc|length)|string ~ x|string|upper }} {% endfor %}""",
    "joiner outside and inside the loop": """\
{% set comma = joiner(", ") %}{% for x in xs %}{{ comma() }}{{ x|string|upper }}{% endfor %}
{% for y in ys %}{% set plus = joiner("+") %}{% for x in xs %}{{ plus() }}{{ (x ~ y)|upper }}{% endfor %};{% endfor %}""",
    "macro called in a loop": """\
{% macro show(value, sep="-") %}<{{ value|string|upper }}{{ sep }}{{ d|length }}>{% endmacro %}\
{% macro wrap() %}[{{ caller() }}]{% endmacro %}\
{% for x in xs %}{{ show(x) }}{{ show(x, sep="+") }} {% endfor %}
{% for x in xs %}{% call wrap() %}{{ x|string|lower }}{% endcall %} {% endfor %}""",
    "1, 1.0, True and '1'; 0.0 and -0.0": """\
{% for x in xs %}{{ x }}|{{ x ~ "" }}|{{ x|tojson }}|{{ x is number }}|{{ x|string|length }}|{{ (x, x)|string }};
{% endfor %}{% for k, v in d|dictsort %}{{ k|upper }}={{ v }}/{{ v|string }} {% endfor %}""",
    "nested loops over the same list": """\
{% for x in xs %}{% for y in xs %}{{ loop.index }}{{ (x ~ y)|upper }}{% if not loop.last %},{% endif %}\
{% endfor %} #{{ loop.index }}/{{ xs|length }}
{% endfor %}""",
    "break and continue": """\
{% for x in xs %}{% if x == "c" %}{% break %}{% endif %}{% if x is number %}{% continue %}{% endif %}\
{{ x|string|upper }}({% for y in ys %}{% if y == x %}{% break %}{% endif %}{% if y is none %}{% continue %}{% endif %}\
{{ y|string|lower }}{% endfor %});{% endfor %}
{% for x in xs %}{% for y in ys %}{% if y == x %}{% break %}{% endif %}{% if y is none %}{% continue %}{% endif %}\
{{ (x ~ y)|upper }},{% endfor %}|{% endfor %}""",
    "loop over a filtered list and a loop filter": """\
{% for x in xs|select("string")|list %}{{ loop.index }}{{ x|upper }} {% endfor %}
{% for x in xs if x is not none %}{{ loop.index }}/{{ loop.length }}{{ x|string|upper }} {% endfor %}""",
    "sets inside the body and a name set after the loop": """\
{% for x in xs %}{% set label = (x|string|upper) ~ suffix %}{% for y in ys %}{{ label }}{{ y|string|lower }}{% endfor %};\
{% endfor %}{% set suffix = "!" %}{{ suffix }}""",
    "loops in a filter block, a set block and a macro": """\
{% filter upper %}{% for x in xs %}{{ x|string|lower }}{% endfor %}{% endfilter %}
{% set block %}{% for x in ys %}{{ x|string|lower }},{% endfor %}{% endset %}[{{ block }}]
{% macro listing(items, tag) %}{% for x in items %}{{ tag }}{{ x|string|lower }}{% endfor %}{% endmacro %}\
{{ listing(xs, "x") }}{{ listing(ys, "y") }}{{ listing(xs, "x") }}""",
}
CHANGES_VALUES_IN_PLACE = {"namespace counter set in the outer loop, read in the inner one",
            "sprig set and unset on a dict read later in a loop", "do xs.append"}
"""Templates that change a value in place (which turns the memo off for their whole set)."""


@pytest.mark.parametrize("name", SYNTHETIC)
def test_synthetic_templates_render_as_plain_jinja_as_their_data_changes(name: str, tmp_path: Path) -> None:
    pair = pair_from_source(tmp_path, SYNTHETIC[name])
    pair.assert_compiles_with_memo()
    history: list[str] = []
    for context, step in evolving_contexts(name):
        history.append(step)
        pair.assert_same(context, history)
    if name not in CHANGES_VALUES_IN_PLACE:
        assert pair.memo_enabled


def test_a_body_reading_containers_length_around_the_sequence_key_limit(tmp_path: Path) -> None:
    """``containers`` is keyed by its items up to 64 and by identity beyond: the count must follow
    as the list grows and shrinks across the limit, with unchanged containers kept as objects."""
    pair = pair_from_source(tmp_path, """\
{% for c in containers %}{{ c.name|upper }} {{ loop.index }} of {{ containers|length }} {{ containers[-1].name }}
{% endfor %}""")
    pair.assert_compiles_with_memo()
    rng = random.Random("containers|length")
    containers = [{"name": f"c{index}"} for index in range(60)]
    history = []
    for step in range(30):
        change = rng.choice(["grow", "grow", "shrink", "none"])
        if change == "grow":
            for _ in range(rng.randrange(1, 4)):
                containers.insert(rng.randrange(len(containers) + 1), {"name": f"c{rng.randrange(1000)}"})
        elif change == "shrink" and containers:
            del containers[rng.randrange(len(containers))]
        history.append(f"step {step}: {change}, {len(containers)} containers")
        pair.assert_same({"containers": list(containers)}, history)


def test_include_inside_a_loop(tmp_path: Path) -> None:
    """An included file sees the loop's variables; its own loops are memoised with its own tables,
    and it is included several times per render with different data."""
    pair = pair_from_source(
        tmp_path,
        '{% for x in xs %}{% include "row.j2" %}{% endfor %}{% include "row.j2" %}',
        **{"row.j2": '{% for y in ys %}{{ (x|string ~ y|string)|upper }}{{ loop.index }} {% endfor %}|\n'},
    )
    history: list[str] = []
    for context, step in evolving_contexts("include"):
        context["x"] = "top"
        history.append(step)
        pair.assert_same(context, history)


def test_template_files_edited_on_disk_take_effect_on_the_next_render(tmp_path: Path) -> None:
    """pygen re-reads a template whose modification time changed: an edited loop body, an edited
    included file, and an edit that adds an in-place change, each show at once in both sets."""
    main = tmp_path / "main.j2"
    row = tmp_path / "row.j2"
    pair = pair_from_source(
        tmp_path,
        '{% for x in xs %}{{ x|string|upper }}-{% endfor %}\n{% for x in xs %}{% include "row.j2" %}{% endfor %}',
        **{"row.j2": "{% for y in ys %}{{ (x ~ y)|lower }} {% endfor %}\n"},
    )
    contexts = evolving_contexts("edits", steps=12)
    edits = {
        3: (main, '{% for x in xs %}{{ x|string|upper }}+{% endfor %}\n{% for x in xs %}{% include "row.j2" %}{% endfor %}', "+"),
        6: (row, "{% for y in ys %}{{ (x ~ y)|upper }}={{ loop.index }} {% endfor %}\n", "="),
        9: (main, ('{% set seen = [] %}{% for x in xs %}{% do seen.append(x) %}{{ x|string|upper }}*{% endfor %}'
                   '{{ seen|length }}\n{% for x in xs %}{% include "row.j2" %}{% endfor %}'), "*"),
    }
    history: list[str] = []
    for index, (context, step) in enumerate(contexts):
        context["xs"] = context["xs"] or ["a"]
        context["ys"] = context["ys"] or ["b"]
        edit = edits.get(index)
        if edit is not None:
            path, source, _ = edit
            path.write_text(source, encoding="utf-8")
            bump_mtime(path, index)
            history.append(f"edited {path.name}")
        history.append(step)
        text = pair.assert_same(context, history)
        if edit is not None:
            assert edit[2] in text, f"the edit of {edit[0].name} did not show"


# ------------------------------------------------------------------ cases found once, now fixed
# Minimal reproducers of cases where the memoised render once differed from plain Jinja.


def test_an_inner_loops_else_block_reads_the_outer_loop(tmp_path: Path) -> None:
    """In Jinja an inner loop's ``{% else %}`` runs in the outer loop's scope: ``loop`` there is the
    outer loop, whose position must then be part of the outer body's key."""
    pair = pair_from_source(tmp_path, "{% for x in xs %}{% for y in [] %}{% else %}{{ loop.index }}{{ x|upper }}"
                                      "{% endfor %}{% endfor %}")
    assert pair.assert_same({"xs": ["a", "a", "b"]}) == "1A2A3B"


def test_an_inner_loops_filter_reads_the_outer_loop(tmp_path: Path) -> None:
    """Likewise the ``if`` filter of an inner ``{% for ... if ... %}`` sees the outer ``loop``."""
    pair = pair_from_source(tmp_path, "{% for x in xs %}{% for y in ys if loop.index > 1 %}{{ y|upper }}"
                                      "{% endfor %}|{% endfor %}")
    assert pair.assert_same({"xs": ["a", "a", "b"], "ys": ["p", "q"]}) == "|PQ|PQ|"


@pytest.mark.parametrize("source, expected", [
    (("{% for x in xs %}{{ x|upper }}{% for y in [] %}{% else %}{% if x == 'b' %}{% break %}{% endif %}"
      "{% endfor %}{% endfor %}"), "AB"),
    (("{% for x in xs %}{{ x|upper }}{% for y in [] %}{% else %}{% if x == 'b' %}{% continue %}{% endif %}"
      "{% endfor %}.{% endfor %}"), "A.BC."),
], ids=["break", "continue"])
def test_break_or_continue_in_an_inner_loops_else_block_keeps_the_text_before_it(
        tmp_path: Path, source: str, expected: str) -> None:
    """A ``{% break %}``/``{% continue %}`` in an inner loop's ``{% else %}`` ends an iteration of the
    *outer* loop; what that iteration printed before it is still part of the output."""
    pair = pair_from_source(tmp_path, source)
    assert pair.assert_same({"xs": ["a", "b", "c"]}) == expected


@pytest.mark.parametrize("source, context, expected", [
    ('{% set odd = xs|select("odd") %}{% for y in ys %}[{{ odd|join(",") }}]{% endfor %}',
     {"xs": [1, 2, 3], "ys": ["a", "a"]}, "[1,3][]"),
    ('{% set upper = xs|map("upper") %}{% for x in upper %}{{ loop.index }}{{ upper|join }}{% endfor %}',
     {"xs": ["p", "q", "r"]}, "1QR"),
], ids=["read-in-the-body", "looped-over-and-read-in-the-body"])
def test_a_generator_read_in_a_loop_body_is_consumed_as_jinja_consumes_it(
        tmp_path: Path, source: str, context: dict[str, Any], expected: str) -> None:
    """``select``/``map`` return generators, which reading consumes. Read in a loop body, the first
    iteration consumes it and the next ones see it empty, but a key by identity reuses the first
    iteration's text; and keying a loop over it by ``loop.length`` reads the rest of it before the
    body runs, where Jinja's body would have read it."""
    pair = pair_from_source(tmp_path, source)
    assert pair.assert_same(context) == expected


def test_autoescape_decided_at_render_time(tmp_path: Path) -> None:
    """Inside ``{% autoescape expr %}`` with a non-constant expression, whether a body's output is
    escaped is known only at render time, and is not part of the key."""
    pair = pair_from_source(tmp_path, "{% for r in [1, 2] %}{% autoescape r == 1 %}{% for x in xs %}{{ x|upper }}"
                                      "{% endfor %}{% endautoescape %}{% endfor %}")
    assert pair.assert_same({"xs": ["<a>"]}) == "&lt;A&gt;<A>"


def test_sameas_tells_equal_strings_apart(tmp_path: Path) -> None:
    """``is sameas`` compares identity, which a key by value cannot see (two equal strings that are
    different objects)."""
    pair = pair_from_source(tmp_path, "{% for x in xs %}{{ (x is sameas y)|string }}{{ x|upper }}{% endfor %}")
    shared = "".join(["a", "b"])  # noqa: FLY002 - a new str object, not the interned literal
    equal = "".join(["a", "b"])  # noqa: FLY002
    assert pair.assert_same({"xs": [shared], "y": shared}) == "TrueAB"
    assert pair.assert_same({"xs": [shared], "y": equal}) == "FalseAB"


# ============================================================================ coverage


def test_every_template_of_the_repository_is_covered() -> None:
    """A template added under templates/ or examples/ must join DOCKER_TEMPLATES or the etcd test."""
    found = {path for folder in ("templates", "examples") for path in (REPO / folder).rglob("*")
             if path.is_file() and path.suffix in {".j2", ".tmpl", ".jinja", ".jinja2"}}
    covered = {template for template, _ in DOCKER_TEMPLATES.values()} | {HAPROXY}
    assert found == covered
