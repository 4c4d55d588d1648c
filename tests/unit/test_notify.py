"""Notify commands (spec §3.7): logging, timeout, coalescing; container signal order."""

from __future__ import annotations

import logging
import shlex
import time
from pathlib import Path

from pygen import notify as notify_module
from pygen.notify import (
    ContainerNotification,
    Notification,
    NotifyCommand,
    NotifyRunner,
    run_command,
    send_signals,
)
from tests.helpers.log_capture import messages


def wait_until(predicate, timeout: float = 5.0, interval: float = 0.01) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


def lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


# ----------------------------------------------------------------------------- run_command


def test_success_logs_running_and_no_output(logs):
    command = "echo hello; echo world >&2"
    assert run_command(NotifyCommand(command)) is True
    assert messages(logs) == [f"Running '{command}'"]


def test_failure_logs_status_and_output(logs):
    command = "echo out1; echo; echo '   '; echo err1 >&2; exit 3"
    assert run_command(NotifyCommand(command)) is False
    assert messages(logs) == [
        f"Running '{command}'",
        f"Error running notify command: {command}, exit status 3",
        f"[{command}]: out1",
        f"[{command}]: err1",
    ]
    assert messages(logs, logging.ERROR) == [f"Error running notify command: {command}, exit status 3"]


def test_failure_without_output(logs):
    assert run_command(NotifyCommand("exit 1")) is False
    assert messages(logs) == ["Running 'exit 1'", "Error running notify command: exit 1, exit status 1"]


def test_notify_output_logs_lines_on_success(logs):
    command = "printf 'a\\n\\nb\\n'"
    assert run_command(NotifyCommand(command, show_output=True)) is True
    assert messages(logs) == [f"Running '{command}'", f"[{command}]: a", f"[{command}]: b"]


def test_output_keeps_line_content(logs):
    command = "echo '  spaced  out '"
    run_command(NotifyCommand(command, show_output=True))
    assert f"[{command}]:   spaced  out " in messages(logs)


def test_runs_with_environment_and_cwd(tmp_path, monkeypatch, logs):
    monkeypatch.setenv("PYGEN_TEST_VALUE", "xyz")
    monkeypatch.chdir(tmp_path)
    assert run_command(NotifyCommand('echo "$PYGEN_TEST_VALUE" > here.txt')) is True
    assert (tmp_path / "here.txt").read_text() == "xyz\n"


def test_stdin_is_not_inherited(logs):
    # A command reading stdin must see EOF at once, not block on the caller's terminal.
    start = time.monotonic()
    assert run_command(NotifyCommand("cat")) is True
    assert time.monotonic() - start < 5


def test_spawn_error_is_logged(monkeypatch, logs):
    def broken(*args, **kwargs):
        raise OSError(2, "No such file or directory")

    monkeypatch.setattr(notify_module.subprocess, "Popen", broken)
    assert run_command(NotifyCommand("whatever")) is False
    [error] = messages(logs, logging.ERROR)
    assert error.startswith("Error running notify command: whatever, ")


def process_gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] == "Z"  # a zombie is dead
    except FileNotFoundError:
        return True


def test_timeout_kills_command_and_children(tmp_path, logs):
    pidfile = tmp_path / "pid"
    command = f"echo before; sleep 30 & echo $! > {pidfile}; wait"
    start = time.monotonic()
    assert run_command(NotifyCommand(command, timeout=0.5)) is False
    elapsed = time.monotonic() - start
    # the background sleep holds the output pipe: had it survived, this would take 30 s
    assert 0.4 <= elapsed < 3, elapsed
    child = int(pidfile.read_text())
    assert wait_until(lambda: process_gone(child), timeout=2), f"child {child} still alive"
    assert f"Error running notify command: {command}, timed out after 0.5s, killed" in messages(logs)
    assert f"[{command}]: before" in messages(logs)


def test_no_timeout_when_fast(logs):
    assert run_command(NotifyCommand("true", timeout=5)) is True
    assert messages(logs, logging.ERROR) == []


# ----------------------------------------------------------------------------- NotifyRunner


def gated_command(log_file: Path, gate: Path, name: str = "run") -> str:
    """Appends ``name`` to log_file, then waits (bounded) until ``gate`` exists."""
    return (
        f"echo {name} >> {shlex.quote(str(log_file))}; "
        f"i=0; while [ ! -e {shlex.quote(str(gate))} ] && [ $i -lt 500 ]; do sleep 0.01; i=$((i+1)); done"
    )


def test_submit_while_running_coalesces_into_one_more_run(tmp_path, logs):
    runs, gate = tmp_path / "runs", tmp_path / "gate"
    notification = Notification(NotifyCommand(gated_command(runs, gate)))
    runner = NotifyRunner()
    runner.submit(notification)
    assert wait_until(lambda: lines(runs) == ["run"])
    for _ in range(5):
        runner.submit(Notification(NotifyCommand(gated_command(runs, gate))))  # equal, not identical
    time.sleep(0.05)
    assert lines(runs) == ["run"]  # never twice at the same time
    gate.touch()
    assert runner.wait_idle(timeout=5)
    assert lines(runs) == ["run", "run"]


def test_submit_after_finish_runs_again(tmp_path, logs):
    runs = tmp_path / "runs"
    notification = Notification(NotifyCommand(f"echo x >> {runs}"))
    runner = NotifyRunner()
    runner.submit(notification)
    assert runner.wait_idle(timeout=5)
    runner.submit(notification)
    assert runner.wait_idle(timeout=5)
    assert lines(runs) == ["x", "x"]


def test_different_notifications_run_concurrently(tmp_path, logs):
    runs, gate = tmp_path / "runs", tmp_path / "gate"
    runner = NotifyRunner()
    runner.submit(Notification(NotifyCommand(gated_command(runs, gate, "first"))))
    runner.submit(Notification(NotifyCommand(gated_command(runs, gate, "second"))))
    # both started although neither can finish before the gate opens
    assert wait_until(lambda: sorted(lines(runs)) == ["first", "second"])
    assert runner.wait_idle(timeout=0.05) is False
    gate.touch()
    assert runner.wait_idle(timeout=5) is True
    assert sorted(lines(runs)) == ["first", "second"]


def test_wait_idle_when_nothing_submitted():
    assert NotifyRunner().wait_idle(timeout=0) is True


def test_empty_notification_is_ignored():
    runner = NotifyRunner()
    runner.submit(Notification())
    assert Notification().empty
    assert runner.wait_idle(timeout=0) is True


def test_worker_survives_an_exception(logs):
    calls = []

    class Exploding(NotifyRunner):
        def run(self, notification):
            calls.append(notification)
            raise RuntimeError("boom")

    runner = Exploding()
    notification = Notification(NotifyCommand("true"))
    runner.submit(notification)
    assert runner.wait_idle(timeout=5)
    assert calls == [notification]
    assert any("Error running notification" in m for m in messages(logs, logging.ERROR))
    runner.submit(notification)  # not stuck as "busy"
    assert runner.wait_idle(timeout=5)
    assert len(calls) == 2


# ----------------------------------------------------------------------------- container signals


class FakeSignaller:
    def __init__(self, running=None, fail_on=(), list_error=None, probe=None):
        self.calls: list[tuple] = []
        self.running = running or []
        self.fail_on = set(fail_on)
        self.list_error = list_error
        self.probe = probe  # called on every call, to observe what happened before

    def _record(self, *call):
        if self.probe:
            call = call + (self.probe(),)
        self.calls.append(call)

    def signal_container(self, container, signal_number):
        self._record("signal", container, signal_number)
        if container in self.fail_on:
            raise RuntimeError(f"no such container: {container}")

    def restart_container(self, container):
        self._record("restart", container)
        if container in self.fail_on:
            raise RuntimeError(f"cannot restart {container}")

    def running_container_ids(self, filters):
        self._record("list", filters)
        if self.list_error:
            raise self.list_error
        return list(self.running)


def test_order_command_then_sorted_static_then_filtered(tmp_path, logs):
    marker = tmp_path / "command-ran"
    signaller = FakeSignaller(running=["id-b", "id-a"], probe=marker.exists)
    notification = Notification(
        NotifyCommand(f"touch {marker}"),
        ContainerNotification(
            containers=(("zeta", 1), ("alpha", 15), ("mid", -1)),
            filters=(("label", ("proxy=1",)), ("status", ("running",))),
            filter_signal=10,
        ),
    )
    NotifyRunner(signaller).run(notification)
    assert signaller.calls == [
        ("signal", "alpha", 15, True),
        ("restart", "mid", True),
        ("signal", "zeta", 1, True),
        ("list", {"label": ["proxy=1"], "status": ["running"]}, True),
        ("signal", "id-b", 10, True),
        ("signal", "id-a", 10, True),
    ]
    assert "Sending container 'alpha' signal '15'" in messages(logs)
    assert "Restarting container 'mid'" in messages(logs)
    assert "Sending container 'id-a' signal '10'" in messages(logs)


def test_runner_submit_signals_after_command(tmp_path, logs):
    marker = tmp_path / "command-ran"
    signaller = FakeSignaller(probe=marker.exists)
    runner = NotifyRunner(signaller)
    runner.submit(Notification(NotifyCommand(f"sleep 0.1; touch {marker}"), ContainerNotification(containers=(("web", 1),))))
    assert runner.wait_idle(timeout=5)
    assert signaller.calls == [("signal", "web", 1, True)]


def test_filter_signal_minus_one_restarts():
    signaller = FakeSignaller(running=["c1"])
    send_signals(ContainerNotification(filters=(("name", ("x",)),), filter_signal=-1), signaller)
    assert signaller.calls == [("list", {"name": ["x"]}), ("restart", "c1")]


def test_no_filters_means_no_list_call():
    signaller = FakeSignaller(running=["c1"])
    send_signals(ContainerNotification(containers=(("a", 1),)), signaller)
    assert signaller.calls == [("signal", "a", 1)]


def test_signaller_error_is_logged_and_the_rest_still_sent(logs):
    signaller = FakeSignaller(running=["f1"], fail_on={"bad", "f1"})
    send_signals(
        ContainerNotification(containers=(("bad", 1), ("good", 2)), filters=(("name", ("n",)),), filter_signal=3),
        signaller,
    )
    assert signaller.calls == [("signal", "bad", 1), ("signal", "good", 2), ("list", {"name": ["n"]}), ("signal", "f1", 3)]
    errors = messages(logs, logging.ERROR)
    assert "Error sending signal to container 'bad': no such container: bad" in errors
    assert "Error sending signal to container 'f1': no such container: f1" in errors


def test_restart_error_is_logged(logs):
    signaller = FakeSignaller(fail_on={"web"})
    send_signals(ContainerNotification(containers=(("web", -1),)), signaller)
    assert signaller.calls == [("restart", "web")]
    assert "Error sending signal to container 'web': cannot restart web" in messages(logs, logging.ERROR)


def test_list_error_is_logged_and_static_signals_still_sent(logs):
    signaller = FakeSignaller(list_error=ConnectionError("daemon down"))
    send_signals(ContainerNotification(containers=(("web", 1),), filters=(("name", ("x",)),)), signaller)
    assert signaller.calls == [("signal", "web", 1), ("list", {"name": ["x"]})]
    assert "Error listing containers to notify: daemon down" in messages(logs, logging.ERROR)


def test_runner_without_signaller_logs_error(logs):
    runner = NotifyRunner(None)
    runner.submit(Notification(containers=ContainerNotification(containers=(("web", 1),))))
    assert runner.wait_idle(timeout=5)
    assert any("Cannot signal containers" in m for m in messages(logs, logging.ERROR))


def test_equal_notifications_are_equal_and_hashable():
    a = Notification(NotifyCommand("x"), ContainerNotification(containers=(("c", 1),)))
    b = Notification(NotifyCommand("x"), ContainerNotification(containers=(("c", 1),)))
    assert a == b and hash(a) == hash(b)
    assert a != Notification(NotifyCommand("x", show_output=True), ContainerNotification(containers=(("c", 1),)))
    assert ContainerNotification().empty
    assert not ContainerNotification(filters=(("a", ("b",)),)).empty


# ----------------------------------------------------------------------------- at exit


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def test_at_exit_a_command_still_running_after_the_grace_is_killed_with_its_children(tmp_path, logs):
    pids = tmp_path / "pids"
    command = f"sleep 30 & echo $! > {pids}; echo $$ >> {pids}; wait"
    runner = NotifyRunner()
    runner.submit(Notification(NotifyCommand(command)))
    assert wait_until(lambda: len(lines(pids)) == 2)
    started = time.monotonic()
    runner.finish(grace=0.3)
    assert 0.3 <= time.monotonic() - started < 2
    assert wait_until(lambda: not any(alive(int(pid)) for pid in lines(pids)))
    assert f"Killing notify command still running at exit: {command}" in messages(logs, logging.ERROR)


def test_at_exit_a_command_that_ends_within_the_grace_is_left_to_finish(tmp_path, logs):
    done = tmp_path / "done"
    runner = NotifyRunner()
    runner.submit(Notification(NotifyCommand(f"sleep 0.3; echo ok > {done}")))
    runner.finish(grace=5)
    assert lines(done) == ["ok"]
    assert not any("Killing" in message for message in messages(logs))
