"""etcd as the engine's state source: a mirror of the watched keys, kept current by a watch.

The watcher thread reads every watched key at one revision, reports a full change, then
follows the watch from the next revision, reporting one change per batch that changed a
selected key. When the history it needs is gone (compaction) or the store is unreachable for
longer than the client's grace, it reads everything again (with a 0.1 s .. 5 s capped backoff
while unreachable), logging one line when the store goes away and one when it is back, and
never exits.

**What renders when etcd is down.** A template is never rendered from a failed or partial
read: reads replace the mirror only when complete. Before the first complete read,
``render_input`` raises SourceError, so nothing is written. In watch mode, once a read
succeeded, an outage does *not* stop rendering from the mirror: it holds the last consistent
state, exactly the one the current files were rendered from, plus every event received before
the connection dropped; a render during the outage (a debounce timer firing, a template
edit) therefore writes what etcd last said rather than nothing or a half state. In polling
mode (no watch) a failed ``refresh()`` makes ``render_input`` raise until a read succeeds
again: a render after it would present old data as the result of a fresh read, and an
interval render would even re-run the notify command on it.

The template context of one config:

* ``kv``: key -> value of the keys under the config's prefixes, sorted by key;
* ``tree``: the same as nested dicts by path segment (``tree.services.web``), see
  pygen.etcd.keys.build_tree;
* ``Env``: a copy of the environment;
* confd's store functions (``get``, ``gets``, ``getv``, ``getvs``, ``exists``, ``ls``,
  ``lsdir``) bound to that ``kv``. Jinja's context variables shadow the environment's
  globals, so the static function library can be installed once as globals.

Values are decoded as UTF-8 with ``errors="replace"`` (U+FFFD for invalid bytes), keys the
same way: nothing a writer puts in etcd can crash a render; the template decides what to do
with an odd value (``json`` on a non-JSON value fails that render with the key's template
line, and the last file stays).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from pygen.config import TemplateConfig
from pygen.errors import SourceError
from pygen.etcd.keys import (
    build_tree,
    covers,
    decode_value,
    normalize_prefixes,
    store_prefixes,
    template_text,
)
from pygen.etcd.mirror import Mirror
from pygen.etcd.store import Compacted, KeyEvent, StoreClient, StoreError
from pygen.source import Change, Lazy, RenderInput, environment_snapshot

log = logging.getLogger("pygen")

BACKOFF_START = 0.1
BACKOFF_MAX = 5.0
STOP_JOIN_SECONDS = 2.0

FunctionProvider = Callable[[Mapping[str, str]], Mapping[str, Callable[..., Any]]]


def store_functions(kv: Mapping[str, str]) -> dict[str, Callable[..., Any]]:
    """confd's store functions bound to ``kv``, wrapped like the rest of the library."""
    from pygen.functions.registry import confd_store_functions

    return confd_store_functions(kv)


def _warn_hidden_keys(raw: Mapping[str, bytes]) -> None:
    """Two keys that print the same (one holds the text ``\\xfe``, the other the byte): the
    template sees the last; say which."""
    seen: dict[str, str] = {}
    for key in sorted(raw):
        shown = template_text(key)
        if shown in seen:
            log.warning("etcd keys %r and %r both read %r in templates; the template sees the value of the second",
                        seen[shown], key, shown)
        seen[shown] = key


def describe_batch(events: Sequence[KeyEvent]) -> str:
    if len(events) == 1:
        event = events[0]
        return f"{event.kind} {template_text(event.key)} at revision {event.revision}"
    return f"{len(events)} changes up to revision {max(e.revision for e in events)}"


class EtcdSource:
    """Keys from etcd (v3 or v2, through a StoreClient) for etcd-gen's templates."""

    noun = "keys"

    def __init__(self, client: StoreClient, configs: Sequence[TemplateConfig], *,
                 functions: FunctionProvider | None = None,
                 backoff_start: float = BACKOFF_START, backoff_max: float = BACKOFF_MAX) -> None:
        self.client = client
        self.functions = functions or store_functions
        self.backoff_start = backoff_start
        self.backoff_max = backoff_max
        self.watching = False
        self.connected = False
        self.mirror = Mirror()
        self._valid = False
        self._failure = "not read yet"
        self._read_lock = threading.Lock()
        self._stop = threading.Event()
        self._interrupt = threading.Event()  # ends the current watch: a stop or new prefixes
        self._thread: threading.Thread | None = None
        self._configure(configs)

    def _configure(self, configs: Sequence[TemplateConfig]) -> None:
        self._configs = list(configs)
        self.prefixes = sorted({p for c in self._configs for p in self._prefixes_of(c)}) or ["/"]
        self.store_prefixes = store_prefixes(self.prefixes)

    @property
    def configs(self) -> list[TemplateConfig]:
        return self._configs

    @configs.setter
    def configs(self, configs: Sequence[TemplateConfig]) -> None:
        """``source.configs = new`` (the app does this on SIGHUP) is ``update_configs(new)``."""
        self.update_configs(configs)

    def _prefixes_of(self, config: TemplateConfig) -> list[str]:
        return normalize_prefixes(config.prefixes, absolute=getattr(self.client, "absolute_keys", False))

    def update_configs(self, configs: Sequence[TemplateConfig]) -> None:
        """New configs (SIGHUP): when they need other prefixes, read and watch those instead.

        The watcher re-reads with the new prefixes; ``refresh()`` does it at once.
        """
        before = self.prefixes
        self._configure(configs)
        if self.prefixes != before:
            log.info("etcd prefixes changed to %s", ", ".join(self.prefixes))
            self._interrupt.set()
            self.client.close()

    # -- reading --------------------------------------------------------------------------------

    def refresh(self) -> None:
        """Read every watched key at one revision into the mirror; SourceError if that fails."""
        try:
            self._read()
        except StoreError as error:
            if not self.watching:
                self._valid = False
                self._failure = f"the last read failed: {error}"
            raise SourceError(f"Unable to read keys: {error}") from None

    def _read(self) -> None:
        with self._read_lock:
            prefixes, wanted = list(self.prefixes), list(self.store_prefixes)
            snapshot = self.client.read(wanted)
            self.mirror.replace(snapshot, prefixes)
            self._valid = True

    # -- templates ------------------------------------------------------------------------------

    def render_input(self, config: TemplateConfig) -> RenderInput:
        prefixes = self._prefixes_of(config)
        if not self._valid:
            raise SourceError(f"no data from {self.client.describe()} ({self._failure}); keeping {config.name}")
        unwatched = [p for p in prefixes if not any(covers(outer, p) for outer in self.mirror.prefixes)]
        if unwatched:
            raise SourceError(f"prefix {', '.join(unwatched)} is not read from etcd yet; keeping {config.name}")
        raw = self.mirror.select(prefixes)
        if len(raw) < config.min_keys:
            raise SourceError(f"{len(raw)} keys under {', '.join(prefixes)}, fewer than min-keys "
                              f"{config.min_keys}; keeping {config.name}")
        kv = {template_text(key): decode_value(raw[key]) for key in sorted(raw)}
        if len(kv) < len(raw):
            _warn_hidden_keys(raw)
        context: dict[str, Any] = dict(self.functions(kv))
        context.update(tree=Lazy(lambda: build_tree(kv)), kv=kv, Env=environment_snapshot())
        return RenderInput(context, len(kv), self.noun)

    # -- watching -------------------------------------------------------------------------------

    def start(self, on_change: Callable[[Change], None]) -> None:
        """Follow the store in a background thread; ``on_change`` after each change."""
        self.watching = True
        self._stop.clear()
        self._thread = threading.Thread(target=self._watch, args=(on_change,), name="etcd-watch", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._interrupt.set()
        self.client.close()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(STOP_JOIN_SECONDS)

    def _watch(self, on_change: Callable[[Change], None]) -> None:
        backoff = self.backoff_start
        outage: str | None = None  # the kind of failure last logged, while there is one
        reason = "connected"
        while not self._stop.is_set():
            try:
                self._interrupt.clear()  # before the read, which takes the prefixes in use now
                self._read()
                if outage is not None:
                    log.info("%s is available again", self.client.describe())
                    outage = None
                self.connected = True
                log.info("Read %d keys at revision %d from %s", len(self.mirror), self.mirror.revision,
                         self.client.describe())
                on_change(Change(reason, full=True))
                backoff = self.backoff_start
                self._follow(on_change)
                reason = "reconfigured"
            except Compacted as error:
                log.warning("%s; reading every key again", error)
                reason = "compacted"
            except StoreError as error:
                self.connected = False
                reason = "reconnected"
                if not self._valid:
                    self._failure = f"the last read failed: {error}"
                kind = type(error).__name__
                if outage != kind:
                    log.error("%s; retrying, %s", error, "templates keep the last data read" if self._valid
                              else "nothing is rendered until a read succeeds")
                    outage = kind
                else:
                    log.debug("%s; retrying in %.1fs", error, backoff)
                if self._stop.wait(backoff):
                    break
                backoff = min(backoff * 2, self.backoff_max)
            except Exception:  # never let the watcher die: the process would stop following etcd
                log.exception("Unexpected error in the etcd watcher; retrying in %.1fs", backoff)
                reason = "recovered"
                if self._stop.wait(backoff):
                    break
                backoff = min(backoff * 2, self.backoff_max)
        self.connected = False

    def _follow(self, on_change: Callable[[Change], None]) -> None:
        """Apply watch batches until a stop or a change of prefixes (the watch then returns)."""
        for batch in self.client.watch(self.store_prefixes, self.mirror.revision + 1, self._interrupt):
            if self._interrupt.is_set():
                return
            if self.mirror.apply(batch):
                reason = describe_batch(batch)
                log.debug("etcd: %s", reason)
                on_change(Change(reason))
