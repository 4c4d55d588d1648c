"""examples/service-discovery/haproxy_reload.py against a real master-worker haproxy.

With ``HAPROXY_STATE_FILE`` in the template and ``--state-file`` given to the reload command, a
server that failed its health checks is still out of the rotation right after a reload. Without
them the new worker takes every server for up until its first check fails, and haproxy spreads
the first checks of a worker over ``inter`` (2 s): with 8 servers, the last one is checked
1.75 s after the reload, and is sent requests until then.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import wait_until
from tests.helpers.haproxy_template import render_haproxy
from tests.helpers.net_util import free_port

RELOAD = Path(__file__).resolve().parents[2] / "examples" / "service-discovery" / "haproxy_reload.py"
UP, DOWN = 2, 0  # srv_op_state in "show servers state"


def server_states(hap) -> dict[str, int]:
    """server name -> operational state, from the current worker ("show servers state")."""
    states = {}
    for line in hap.master_cmd("@1 show servers state").splitlines():
        fields = line.split()
        if len(fields) > 5 and fields[0].isdigit():
            states[fields[3]] = int(fields[5])
    return states


def run_reload(hap, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(RELOAD), str(hap.master_sock), *extra],
                          capture_output=True, text=True, timeout=30, check=False)


SERVERS = [f"dead{n}" for n in range(1, 9)]


@pytest.fixture
def dead_server_haproxy(haproxy_factory, tmp_path):
    """haproxy serving one service whose 8 servers all refuse connections, with a state file
    configured; returns (haproxy, state file) once its checks have marked every server down."""
    state_file = tmp_path / "server-state"
    kv = {"/backends/web/port": str(free_port())}
    kv.update({f"/backends/web/{name}": f"127.0.0.1:{free_port()}" for name in SERVERS})
    hap = haproxy_factory(render_haproxy(kv, {"HAPROXY_BIND_IP": "127.0.0.1",
                                              "HAPROXY_STATS": f"127.0.0.1:{free_port()}",
                                              "HAPROXY_STATE_FILE": str(state_file)}))
    wait_until(lambda: server_states(hap) == dict.fromkeys(SERVERS, DOWN), 15, interval=0.1,
               message="haproxy's checks to mark the dead servers down")
    return hap, state_file


def test_a_server_that_failed_its_checks_stays_down_across_a_reload(dead_server_haproxy):
    hap, state_file = dead_server_haproxy
    result = run_reload(hap, "--state-file", str(state_file))
    assert result.returncode == 0, result.stderr
    assert server_states(hap) == dict.fromkeys(SERVERS, DOWN)
    saved = state_file.read_text().splitlines()
    assert saved[0] == "1" and saved[1].startswith("# be_id be_name srv_id srv_name srv_addr srv_op_state")
    assert {line.split()[3]: int(line.split()[5]) for line in saved[2:]} == dict.fromkeys(SERVERS, DOWN)


def test_without_the_saved_state_the_new_worker_takes_the_dead_server_for_up(dead_server_haproxy):
    hap, state_file = dead_server_haproxy
    assert not state_file.exists()
    result = run_reload(hap)
    assert result.returncode == 0, result.stderr
    assert server_states(hap)["dead8"] == UP  # its first check is 1.75 s away


def test_a_state_that_cannot_be_saved_is_reported_and_the_reload_goes_on(dead_server_haproxy, tmp_path):
    hap, _ = dead_server_haproxy
    reloads_before = hap.reload_counts()[0]
    result = run_reload(hap, "--state-file", str(tmp_path / "missing-dir" / "server-state"))
    assert result.returncode == 0, result.stderr
    assert result.stderr.startswith("haproxy_reload: server state not saved: ")
    assert "missing-dir/server-state" in result.stderr and len(result.stderr.splitlines()) == 1
    assert hap.reload_counts()[0] == reloads_before + 1
    assert list(tmp_path.glob("missing-dir*")) == []
