"""``-log-format``: docker-gen's text lines by default, one JSON object per line on request."""

from __future__ import annotations

import calendar
import json
import logging
import re
import time
from collections.abc import Iterator

import pytest

from pygen.logs import configure_logging


@pytest.fixture
def pygen_logger() -> Iterator[logging.Logger]:
    logger = logging.getLogger("pygen")
    handlers, level, propagate = logger.handlers[:], logger.level, logger.propagate
    yield logger
    logger.handlers[:], logger.level, logger.propagate = handlers, level, propagate


def test_text_lines_are_docker_gens(pygen_logger: logging.Logger, capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("text")
    pygen_logger.info("Generated '%s' from %d containers", "/etc/x.conf", 3)
    line = capsys.readouterr().err
    assert re.fullmatch(r"\d{4}/\d\d/\d\d \d\d:\d\d:\d\d Generated '/etc/x.conf' from 3 containers\n", line)


def test_json_lines_carry_a_utc_microsecond_stamp_and_the_message_as_data(
    pygen_logger: logging.Logger, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging("json")
    before = time.time()
    pygen_logger.warning('Received event %s\n{"injected": true}', "die")
    after = time.time()
    (line,) = capsys.readouterr().err.splitlines()
    entry = json.loads(line)
    assert entry["level"] == "warning" and entry["logger"] == "pygen"
    assert entry["msg"] == 'Received event die\n{"injected": true}'
    stamp = re.fullmatch(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\.(\d{6})Z", entry["time"])
    assert stamp is not None
    logged = calendar.timegm(time.strptime(stamp[1], "%Y-%m-%dT%H:%M:%S")) + int(stamp[2]) / 1e6
    assert int(before * 1e6) / 1e6 <= logged <= after


def test_json_lines_include_the_traceback_of_an_exception(
    pygen_logger: logging.Logger, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging("json")
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        pygen_logger.exception("Unexpected error")
    (line,) = capsys.readouterr().err.splitlines()
    entry = json.loads(line)
    assert entry["msg"] == "Unexpected error"
    assert entry["exception"].startswith("Traceback") and "RuntimeError: boom" in entry["exception"]


def test_an_unknown_format_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown log format 'xml'"):
        configure_logging("xml")
