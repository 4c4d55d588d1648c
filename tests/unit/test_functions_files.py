"""dir, exists, include: docker-gen's file functions and their different error policies."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from pygen.errors import TemplateFunctionError
from pygen.functions.files import dir_list, exists, include


def test_dir_lists_sorted_names_including_hidden(tmp_path: Path) -> None:
    for name in ["b.crt", ".hidden", "a.key", "B.crt"]:
        (tmp_path / name).write_text("x")
    (tmp_path / "sub").mkdir()
    assert dir_list(str(tmp_path)) == [".hidden", "B.crt", "a.key", "b.crt", "sub"]


def test_dir_error_is_logged_and_empty(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        assert dir_list(str(tmp_path / "missing")) == []
    assert "no such file or directory" in caplog.text


def test_exists(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("x")
    assert exists(str(tmp_path / "f")) is True
    assert exists(str(tmp_path)) is True
    assert exists(str(tmp_path / "missing")) is False


def test_exists_fails_on_errors_other_than_not_found(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("x")
    with pytest.raises(TemplateFunctionError, match="not a directory"):
        exists(str(tmp_path / "f" / "below"))


def test_include_returns_content_verbatim(tmp_path: Path) -> None:
    (tmp_path / "f").write_bytes(b"line1\r\nline2\n")
    assert include(str(tmp_path / "f")) == "line1\r\nline2\n"


def test_include_swallows_every_error(tmp_path: Path) -> None:
    assert include(str(tmp_path / "missing")) == ""
    assert include(str(tmp_path)) == ""
    assert include(None) == ""
