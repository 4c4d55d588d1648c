"""Watch-mode requirements (issue 3) that no other unit test asserted, checked without Docker.

The engine's loop runs against a source held in memory, and the real pygen process against a
saved inspect file (``-inspect-file``): what is asserted is what a user sees, the file and the log.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pygen.config import TemplateConfig
from pygen.durations import parse_wait
from pygen.engine import Engine
from pygen.functions.registry import docker_gen_functions
from pygen.job import Job
from pygen.notify import NotifyRunner
from tests.helpers import proc_util
from tests.helpers.log_capture import messages
from tests.helpers.memory_source import MemorySource

WAIT = 5.0
NAMES_TMPL = "{% for c in containers %}{{ c.Name }}\n{% else %}none\n{% endfor %}"


# ----------------------------------------------------------------------------- saved inspect data
def container_id(n: int) -> str:
    return f"{n:064x}"


def inspect_data(n: int) -> dict[str, Any]:
    """A minimal running container ``c<n>``; a higher ``n`` is newer (listed first)."""
    return {
        "Id": container_id(n),
        "Name": f"/c{n}",
        "Created": f"2026-11-25T10:00:{n:02d}.000000000Z",
        "Config": {"Labels": {}, "Env": []},
        "State": {"Status": "running", "Running": True, "ExitCode": 0, "StartedAt": "2026-11-25T10:00:00Z"},
        "NetworkSettings": {"Networks": {"bridge": {"IPAddress": f"172.17.0.{n + 2}"}}},
    }


# ----------------------------------------------------------------------------- harness
def wait_until(condition: Callable[[], Any], message: str, timeout: float = WAIT) -> None:
    proc_util.wait_until(condition, timeout, 0.005, message)


def read(path: Path) -> str | None:
    try:
        return path.read_text()
    except FileNotFoundError:
        return None


# ----------------------------------------------------------------------------- req. 2: -wait max
def test_a_steady_stream_of_events_renders_by_the_default_max_of_four_times_min(tmp_path, logs) -> None:
    """-wait 300ms: max is 1.2 s, so a 3 s stream of events 0.1 s apart (which never lets the min
    timer expire) must be rendered during the stream, about every 1.2 s, not only at its end."""
    template = tmp_path / "names.tmpl"
    template.write_text("{% for name in names %}{{ name }}\n{% endfor %}")
    dest = tmp_path / "out.txt"
    config = TemplateConfig([str(template)], dest=str(dest), watch=True, wait=parse_wait("300ms"))
    source = MemorySource()
    engine = Engine(lambda: [Job(config, docker_gen_functions())], source, NotifyRunner())
    exit_codes: list[int] = []
    loop = threading.Thread(target=lambda: exit_codes.append(engine.run_forever()), name="main-loop")
    loop.start()
    try:
        wait_until(lambda: source.on_change is not None, "the engine to start")
        first_event = time.monotonic()
        for n in range(30):
            threading.Thread(target=source.change, args=(f"n{n}",), name="watcher").start()
            time.sleep(0.1)
        last_event = time.monotonic()
        wait_until(lambda: source.renders and source.renders[-1].count == 30, "the render of the last event")
    finally:
        engine.request_stop()
        loop.join(WAIT)
    assert exit_codes == [0]
    during = [render.at - first_event for render in source.renders if render.at < last_event]
    assert during, f"nothing rendered during a {last_event - first_event:.1f}s stream: the max timer never fired"
    assert 1.0 <= during[0] <= 1.2 + 0.5, f"first render {during[0]:.2f}s after the first event, expected ~1.2s"
    assert len(source.renders) <= 4, f"{len(source.renders)} renders for one 3 s stream"
    assert "Debounce maxTimer fired" in messages(logs)
    assert dest.read_text().splitlines() == [f"n{n}" for n in range(30)]


# ----------------------------------------------------------------------------- req. 6: SIGHUP reloads the config
NO_FILE_WATCHER = """\
import sys
import pygen.filewatch as filewatch

class NoFileWatcher:
    def __init__(self, *args, **kwargs): pass
    def start(self, *args): pass
    def watch(self, *args): pass
    def stop(self): pass

filewatch.FileWatcher = NoFileWatcher  # only SIGHUP can make pygen see an edit now
from pygen.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_sighup_rereads_the_config_file_and_its_new_template(tmp_path) -> None:
    """With the file watcher switched off, a SIGHUP alone must load the edited config (which now
    names another template) and re-read the state."""
    import json

    saved = tmp_path / "inspect.json"
    saved.write_text(json.dumps([inspect_data(1)]))
    one = tmp_path / "one.tmpl"
    one.write_text("one:{% for c in containers %}{{ c.Name }} {% endfor %}\n")
    two = tmp_path / "two.tmpl"
    two.write_text("two:{% for c in containers %}{{ c.Name }} {% endfor %}\n")
    dest = tmp_path / "out.txt"
    config = tmp_path / "pygen.toml"

    def write_config(template: Path) -> None:
        config.write_text(f'[[config]]\ntemplate = "{template}"\ndest = "{dest}"\ninterval = 3600\n')

    write_config(one)
    log_path = tmp_path / "pygen.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKER_")}
    env["PYTHONUNBUFFERED"] = "1"
    proc = proc_util.spawn([sys.executable, "-c", NO_FILE_WATCHER, "-config", str(config),
                            "-inspect-file", str(saved)], log_path, env=env,
                           cwd=Path(__file__).resolve().parents[2])
    try:
        wait_until(lambda: read(dest) == "one:c1 \n", "the first render")
        write_config(two)
        saved.write_text(json.dumps([inspect_data(2), inspect_data(1)]))
        time.sleep(0.3)
        assert read(dest) == "one:c1 \n", "only a SIGHUP should have re-rendered here"
        os.kill(proc.pid, signal.SIGHUP)
        try:
            wait_until(lambda: read(dest) == "two:c2 c1 \n", "the render after SIGHUP", timeout=5)
        except AssertionError as error:
            raise AssertionError(f"{error}; file {read(dest)!r}\n{log_path.read_text()}") from None
        assert proc.poll() is None, log_path.read_text()
        os.kill(proc.pid, signal.SIGTERM)
        assert proc.wait(5) == 0, log_path.read_text()
        assert "Received signal: hangup" in log_path.read_text()
    finally:
        proc_util.terminate(proc, timeout=0.1, sig=signal.SIGKILL)
    assert "Traceback" not in log_path.read_text()


# ----------------------------------------------------------------------------- req. 7: no edit is lost
SLOW_FILE_WATCHER_START = """\
import sys, time
import pygen.filewatch as filewatch

original_start = filewatch.FileWatcher.start

def slow_start(self, *args):
    time.sleep(1.0)  # a loaded machine: importing watchdog alone takes 75 ms idle here
    original_start(self, *args)

filewatch.FileWatcher.start = slow_start
from pygen.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_an_edit_made_right_after_the_first_output_is_not_lost(tmp_path) -> None:
    """Once pygen has written its output, an edit of the template must be rendered. With the file
    watcher slow to start (as on a loaded machine), an edit made as soon as the first output
    appears must still be seen: the watcher has to be watching before that output is written."""
    import json

    saved = tmp_path / "inspect.json"
    saved.write_text(json.dumps([inspect_data(1)]))
    template = tmp_path / "t.tmpl"
    template.write_text("v1\n")
    dest = tmp_path / "out.txt"
    log_path = tmp_path / "pygen.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKER_")}
    env["PYTHONUNBUFFERED"] = "1"
    proc = proc_util.spawn([sys.executable, "-c", SLOW_FILE_WATCHER_START, "-interval", "3600",
                            "-inspect-file", str(saved), str(template), str(dest)], log_path, env=env,
                           cwd=Path(__file__).resolve().parents[2])
    try:
        wait_until(lambda: read(dest) == "v1\n", "the first render")
        template.write_text("v2\n")
        try:
            wait_until(lambda: read(dest) == "v2\n", "the edit to be rendered", timeout=4)
        except AssertionError as error:
            raise AssertionError(f"{error}; file {read(dest)!r}\n{log_path.read_text()}") from None
        os.kill(proc.pid, signal.SIGTERM)
        assert proc.wait(5) == 0, log_path.read_text()
    finally:
        proc_util.terminate(proc, timeout=0.1, sig=signal.SIGKILL)
