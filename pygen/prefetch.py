"""Read the state in the background while the rest of a one-shot run starts up.

A one-shot run spends about 0.2 s importing Jinja2 and compiling templates and about as long
waiting for the daemon to list and inspect containers. Neither needs the other, so the first
full read starts before the template side is even imported, on its own thread.
"""

from __future__ import annotations

import threading
from typing import Protocol


class Refreshable(Protocol):
    def refresh(self) -> None: ...


class BackgroundRefresh:
    """``source.refresh()`` on a thread; ``wait()`` returns when done or re-raises its error."""

    def __init__(self, source: Refreshable) -> None:
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(source,), name="prefetch", daemon=True)
        self._thread.start()

    def _run(self, source: Refreshable) -> None:
        try:
            source.refresh()
        except BaseException as error:  # noqa: BLE001 - handed to the waiting thread
            self._error = error

    def wait(self) -> None:
        self._thread.join()
        if self._error is not None:
            raise self._error
