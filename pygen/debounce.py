"""docker-gen's ``-wait min:max`` debounce as a pure state machine.

The state machine takes ``now`` as an argument instead of reading a clock or owning timers, so
the watch loop drives it with ``time.monotonic()`` and the tests drive it with a fake clock:
a burst collapses into one trigger ``min`` after its last event, but never later than ``max``
after its first (spec §3.3).
"""

from __future__ import annotations

from dataclasses import dataclass

from pygen.durations import Wait


@dataclass(slots=True)
class Debouncer:
    """Per-config debounce state: the armed min and max deadlines, or None."""

    wait: Wait
    min_deadline: float | None = None
    max_deadline: float | None = None

    @property
    def pending(self) -> bool:
        return self.min_deadline is not None

    def event(self, now: float) -> None:
        """An event arrived: re-arm the min timer; arm the max timer if this starts a burst."""
        self.min_deadline = now + self.wait.minimum
        if self.max_deadline is None:
            self.max_deadline = now + self.wait.maximum

    def deadline(self) -> float | None:
        """When the next trigger is due, or None if nothing is pending."""
        if self.min_deadline is None or self.max_deadline is None:
            return None
        return min(self.min_deadline, self.max_deadline)

    def fire_due(self, now: float) -> str | None:
        """If a timer is due, disarm both and return which fired (``min`` or ``max``)."""
        due = self.deadline()
        if due is None or now < due:
            return None
        fired = "min" if self.min_deadline is not None and self.min_deadline <= now and (
            self.max_deadline is None or self.min_deadline <= self.max_deadline
        ) else "max"
        self.cancel()
        return fired

    def cancel(self) -> None:
        """Drop a pending trigger (shutdown, or a render that already covered it)."""
        self.min_deadline = None
        self.max_deadline = None
