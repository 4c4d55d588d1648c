"""Watch-mode requirements (issue 3) that tests/integration/test_pygen_watch.py does not assert yet.

Same approach as there: the real ``pygen`` process in the background (``pygen_bg``), the real
dockerd (a private second one where the daemon must go away), containers labelled
``pygen.case=<id>`` and selected by that label, bounded waits; fixed sleeps only to show that
something did NOT happen.
"""
from __future__ import annotations

import json
import os
import re
import signal
import time
from pathlib import Path

import pytest

from tests.helpers import wait_until
from tests.integration.pygen_runner import count_lines, read, wait_file
from tests.integration.test_pygen_watch import (
    CASE_LABEL,
    GENERATED,
    NAMES_TMPL,
    assert_stops_cleanly,
    lines,
    select,
    start_watching,
    write,
)

pytestmark = pytest.mark.docker

NETS_TMPL = "{% for c in containers %}{{ c.Name }}:{% for n in c.Networks %}{{ n.Name }},{% endfor %}\n{% endfor %}"


def own_events(case: str) -> list[str]:
    return ["-event-filter", f"label={CASE_LABEL}={case}"]


# ---------------------------------------------------------------------------- 1. events
def test_a_health_status_change_rerenders(containers, case, tmp_path, pygen_bg):
    """health_status is a default event: the file follows a container going unhealthy -> healthy
    although nothing else happens to it (the check passes once /tmp/ok exists)."""
    c = containers.run("health", labels={CASE_LABEL: case}, publish_ip=None,
                       healthcheck="[ -e /tmp/ok ]")
    tmpl = write(tmp_path / "t" / "health.tmpl",
                 "{% for c in containers %}{{ c.Name }}={{ c.State.Health.Status }}\n{% endfor %}")
    dest = tmp_path / "health.txt"
    p = start_watching(pygen_bg, case, tmpl, dest)
    wait_file(dest, f"{c.name}=unhealthy\n", timeout=10, message="the container to show unhealthy")
    code, out = c.exec(["sh", "-c", "echo > /tmp/ok"])
    assert code == 0, out
    wait_file(dest, f"{c.name}=healthy\n", timeout=5, message="the container to show healthy")
    assert "Received event health_status: healthy for container" in p.log()
    assert_stops_cleanly(p)


def test_event_filter_event_adds_network_connect_events(containers, docker_networks, case, tmp_path, pygen_bg):
    """-event-filter event=connect: connecting a container to a network re-renders at once."""
    c = containers.run("connect", labels={CASE_LABEL: case}, publish_ip=None)
    net = docker_networks.create("connect")
    tmpl, dest = write(tmp_path / "t" / "nets.tmpl", NETS_TMPL), tmp_path / "nets.txt"
    # No label event filter: network events carry no container labels.
    p = pygen_bg.start("-watch", *select(case), "-event-filter", "event=connect", tmpl, dest)
    p.wait_log("Watching docker events")
    p.wait_log(GENERATED)
    assert read(dest) == f"{c.name}:bridge,\n"
    c.api.connect_container_to_network(c.id, net)
    wait_file(dest, lambda text: net in text, timeout=5, message="the new network in the file")
    assert "Received event connect for network" in p.log()
    assert_stops_cleanly(p)


# ---------------------------------------------------------------------------- 1. [[config]] sections
def config_section(template: Path, dest: Path, case: str, extra: str = "") -> str:
    return (f'[[config]]\ntemplate = "{template}"\ndest = "{dest}"\nwatch = true\n{extra}'
            f'[config.ContainerFilter]\nlabel = ["{CASE_LABEL}={case}"]\n\n')


def test_each_config_section_renders_with_its_own_debounce(containers, case, tmp_path, pygen_bg):
    tmpl = write(tmp_path / "t" / "names.tmpl", NAMES_TMPL)
    fast, slow = tmp_path / "fast.txt", tmp_path / "slow.txt"
    config = write(tmp_path / "conf" / "pygen.toml",
                   config_section(tmpl, fast, case) + config_section(tmpl, slow, case, 'wait = "2s:8s"\n'))
    p = pygen_bg.start("-config", config, *own_events(case))
    p.wait_log(GENERATED, count=2)
    c = containers.run("sections", labels={CASE_LABEL: case}, publish_ip=None, start=False)
    t0 = time.monotonic()
    c.api.start(c.id)
    wait_file(fast, f"{c.name}\n", timeout=3, message="the undebounced section")
    assert lines(slow) == ["none"], "the debounced section rendered with the undebounced one"
    wait_file(slow, f"{c.name}\n", timeout=6, message="the debounced section")
    assert time.monotonic() - t0 >= 1.8, "the debounced section did not wait its 2 s"
    assert p.count("Debounce minTimer fired") == 1, p.log()
    assert_stops_cleanly(p)


# ---------------------------------------------------------------------------- 8. notify dedup
def test_sections_sharing_a_notify_command_run_it_once_per_pass(containers, case, tmp_path, pygen_bg):
    tmpl = write(tmp_path / "t" / "names.tmpl", NAMES_TMPL)
    marker = tmp_path / "notified"
    notify = f'notifycmd = "echo n >> {marker}"\n'
    config = write(tmp_path / "conf" / "pygen.toml",
                   config_section(tmpl, tmp_path / "a.txt", case, notify)
                   + config_section(tmpl, tmp_path / "b.txt", case, notify))
    p = pygen_bg.start("-config", config, *own_events(case))
    p.wait_log(GENERATED, count=2)
    wait_until(lambda: count_lines(marker) >= 1, 5, message="the first notify")
    time.sleep(0.5)
    assert count_lines(marker) == 1, "both sections changed in the first pass: one run expected"
    c = containers.run("dedup", labels={CASE_LABEL: case}, publish_ip=None)
    wait_file(tmp_path / "a.txt", f"{c.name}\n", timeout=5)
    wait_file(tmp_path / "b.txt", f"{c.name}\n", timeout=5)
    wait_until(lambda: count_lines(marker) >= 2, 5, message="the notify after the start")
    time.sleep(0.5)
    assert count_lines(marker) == 2, p.log()
    assert_stops_cleanly(p)


# ---------------------------------------------------------------------------- 3. -interval
def test_interval_without_watch_rereads_the_containers_each_tick(containers, case, tmp_path, pygen_bg):
    tmpl, dest = write(tmp_path / "t" / "names.tmpl", NAMES_TMPL), tmp_path / "names.txt"
    p = pygen_bg.start("-interval", "1", *select(case), tmpl, dest)
    wait_file(dest, "none\n", timeout=10)
    c = containers.run("tick", labels={CASE_LABEL: case}, publish_ip=None)
    wait_file(dest, f"{c.name}\n", timeout=4, message="the next tick to show the new container")
    assert "Received event" not in p.log(), "-interval alone must not follow events"
    assert_stops_cleanly(p)


# ---------------------------------------------------------------------------- 4. state
def test_a_destroyed_container_is_dropped(containers, case, tmp_path, pygen_bg):
    """With -include-stopped a stopped container stays in the file; its removal drops it."""
    keep = containers.run("keep", labels={CASE_LABEL: case}, publish_ip=None)
    gone = containers.run("gone", labels={CASE_LABEL: case}, publish_ip=None)
    tmpl = write(tmp_path / "t" / "state.tmpl",
                 "{% for c in containers %}{{ c.Name }}={{ c.State.Running }}\n{% endfor %}")
    dest = tmp_path / "state.txt"
    p = start_watching(pygen_bg, case, tmpl, dest, "-include-stopped")
    assert sorted(lines(dest)) == sorted([f"{keep.name}=True", f"{gone.name}=True"])
    gone.kill()
    wait_file(dest, f"{gone.name}=False", timeout=5, message="the killed container, stopped")
    gone.remove()
    wait_file(dest, lambda text: text.splitlines() == [f"{keep.name}=True"], timeout=5,
              message="the removed container to be dropped")
    p.wait_log(f"Received event destroy for container {gone.short_id}")
    assert_stops_cleanly(p)


def test_sighup_rereads_the_containers_at_once_despite_wait(containers, docker_networks, case, tmp_path,
                                                            pygen_bg):
    """A network connect is no default event: only a full list + inspect can see it. SIGHUP does
    one and renders at once, although -wait would hold an event-driven render for 4 s."""
    c = containers.run("hup", labels={CASE_LABEL: case}, publish_ip=None)
    net = docker_networks.create("hup")
    tmpl, dest = write(tmp_path / "t" / "nets.tmpl", NETS_TMPL), tmp_path / "nets.txt"
    p = start_watching(pygen_bg, case, tmpl, dest, "-wait", "4s:16s")
    assert read(dest) == f"{c.name}:bridge,\n"
    c.api.connect_container_to_network(c.id, net)
    time.sleep(0.7)
    assert net not in read(dest), "precondition: no event reports a network connect"
    t0 = time.monotonic()
    p.send_signal(signal.SIGHUP)
    wait_file(dest, lambda text: net in text, timeout=5, message="the connect seen after SIGHUP")
    assert time.monotonic() - t0 < 3.0, "the SIGHUP render was debounced"
    assert_stops_cleanly(p)


def test_resync_interval_rereads_what_no_event_reported(containers, docker_networks, case, tmp_path, pygen_bg):
    c = containers.run("resync", labels={CASE_LABEL: case}, publish_ip=None)
    net = docker_networks.create("resync")
    tmpl, dest = write(tmp_path / "t" / "nets.tmpl", NETS_TMPL), tmp_path / "nets.txt"
    p = start_watching(pygen_bg, case, tmpl, dest, "-resync-interval", "2s")
    c.api.connect_container_to_network(c.id, net)
    t0 = time.monotonic()
    wait_file(dest, lambda text: net in text, timeout=15, message="a periodic resync to see the connect")
    elapsed = time.monotonic() - t0
    assert elapsed < 2 + 2.5, f"with -resync-interval 2s the resync came only after {elapsed:.1f}s"
    assert_stops_cleanly(p)


# ---------------------------------------------------------------------------- 5. daemon down at start
def test_daemon_down_at_start_keeps_retrying_with_a_capped_backoff_then_renders(second_dockerd, case, tmp_path,
                                                                                pygen_bg):
    """The retries double from 0.1 s up to 5 s and stay there (docker-gen waits a fixed 10 s), so
    pygen connects within about 5 s of the daemon's return, however long it was away."""
    d2 = second_dockerd()
    d2.stop()
    tmpl, dest = write(tmp_path / "t" / "names.tmpl", NAMES_TMPL), tmp_path / "names.txt"
    p = pygen_bg.start("-watch", *select(case), "-endpoint", d2.base_url, tmpl, dest)
    p.wait_log("retrying in 5.0s", count=2, timeout=25)
    assert p.alive()
    assert not dest.exists(), "nothing may be written before the daemon was read"
    assert re.search(rf"Docker daemon {re.escape(d2.base_url)} unavailable: .+; retrying in 0.1s", p.log()), p.log()
    backoffs = [float(m) for m in re.findall(r"retrying in ([0-9.]+)s", p.log())]
    assert backoffs[:7] == [0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 5.0], backoffs
    assert set(backoffs[6:]) == {5.0}, backoffs
    d2.start()
    back = time.monotonic()
    p.wait_log("Watching docker events", timeout=10)
    assert time.monotonic() - back <= 5.0 + 1.5, "reconnected later than the 5 s cap allows"
    c = d2.containers.run("late", labels={CASE_LABEL: case})
    wait_file(dest, f"{c.name}\n", timeout=15, message="the render once the daemon is up")
    assert_stops_cleanly(p)


# ---------------------------------------------------------------------------- 6. SIGTERM
def test_sigterm_drops_a_pending_debounce(containers, case, tmp_path, pygen_bg):
    tmpl, dest = write(tmp_path / "t" / "names.tmpl", NAMES_TMPL), tmp_path / "names.txt"
    marker = tmp_path / "notified"
    p = start_watching(pygen_bg, case, tmpl, dest, "-wait", "3s:12s", "-notify", f"echo n >> {marker}")
    wait_until(lambda: count_lines(marker) == 1, 5, message="the initial notify")
    c = containers.run("pending", labels={CASE_LABEL: case}, publish_ip=None)
    p.wait_log(f"Received event start for container {c.short_id}")
    rc, log, elapsed = p.stop(signal.SIGTERM, timeout=10)
    assert rc == 0, log
    assert elapsed < 2.0, f"{elapsed:.1f}s to exit: the pending debounce was waited for"
    assert lines(dest) == ["none"], "the pending debounced render ran at exit"
    assert count_lines(marker) == 1
    assert "Debounce" not in log


# ---------------------------------------------------------------------------- 7. files
def test_config_file_edits_reload_and_a_broken_config_keeps_the_last_good_one(containers, case, tmp_path,
                                                                              pygen_bg):
    one = write(tmp_path / "t" / "one.tmpl", "one\n")
    two = write(tmp_path / "t" / "two.tmpl", "two\n")
    three = write(tmp_path / "t" / "three.tmpl", "three\n")
    dest = tmp_path / "out.txt"
    config = write(tmp_path / "conf" / "pygen.toml", config_section(one, dest, case))
    p = pygen_bg.start("-config", config, *own_events(case))
    wait_file(dest, "one\n", timeout=10)
    # replaced by an editor (rename over it)
    staged = config.with_name("pygen.toml.new")
    staged.write_text(config_section(two, dest, case))
    os.replace(staged, config)
    wait_file(dest, "two\n", timeout=5, message="the render with the replaced config")
    # broken: logged, the daemon keeps running with the previous configuration and output
    config.write_text("[[config]\ntemplate = \n")
    p.wait_log("Keeping the previous configuration", timeout=5)
    assert p.alive()
    assert read(dest) == "two\n"
    # edited in place, fixed
    config.write_text(config_section(three, dest, case))
    wait_file(dest, "three\n", timeout=5, message="the render with the fixed config")
    assert_stops_cleanly(p)


def test_a_template_named_by_a_reloaded_config_is_watched(case, tmp_path, pygen_bg):
    """After the config is changed to a template in another directory, edits of that template
    re-render like edits of the original one do."""
    first = write(tmp_path / "first" / "a.tmpl", "a1\n")
    second = write(tmp_path / "second" / "b.tmpl", "b1\n")
    dest = tmp_path / "out.txt"
    config = write(tmp_path / "conf" / "pygen.toml", config_section(first, dest, case))
    p = pygen_bg.start("-config", config, *own_events(case))
    wait_file(dest, "a1\n", timeout=10)
    config.write_text(config_section(second, dest, case))
    wait_file(dest, "b1\n", timeout=5, message="the render with the new config")
    second.write_text("b2\n")
    try:
        wait_file(dest, "b2\n", timeout=5, message="the edit of the newly configured template")
    finally:
        assert_stops_cleanly(p)


def test_a_template_that_fails_to_render_keeps_the_file_and_the_loop(containers, case, tmp_path, pygen_bg):
    """A render-time error (not a syntax error) in watch mode: logged with file and line, the last
    good output and no notify; later changes render again."""
    good = containers.run("good", labels={CASE_LABEL: case}, env={"PORTNUM": "80"}, publish_ip=None)
    tmpl = write(tmp_path / "t" / "ports.tmpl",
                 "{% for c in containers %}\n{{ c.Name }}={{ mustBeInt(c.Env.PORTNUM) }}\n{% endfor %}\n")
    dest, marker = tmp_path / "ports.txt", tmp_path / "notified"
    p = start_watching(pygen_bg, case, tmpl, dest, "-notify", f"echo n >> {marker}")
    assert lines(dest) == [f"{good.name}=80"]
    wait_until(lambda: count_lines(marker) == 1, 5, message="the initial notify")

    bad = containers.run("bad", labels={CASE_LABEL: case}, env={"PORTNUM": "eighty"}, publish_ip=None)
    p.wait_log(f"{tmpl}:2", timeout=5)
    assert p.alive()
    assert lines(dest) == [f"{good.name}=80"]
    bad.remove()
    other = containers.run("other", labels={CASE_LABEL: case}, env={"PORTNUM": "81"}, publish_ip=None)
    wait_file(dest, lambda text: sorted(text.splitlines()) == sorted([f"{good.name}=80", f"{other.name}=81"]),
              timeout=5, message="the render after the bad container went")
    wait_until(lambda: count_lines(marker) == 2, 5, message="the notify of the good render")
    assert "Traceback" not in p.log()
    assert_stops_cleanly(p)


# ---------------------------------------------------------------------------- 9. logs
def test_json_log_format_in_watch_mode(containers, case, tmp_path, pygen_bg):
    tmpl, dest = write(tmp_path / "t" / "names.tmpl", NAMES_TMPL), tmp_path / "names.txt"
    p = pygen_bg.start("-watch", "-log-format", "json", *select(case), *own_events(case), tmpl, dest)
    p.wait_log(GENERATED)
    c = containers.run("json", labels={CASE_LABEL: case}, publish_ip=None)
    wait_file(dest, f"{c.name}\n", timeout=5)
    p.send_signal(signal.SIGHUP)
    p.wait_log("Received signal: hangup")
    log = assert_stops_cleanly(p)
    entries = []
    for line in log.splitlines():
        if line.strip():
            entry = json.loads(line)  # every line is one JSON object
            assert {"time", "level", "msg"} <= entry.keys(), entry
            entries.append(entry)
    msgs = [entry["msg"] for entry in entries]
    for expected in ("Watching docker events", f"Received event start for container {c.short_id}",
                     f"Generated '{dest}' from 1 containers", "Received signal: hangup",
                     "Received signal: terminated"):
        assert expected in msgs, (expected, msgs)
