"""Go ``time.ParseDuration`` and the ``-wait min[:max]`` rules of spec §3.3."""

from __future__ import annotations

import pytest

from pygen.durations import Wait, parse_go_duration, parse_wait


@pytest.mark.parametrize(
    "text, seconds",
    [
        ("0", 0.0),
        ("-0", 0.0),
        ("+0", 0.0),
        ("300ms", 0.3),
        ("1.5s", 1.5),
        ("1h2m", 3720.0),
        ("1h2m3.5s", 3723.5),
        ("-1s", -1.0),
        ("+2s", 2.0),
        (".5s", 0.5),
        ("1.s", 1.0),
        ("0s", 0.0),
        ("500ns", 500e-9),
        ("10us", 10e-6),
        ("10µs", 10e-6),  # U+00B5
        ("10μs", 10e-6),  # U+03BC
        ("1m30s", 90.0),
        ("2h", 7200.0),
        ("1s500ms", 1.5),
        ("1ms1s", 1.001),
        ("-1.5h", -5400.0),
    ],
)
def test_parse_go_duration_valid(text, seconds):
    assert parse_go_duration(text) == pytest.approx(seconds, abs=1e-12)


@pytest.mark.parametrize("text", ["500", "1s2", "-5", "0.5"])
def test_parse_go_duration_missing_unit(text):
    with pytest.raises(ValueError) as caught:
        parse_go_duration(text)
    assert str(caught.value) == f'time: missing unit in duration "{text}"'


@pytest.mark.parametrize("text", ["", "s", "ms", "-", "+", ".", ".s", "1x", "1 s", " 1s", "1s ", "one", "1S", "1sec", "--1s", "١s"])
def test_parse_go_duration_invalid(text):
    with pytest.raises(ValueError) as caught:
        parse_go_duration(text)
    assert caught.type is ValueError
    assert str(caught.value).startswith("time: ")
    assert f'"{text}"' in str(caught.value)


# ----------------------------------------------------------------------------- -wait


@pytest.mark.parametrize("text", [None, "", " ", "\t \n"])
def test_blank_wait_is_no_debounce(text):
    wait = parse_wait(text)
    assert wait == Wait(0.0, 0.0)
    assert not wait.enabled


@pytest.mark.parametrize(
    "text, minimum, maximum",
    [
        ("500ms", 0.5, 2.0),
        ("1s", 1.0, 4.0),
        ("1.5s", 1.5, 6.0),
        ("500ms:2s", 0.5, 2.0),
        ("1s:2s:3s", 1.0, 2.0),
        ("1s:2s:garbage", 1.0, 2.0),
        ("2s:2s", 2.0, 2.0),
        ("-1s", -1.0, -4.0),
        (" 1s : 2s ", 1.0, 2.0),
        ("\t500ms\n", 0.5, 2.0),
        ("0:5s", 0.0, 5.0),
        ("0", 0.0, 0.0),
        ("1m:1h", 60.0, 3600.0),
    ],
)
def test_parse_wait_values(text, minimum, maximum):
    wait = parse_wait(text)
    assert wait.minimum == pytest.approx(minimum)
    assert wait.maximum == pytest.approx(maximum)


def test_max_defaults_to_four_times_min():
    wait = parse_wait("250ms")
    assert wait.maximum == pytest.approx(4 * wait.minimum)
    assert wait.enabled


def test_zero_min_is_not_enabled_even_with_max():
    assert not parse_wait("0:5s").enabled
    assert not parse_wait("0s").enabled


def test_negative_min_is_accepted_and_enabled():
    wait = parse_wait("-1s")
    assert wait == Wait(-1.0, -4.0)
    assert wait.enabled


@pytest.mark.parametrize("text", ["1s:", ":2s", ":", " : ", "1s: "])
def test_empty_part_is_an_error(text):
    with pytest.raises(ValueError) as caught:
        parse_wait(text)
    assert "empty" in str(caught.value)


def test_max_less_than_min_is_an_error():
    with pytest.raises(ValueError) as caught:
        parse_wait("2s:1s")
    assert "less than minimum" in str(caught.value)


def test_max_equal_min_is_ok():
    assert parse_wait("1s:1000ms") == Wait(1.0, 1.0)


@pytest.mark.parametrize("text", ["500", "500:2s", "1s:500", "1x", "abc", "1s:abc"])
def test_bad_duration_in_wait(text):
    with pytest.raises(ValueError) as caught:
        parse_wait(text)
    assert str(caught.value).startswith("time: ")


def test_wait_str():
    assert str(Wait(0.5, 2.0)) == "0.5s:2s"
