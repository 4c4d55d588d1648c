"""docker-gen's min/max debounce (spec §3.3) driven by explicit times, no sleeps.

Times are in milliseconds (the state machine is unit-agnostic), so every deadline is exact.
"""

from __future__ import annotations

from pygen.debounce import Debouncer
from pygen.durations import Wait


def simulate(minimum: float, maximum: float, events: list[float], until: float, step: float = 1.0):
    """Feed events at the given times and poll every ``step``; return [(time, timer)] of fires."""
    debouncer = Debouncer(Wait(minimum, maximum))
    fires = []
    pending = sorted(events)
    now = 0.0
    while now <= until:
        while pending and pending[0] <= now:
            debouncer.event(pending.pop(0))
        fired = debouncer.fire_due(now)
        if fired:
            fires.append((now, fired))
        now += step
    return fires


def test_reference_vector_min_only():
    # min=200ms max=1s, events at 0, 150, 300 -> one fire at 500 ms (min timer).
    assert simulate(200, 1000, [0, 150, 300], until=3000) == [(500, "min")]


def test_reference_vector_max_cuts_the_burst():
    # min=200ms max=250ms, events at 0, 150, 300 -> fires at 250 (max) and 500 (min).
    assert simulate(200, 250, [0, 150, 300], until=3000) == [(250, "max"), (500, "min")]


def test_reference_vectors_with_exact_deadlines():
    debouncer = Debouncer(Wait(200, 1000))
    debouncer.event(0)
    assert debouncer.deadline() == 200
    debouncer.event(150)
    assert debouncer.deadline() == 350
    debouncer.event(300)
    assert debouncer.deadline() == 500
    assert debouncer.fire_due(499.999) is None
    assert debouncer.pending
    assert debouncer.fire_due(500) == "min"
    assert not debouncer.pending
    assert debouncer.deadline() is None
    assert debouncer.fire_due(10_000) is None  # fires once only

    debouncer = Debouncer(Wait(200, 250))
    debouncer.event(0)
    debouncer.event(150)
    assert debouncer.deadline() == 250  # max (250) before min (350)
    assert debouncer.fire_due(250) == "max"
    debouncer.event(300)  # after a max fire: a new burst
    assert (debouncer.min_deadline, debouncer.max_deadline) == (500, 550)
    assert debouncer.fire_due(500) == "min"


def test_single_event_fires_min_after_it():
    debouncer = Debouncer(Wait(100, 400))
    debouncer.event(1000)
    assert debouncer.fire_due(1099) is None
    assert debouncer.fire_due(1100) == "min"


def test_late_poll_still_fires_once_and_reports_the_earlier_timer():
    debouncer = Debouncer(Wait(200, 250))
    debouncer.event(0)
    debouncer.event(100)  # min 300, max 250
    assert debouncer.fire_due(5000) == "max"
    assert debouncer.fire_due(5000) is None


def test_min_equals_max_reports_min():
    debouncer = Debouncer(Wait(100, 100))
    debouncer.event(0)
    assert debouncer.deadline() == 100
    assert debouncer.fire_due(100) == "min"


def test_steady_stream_fires_every_max():
    # Events every 100 ms with min=200 never let the min timer expire; max=1000 cuts them.
    fires = simulate(200, 1000, [float(t) for t in range(0, 3000, 100)], until=3500)
    # The event at 1000 arrives before the max fire and belongs to the first burst; the next
    # burst starts at 1100, so its max window ends at 2100.
    assert fires == [(1000, "max"), (2100, "max"), (3100, "min")]


def test_max_timer_not_rearmed_by_later_events():
    debouncer = Debouncer(Wait(200, 1000))
    debouncer.event(0)
    debouncer.event(500)
    debouncer.event(900)
    assert debouncer.max_deadline == 1000
    assert debouncer.min_deadline == 1100
    assert debouncer.fire_due(1000) == "max"


def test_cancel_drops_pending():
    debouncer = Debouncer(Wait(200, 1000))
    debouncer.event(0)
    assert debouncer.pending
    debouncer.cancel()
    assert not debouncer.pending
    assert debouncer.deadline() is None
    assert debouncer.fire_due(10_000) is None
    # a later event starts afresh, with a new max window
    debouncer.event(5000)
    assert (debouncer.min_deadline, debouncer.max_deadline) == (5200, 6000)


def test_events_after_max_fire_start_new_burst():
    debouncer = Debouncer(Wait(200, 250))
    debouncer.event(0)
    debouncer.event(200)
    assert debouncer.fire_due(250) == "max"
    debouncer.event(260)
    assert debouncer.max_deadline == 510
    debouncer.event(400)
    assert debouncer.deadline() == 510
    assert debouncer.fire_due(510) == "max"


def test_nothing_pending_initially():
    debouncer = Debouncer(Wait(200, 800))
    assert not debouncer.pending
    assert debouncer.deadline() is None
    assert debouncer.fire_due(0) is None


def test_negative_min_fires_immediately():
    debouncer = Debouncer(Wait(-1000, -4000))
    debouncer.event(10_000)
    assert debouncer.fire_due(10_000) is not None
    assert not debouncer.pending


def test_works_with_float_seconds():
    debouncer = Debouncer(Wait(0.2, 1.0))
    for t in (100.0, 100.15, 100.3):
        debouncer.event(t)
    assert debouncer.fire_due(100.49) is None
    assert debouncer.fire_due(100.5 + 1e-9) == "min"
