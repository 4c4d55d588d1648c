"""Notifications after a changed render: shell commands and container signals.

docker-gen blocks its loop on the notify command, with no timeout, and runs the same command
once per config that changed. Here each distinct command runs in its own worker: requests made
while it runs coalesce into one follow-up run, so a slow ``nginx -s reload`` neither stops the
watch loop nor piles up. An optional timeout kills a hanging command (its whole process group).
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from pygen.config import RESTART_SIGNAL

log = logging.getLogger("pygen")


@dataclass(frozen=True, slots=True)
class NotifyCommand:
    """A shell command to run after a change; equal commands are run once per pass."""

    command: str
    show_output: bool = False
    timeout: float = 0.0


class RunningCommands:
    """The notify commands running now, so that a stopping pygen can end the ones that hang."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._processes: dict[subprocess.Popen[bytes], str] = {}

    def add(self, process: subprocess.Popen[bytes], command: str) -> None:
        with self._lock:
            self._processes[process] = command

    def discard(self, process: subprocess.Popen[bytes]) -> None:
        with self._lock:
            self._processes.pop(process, None)

    def kill_all(self) -> None:
        """SIGKILL each command's process group (each runs in a session of its own)."""
        with self._lock:
            running = list(self._processes.items())
        for process, command in running:
            log.error("Killing notify command still running at exit: %s", command)
            _kill_group(process)


def run_command(notify: NotifyCommand, running: RunningCommands | None = None) -> bool:
    """Run ``/bin/sh -c command``; log failures (never raise). Return True on exit status 0."""
    log.info("Running '%s'", notify.command)
    try:
        process = subprocess.Popen(
            ["/bin/sh", "-c", notify.command],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    except OSError as error:
        log.error("Error running notify command: %s, %s", notify.command, error)
        return False
    if running is not None:
        running.add(process, notify.command)
    try:
        return _finish(notify, process)
    finally:
        if running is not None:
            running.discard(process)


def _finish(notify: NotifyCommand, process: subprocess.Popen[bytes]) -> bool:
    try:
        output, _ = process.communicate(timeout=notify.timeout or None)
        failure = f"exit status {process.returncode}" if process.returncode else ""
    except subprocess.TimeoutExpired:
        _kill_group(process)
        output, _ = process.communicate()
        failure = f"timed out after {notify.timeout:g}s, killed"
    if failure:
        log.error("Error running notify command: %s, %s", notify.command, failure)
    if notify.show_output or failure:
        for line in output.decode(errors="replace").splitlines():
            if line.strip():
                log.info("[%s]: %s", notify.command, line)
    return not failure


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


class NotifyRunner:
    """Runs notifications off the caller's thread, one worker per distinct notification.

    A request for a notification that is already running marks it pending; the worker runs it
    once more when the current run ends. So a change made after a reload began is never lost,
    and the same command never runs twice at the same time. Within one notification the order
    is docker-gen's: the command, then static container signals, then filter-selected ones.
    """

    def __init__(self, signaller: ContainerSignaller | None = None) -> None:
        self.signaller = signaller
        self._lock = threading.Lock()
        self._busy: set[Notification] = set()
        self._pending: set[Notification] = set()
        self._idle = threading.Condition(self._lock)
        self._running = RunningCommands()

    def submit(self, notification: Notification) -> None:
        if notification.empty:
            return
        with self._lock:
            if notification in self._busy:
                self._pending.add(notification)
                return
            self._busy.add(notification)
        threading.Thread(target=self._work, args=(notification,), name="notify", daemon=True).start()

    def _work(self, notification: Notification) -> None:
        while True:
            try:
                self.run(notification)
            except Exception:  # a notification must never kill its worker silently
                log.exception("Error running notification %s", notification)
            with self._lock:
                if notification in self._pending:
                    self._pending.discard(notification)
                    continue
                self._busy.discard(notification)
                self._idle.notify_all()
                return

    def run(self, notification: Notification) -> None:
        """Run one notification on this thread."""
        if notification.command is not None:
            run_command(notification.command, self._running)
        if not notification.containers.empty:
            if self.signaller is None:
                log.error("Cannot signal containers: this source has no containers")
            else:
                send_signals(notification.containers, self.signaller)

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until no notification runs (one-shot mode waits before it exits)."""
        with self._lock:
            return self._idle.wait_for(lambda: not self._busy, timeout)

    def finish(self, grace: float) -> None:
        """At exit: let running notifications end within ``grace`` seconds, then kill the
        commands still running, which would otherwise outlive pygen in their own sessions."""
        if not self.wait_idle(grace):
            self._running.kill_all()


class ContainerSignaller(Protocol):
    """What a state source offers for signalling containers (Docker has it; etcd does not)."""

    def signal_container(self, container: str, signal_number: int) -> None: ...

    def restart_container(self, container: str) -> None: ...

    def running_container_ids(self, filters: dict[str, list[str]]) -> list[str]: ...


@dataclass(frozen=True, slots=True)
class ContainerNotification:
    """Signals to send after a change: fixed containers, and containers picked by filters."""

    containers: tuple[tuple[str, int], ...] = ()
    filters: tuple[tuple[str, tuple[str, ...]], ...] = ()
    filter_signal: int = 1

    @property
    def empty(self) -> bool:
        return not self.containers and not self.filters

    def targets(self, signaller: ContainerSignaller) -> Iterable[tuple[str, int]]:
        yield from sorted(self.containers)
        if self.filters:
            filters = {key: list(values) for key, values in self.filters}
            for container_id in signaller.running_container_ids(filters):
                yield container_id, self.filter_signal


def send_signals(notification: ContainerNotification, signaller: ContainerSignaller) -> None:
    """Static signals first (sorted, so the order is stable), then filter-selected ones.

    The filtered list is fetched after the static signals are sent (docker-gen's order), so a
    listing error loses only the filtered signals.
    """
    targets = iter(notification.targets(signaller))
    while True:
        try:
            container, number = next(targets)
        except StopIteration:
            return
        except Exception as error:  # noqa: BLE001 - source errors are logged, never fatal here
            log.error("Error listing containers to notify: %s", error)
            return
        try:
            if number == RESTART_SIGNAL:
                log.info("Restarting container '%s'", container)
                signaller.restart_container(container)
            else:
                log.info("Sending container '%s' signal '%d'", container, number)
                signaller.signal_container(container, number)
        except Exception as error:  # noqa: BLE001
            log.error("Error sending signal to container '%s': %s", container, error)


@dataclass(frozen=True, slots=True)
class Notification:
    """Everything one config asks for after a change. Equal notifications run once per pass."""

    command: NotifyCommand | None = None
    containers: ContainerNotification = ContainerNotification()

    @property
    def empty(self) -> bool:
        return self.command is None and self.containers.empty
