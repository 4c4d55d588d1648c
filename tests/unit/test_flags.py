"""Go ``flag``-package parsing (spec §1): -x == --x, bools, repeatable lists, positional stop."""

from __future__ import annotations

import pytest

from pygen.errors import UsageError
from pygen.flags import FlagSet, parse_go_bool, parse_go_int


def make_flags() -> FlagSet:
    flags = FlagSet("docker-gen", "[options] template [dest]", "Generate files from docker container meta-data")
    flags.bool("watch", "watch for container changes")
    flags.bool("keep-blank-lines", "keep blank lines in the output file")
    flags.string("wait", "minimum and maximum durations to wait (e.g. \"500ms:2s\")")
    flags.string("notify", "run command after template is regenerated")
    flags.list("config", "config files with template directives", metavar="path")
    flags.list("notify-sighup", "send HUP signal to container", metavar="container")
    flags.int("interval", "notify command interval (secs)")
    flags.int("notify-signal", "signal to send to the notify-container", default=1)
    flags.string("upper", "a string flag with a converter", convert=str.upper)
    return flags


def parse(*argv: str):
    return make_flags().parse(list(argv))


# ----------------------------------------------------------------------------- defaults


def test_defaults_when_nothing_given():
    args = parse()
    assert args["watch"] is False
    assert args["wait"] == ""
    assert args["config"] == []
    assert args["interval"] == 0
    assert args["notify-signal"] == 1
    assert args.positional == []
    assert args.given == set()


def test_list_default_is_fresh_per_parse():
    flags = make_flags()
    first = flags.parse(["-config", "a.toml"])
    second = flags.parse([])
    assert first["config"] == ["a.toml"]
    assert second["config"] == []


# ----------------------------------------------------------------------------- single vs double dash


@pytest.mark.parametrize("spelling", ["-watch", "--watch"])
def test_single_and_double_dash_are_the_same(spelling):
    args = parse(spelling)
    assert args["watch"] is True
    assert args.was_given("watch")


@pytest.mark.parametrize("argv", [["-wait", "1s:2s"], ["--wait", "1s:2s"], ["-wait=1s:2s"], ["--wait=1s:2s"]])
def test_string_value_forms(argv):
    assert parse(*argv)["wait"] == "1s:2s"


def test_value_with_equals_sign_inside_is_kept_whole():
    assert parse("-notify=a=b c")["notify"] == "a=b c"
    assert parse("-notify", "x=y")["notify"] == "x=y"


def test_empty_explicit_value():
    args = parse("-notify=")
    assert args["notify"] == ""
    assert args.was_given("notify")


def test_separate_value_may_start_with_dash():
    # Go's flag takes the next argument as the value, whatever it looks like.
    assert parse("-notify", "-watch")["notify"] == "-watch"
    assert parse("-notify", "-watch")["watch"] is False


# ----------------------------------------------------------------------------- bools


@pytest.mark.parametrize(
    "argv, expected",
    [
        (["-watch=false"], False),
        (["--watch=false"], False),
        (["-watch=0"], False),
        (["-watch=F"], False),
        (["-watch=FALSE"], False),
        (["-watch=true"], True),
        (["-watch=1"], True),
        (["-watch=T"], True),
        (["-watch=True"], True),
        (["-watch"], True),
    ],
)
def test_bool_values(argv, expected):
    args = parse(*argv)
    assert args["watch"] is expected
    assert args.was_given("watch")


def test_bool_never_consumes_next_argument():
    args = parse("-watch", "false", "dest")
    assert args["watch"] is True
    assert args.positional == ["false", "dest"]


def test_bool_followed_by_flag():
    args = parse("-watch", "-keep-blank-lines", "t.tmpl")
    assert args["watch"] is True
    assert args["keep-blank-lines"] is True
    assert args.positional == ["t.tmpl"]


@pytest.mark.parametrize("raw", ["yes", "no", "on", "", "tRuE"])
def test_bad_bool_value(raw):
    with pytest.raises(UsageError) as caught:
        parse(f"-watch={raw}")
    assert "-watch" in str(caught.value)
    assert f'"{raw}"' in str(caught.value)


def test_last_bool_wins():
    assert parse("-watch", "-watch=false")["watch"] is False
    assert parse("-watch=false", "-watch")["watch"] is True


# ----------------------------------------------------------------------------- repeatable lists


def test_repeatable_list_keeps_order_and_duplicates():
    args = parse("-config", "b.toml", "--config=a.toml", "-config", "b.toml")
    assert args["config"] == ["b.toml", "a.toml", "b.toml"]


def test_lists_are_independent():
    args = parse("-notify-sighup", "nginx", "-config", "x", "-notify-sighup=proxy")
    assert args["notify-sighup"] == ["nginx", "proxy"]
    assert args["config"] == ["x"]


def test_repeated_scalar_last_wins():
    assert parse("-wait", "1s", "-wait", "2s")["wait"] == "2s"


# ----------------------------------------------------------------------------- positional stop


def test_parsing_stops_at_first_positional():
    args = parse("-watch", "template.tmpl", "-notify", "x", "dest")
    assert args["watch"] is True
    assert args["notify"] == ""
    assert not args.was_given("notify")
    assert args.positional == ["template.tmpl", "-notify", "x", "dest"]


def test_unknown_flag_after_positional_is_not_an_error():
    args = parse("t.tmpl", "-nonsense")
    assert args.positional == ["t.tmpl", "-nonsense"]


def test_double_dash_terminates_flags():
    args = parse("-watch", "--", "-notify", "x")
    assert args["watch"] is True
    assert args["notify"] == ""
    assert args.positional == ["-notify", "x"]


def test_only_the_first_double_dash_is_consumed():
    assert parse("--", "--", "a").positional == ["--", "a"]


def test_single_dash_is_positional():
    args = parse("-watch", "-", "dest")
    assert args.positional == ["-", "dest"]


def test_value_after_flag_is_not_positional():
    args = parse("-wait", "500ms", "t.tmpl", "out.conf")
    assert args["wait"] == "500ms"
    assert args.positional == ["t.tmpl", "out.conf"]


# ----------------------------------------------------------------------------- errors


@pytest.mark.parametrize("argv, name", [(["-nope"], "-nope"), (["--nope=1"], "-nope"), (["-watch", "-bogus", "t"], "-bogus")])
def test_unknown_flag_names_it(argv, name):
    with pytest.raises(UsageError) as caught:
        parse(*argv)
    assert str(caught.value) == f"flag provided but not defined: {name}"


@pytest.mark.parametrize("flag", ["-wait", "--notify", "-interval", "-config"])
def test_missing_argument(flag):
    with pytest.raises(UsageError) as caught:
        parse("-watch", flag)
    assert "flag needs an argument" in str(caught.value)
    assert flag.lstrip("-") in str(caught.value)


@pytest.mark.parametrize("raw", ["abc", "1.5", "", "1s", "0x"])
def test_bad_int(raw):
    with pytest.raises(UsageError) as caught:
        parse("-interval", raw)
    message = str(caught.value)
    assert "-interval" in message
    assert f'"{raw}"' in message


@pytest.mark.parametrize("raw, expected", [("10", 10), ("-1", -1), ("+3", 3), ("0x10", 16), ("0o17", 15), ("0b101", 5), ("1_000", 1000)])
def test_int_values(raw, expected):
    assert parse("-interval", raw)["interval"] == expected
    assert parse(f"-interval={raw}")["interval"] == expected


@pytest.mark.parametrize("arg", ["---watch", "-=x", "--=x"])
def test_bad_flag_syntax(arg):
    with pytest.raises(UsageError) as caught:
        parse(arg)
    assert "bad flag syntax" in str(caught.value)


def test_converter_applied():
    assert parse("-upper", "abc")["upper"] == "ABC"


def test_converter_value_error_becomes_usage_error():
    flags = FlagSet("p", "")

    def reject(text: str) -> str:
        raise ValueError("nope")

    flags.string("thing", "a thing", convert=reject)
    with pytest.raises(UsageError) as caught:
        flags.parse(["-thing", "v"])
    assert str(caught.value) == 'invalid value "v" for flag -thing: nope'


# ----------------------------------------------------------------------------- help


@pytest.mark.parametrize("arg", ["-h", "--h", "-help", "--help"])
def test_help_exits_zero_with_usage(arg, capsys):
    with pytest.raises(SystemExit) as caught:
        parse(arg)
    assert caught.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("Usage: docker-gen [options] template [dest]")
    assert "-watch" in out
    assert "-wait string" in out
    assert "-notify-signal int" in out
    assert "(default 1)" in out


def test_help_after_positional_is_positional():
    assert parse("t", "-h").positional == ["t", "-h"]


def test_usage_lists_flags_sorted():
    text = make_flags().usage()
    names = [line.split()[0] for line in text.splitlines() if line.startswith("  -")]
    assert names == sorted(names)
    assert len(names) == 9


# ----------------------------------------------------------------------------- helpers


def test_parse_go_bool():
    assert parse_go_bool("t") is True
    assert parse_go_bool("0") is False
    with pytest.raises(ValueError):
        parse_go_bool("yes")


def test_parse_go_int_error_is_value_error():
    with pytest.raises(ValueError):
        parse_go_int("ten")
