"""Logging set-up: docker-gen's line format by default, JSON lines on request.

docker-gen logs with Go's ``log`` package (``2006/01/02 15:04:05 message``) on stderr; users grep
those lines, so the messages and the format are kept. ``-log-format json`` gives one JSON object
per line for log shippers, stamped to the microsecond (latency can be read from the log:
bench/event_latency.py does).
"""

from __future__ import annotations

import json
import logging
import sys
import time


class _JSONFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        seconds = int(record.created)
        micros = int((record.created - seconds) * 1_000_000)
        entry = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{micros:06d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(log_format: str = "text", level: int = logging.INFO) -> None:
    """Send the ``pygen`` logger to stderr in the chosen format (``text`` or ``json``)."""
    if log_format not in ("text", "json"):
        raise ValueError(f"unknown log format {log_format!r} (use text or json)")
    handler = logging.StreamHandler(sys.stderr)
    if log_format == "json":
        handler.setFormatter(_JSONFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%Y/%m/%d %H:%M:%S"))
    logger = logging.getLogger("pygen")
    logger.handlers[:] = [handler]
    logger.setLevel(level)
    logger.propagate = False
