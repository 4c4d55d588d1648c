"""TemplateConfig and TOML ``[[config]]`` decoding (spec §2, with pygen's deliberate fixes of §8)."""

from __future__ import annotations

import logging
import os
import textwrap

import pytest

from pygen.config import (
    TemplateConfig,
    config_from_table,
    load_config_file,
    load_config_files,
    parse_filter_items,
    split_templates,
)
from pygen.durations import Wait
from pygen.errors import ConfigError


@pytest.fixture
def write_toml(tmp_path):
    def write(name: str, text: str) -> str:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return str(path)

    return write


# ----------------------------------------------------------------------------- keys and values


def test_full_section_decodes(write_toml):
    path = write_toml(
        "full.toml",
        """
        [[config]]
        template = "/etc/a.tmpl; /etc/b.tmpl"
        dest = "/etc/nginx/conf.d/default.conf"
        watch = true
        wait = "500ms:2s"
        notifycmd = "nginx -s reload"
        notifyoutput = true
        interval = 30
        keepblanklines = true
        notifycontainerssignal = 15
        [config.containerfilter]
        label = ["com.example=1", "other"]
        status = ["running", "paused"]
        [config.notifycontainersfilter]
        name = ["proxy"]
        [config.NotifyContainers]
        nginx = 1
        abc123 = -1
        """,
    )
    [config] = load_config_file(path)
    assert config.templates == ["/etc/a.tmpl", "/etc/b.tmpl"]
    assert config.dest == "/etc/nginx/conf.d/default.conf"
    assert config.watch is True
    assert config.wait == Wait(0.5, 2.0)
    assert config.notify_cmd == "nginx -s reload"
    assert config.notify_output is True
    assert config.interval == 30
    assert config.keep_blank_lines is True
    assert config.notify_containers_signal == 15
    assert config.container_filter == {"label": ["com.example=1", "other"], "status": ["running", "paused"]}
    assert config.notify_containers_filter == {"name": ["proxy"]}
    assert config.notify_containers == {"nginx": 1, "abc123": -1}
    assert config.origin == f"{path} [[config]] #1"
    assert config.name == "/etc/nginx/conf.d/default.conf"


def test_defaults(write_toml):
    [config] = load_config_file(write_toml("d.toml", '[[config]]\ntemplate = "t.tmpl"\n'))
    assert config.templates == ["t.tmpl"]
    assert config.dest == ""
    assert config.name == "stdout"
    assert config.watch is False
    assert config.wait == Wait()
    assert not config.wait.enabled
    assert config.notify_cmd == ""
    assert config.interval == 0
    assert config.keep_blank_lines is False
    assert config.notify_containers == {}
    assert config.notify_containers_signal == 1  # docker-gen's 0 would mean SIGKILL


@pytest.mark.parametrize("key", ["notifycmd", "notifyCmd", "NotifyCmd", "NOTIFYCMD", "notify_cmd", "notify-cmd"])
def test_keys_are_case_insensitive(write_toml, key):
    path = write_toml("k.toml", f'[[config]]\nTemplate = "t"\n"{key}" = "reload"\n')
    [config] = load_config_file(path)
    assert config.notify_cmd == "reload"
    assert config.templates == ["t"]


def test_mixed_case_keys_everywhere(write_toml):
    path = write_toml(
        "m.toml",
        """
        [[config]]
        Template = "t"
        Dest = "out"
        Watch = true
        KeepBlankLines = true
        NotifyContainersSignal = 2
        [config.ContainerFilter]
        status = ["exited"]
        """,
    )
    [config] = load_config_file(path)
    assert (config.dest, config.watch, config.keep_blank_lines, config.notify_containers_signal) == ("out", True, True, 2)
    assert config.container_filter == {"status": ["exited"]}


def test_notify_containers_attaches_to_latest_section(write_toml):
    path = write_toml(
        "n.toml",
        """
        [[config]]
        template = "first"
        [config.NotifyContainers]
        one = 1

        [[config]]
        template = "second"

        [[config]]
        template = "third"
        [config.NotifyContainers]
        three = 15
        nginx = -1
        """,
    )
    first, second, third = load_config_file(path)
    assert first.notify_containers == {"one": 1}
    assert second.notify_containers == {}
    assert third.notify_containers == {"three": 15, "nginx": -1}
    assert [c.origin for c in (first, second, third)] == [f"{path} [[config]] #{n}" for n in (1, 2, 3)]


def test_filter_value_may_be_a_single_string(write_toml):
    path = write_toml("f.toml", '[[config]]\ntemplate = "t"\n[config.containerfilter]\nlabel = "x=y"\n')
    [config] = load_config_file(path)
    assert config.container_filter == {"label": ["x=y"]}


def test_pygen_extra_keys(write_toml):
    path = write_toml(
        "x.toml",
        """
        [[config]]
        template = "t"
        atomic = true
        check_cmd = "nginx -t -c {src}"
        notify_timeout = 2.5
        prefix = ["/a", "/b"]
        min_keys = 3
        """,
    )
    [config] = load_config_file(path)
    assert config.atomic is True
    assert config.check_cmd == "nginx -t -c {src}"
    assert config.notify_timeout == 2.5
    assert config.prefixes == ["/a", "/b"]
    assert config.min_keys == 3


def test_unknown_keys_ignored_with_warning(write_toml, logs):
    caplog = logs
    path = write_toml(
        "u.toml",
        """
        title = "top"
        [[config]]
        template = "t"
        colour = "blue"
        """,
    )
    [config] = load_config_file(path)
    assert config.templates == ["t"]
    messages = [record.getMessage() for record in caplog.records if record.levelno == logging.WARNING]
    assert any("colour" in m and path in m for m in messages), messages
    assert any("title" in m and path in m for m in messages), messages


# ----------------------------------------------------------------------------- errors


def test_single_config_table_is_an_error(write_toml):
    path = write_toml("single.toml", '[config]\ntemplate = "t"\n')
    with pytest.raises(ConfigError) as caught:
        load_config_file(path)
    assert path in str(caught.value)
    assert "[[config]]" in str(caught.value)


def test_config_array_of_non_tables_is_an_error(write_toml):
    path = write_toml("ints.toml", "config = [1, 2]\n")
    with pytest.raises(ConfigError) as caught:
        load_config_file(path)
    assert path in str(caught.value)


def test_no_config_section_is_an_error(write_toml):
    path = write_toml("none.toml", 'template = "t"\n')
    with pytest.raises(ConfigError) as caught:
        load_config_file(path)
    assert path in str(caught.value)


def test_toml_syntax_error_names_file_and_line(write_toml):
    path = write_toml("syntax.toml", '[[config]]\ntemplate = "t"\ndest = "unterminated\nwatch = true\n')
    with pytest.raises(ConfigError) as caught:
        load_config_file(path)
    message = str(caught.value)
    assert message.startswith(f"Error loading config {path}: ")
    assert "line 3" in message


def test_missing_file(tmp_path):
    path = str(tmp_path / "absent.toml")
    with pytest.raises(ConfigError) as caught:
        load_config_file(path)
    assert path in str(caught.value)
    assert "No such file" in str(caught.value)


def test_not_utf8(tmp_path):
    path = tmp_path / "latin1.toml"
    path.write_bytes(b'[[config]]\ntemplate = "caf\xe9"\n')
    with pytest.raises(ConfigError) as caught:
        load_config_file(path)
    assert str(path) in str(caught.value)


@pytest.mark.parametrize(
    "line, key",
    [
        ("watch = \"yes\"", "watch"),
        ("Watch = 1", "Watch"),
        ("interval = \"30\"", "interval"),
        ("interval = true", "interval"),
        ("interval = 1.5", "interval"),
        ("dest = 5", "dest"),
        ("notifyCmd = [\"a\"]", "notifyCmd"),
        ("keepblanklines = 0", "keepblanklines"),
        ("wait = 5", "wait"),
        ("containerfilter = \"status=running\"", "containerfilter"),
        ("containerfilter = { status = [1] }", "containerfilter.status"),
        ("notifycontainers = { nginx = \"1\" }", "notifycontainers.nginx"),
        ("notifytimeout = \"2s\"", "notifytimeout"),
        ("template = 7", "template"),
    ],
)
def test_wrong_type_names_file_section_and_key(write_toml, line, key):
    second = line if key == "template" else f'template = "t"\n{line}'
    path = write_toml("types.toml", f'[[config]]\ntemplate = "ok"\n\n[[config]]\n{second}\n')
    with pytest.raises(ConfigError) as caught:
        load_config_file(path)
    message = str(caught.value)
    assert path in message
    assert "#2" in message
    assert key in message


@pytest.mark.parametrize("value", ['"5"', '"1s:"', '":2s"', '"2s:1s"', '"1x"'])
def test_bad_wait_names_file_section_and_key(write_toml, value):
    path = write_toml("wait.toml", f'[[config]]\ntemplate = "t"\nwait = {value}\n')
    with pytest.raises(ConfigError) as caught:
        load_config_file(path)
    message = str(caught.value)
    assert path in message
    assert "#1" in message
    assert "wait" in message


def test_missing_template_is_an_error(write_toml):
    path = write_toml("nt.toml", '[[config]]\ntemplate = "a"\n[[config]]\ndest = "out"\n')
    with pytest.raises(ConfigError) as caught:
        load_config_file(path)
    assert path in str(caught.value)
    assert "#2" in str(caught.value)
    assert "template" in str(caught.value)


@pytest.mark.parametrize("value", ['""', '" ; ; "'])
def test_empty_template_is_an_error(write_toml, value):
    path = write_toml("et.toml", f"[[config]]\ntemplate = {value}\n")
    with pytest.raises(ConfigError) as caught:
        load_config_file(path)
    assert "template" in str(caught.value)


def test_notify_containers_signal_zero_rejected(write_toml):
    path = write_toml("sig0.toml", '[[config]]\ntemplate = "t"\nnotifycontainerssignal = 0\n')
    with pytest.raises(ConfigError) as caught:
        load_config_file(path)
    assert "notifycontainerssignal" in str(caught.value)
    assert path in str(caught.value)


@pytest.mark.parametrize("value", [-2, -9])
def test_notify_containers_signal_negative_rejected(write_toml, value):
    path = write_toml("sign.toml", f'[[config]]\ntemplate = "t"\nnotifycontainerssignal = {value}\n')
    with pytest.raises(ConfigError):
        load_config_file(path)


def test_notify_containers_signal_minus_one_accepted(write_toml):
    path = write_toml("sig-1.toml", '[[config]]\ntemplate = "t"\nnotifycontainerssignal = -1\n')
    [config] = load_config_file(path)
    assert config.notify_containers_signal == -1


def test_notify_containers_zero_signal_rejected(write_toml):
    path = write_toml("nc0.toml", '[[config]]\ntemplate = "t"\n[config.NotifyContainers]\nnginx = 0\n')
    with pytest.raises(ConfigError) as caught:
        load_config_file(path)
    assert "nginx" in str(caught.value)


# ----------------------------------------------------------------------------- container filter


def test_onlyexposed_onlypublished_includestopped_are_honoured(write_toml):
    path = write_toml(
        "o.toml",
        """
        [[config]]
        template = "exposed"
        onlyexposed = true
        [[config]]
        template = "published"
        OnlyPublished = true
        [[config]]
        template = "stopped"
        includestopped = true
        """,
    )
    exposed, published, stopped = load_config_file(path)
    assert exposed.only_exposed and published.only_published and stopped.include_stopped
    assert exposed.effective_container_filter() == {"status": ["running"], "expose": ["1-65535"]}
    assert published.effective_container_filter() == {"status": ["running"], "publish": ["1-65535"]}
    assert stopped.effective_container_filter() == {}


def test_default_status_is_running():
    assert TemplateConfig(templates=["t"]).effective_container_filter() == {"status": ["running"]}


def test_user_status_filter_wins():
    config = TemplateConfig(templates=["t"], container_filter={"status": ["exited"]})
    assert config.effective_container_filter() == {"status": ["exited"]}
    config = TemplateConfig(templates=["t"], container_filter={"status": ["exited"]}, include_stopped=True)
    assert config.effective_container_filter() == {"status": ["exited"]}


def test_only_published_takes_precedence_over_only_exposed():
    config = TemplateConfig(templates=["t"], only_exposed=True, only_published=True)
    assert config.effective_container_filter() == {"status": ["running"], "publish": ["1-65535"]}


def test_user_filters_not_overridden():
    config = TemplateConfig(
        templates=["t"],
        only_exposed=True,
        container_filter={"expose": ["80"], "label": ["a=b"]},
    )
    assert config.effective_container_filter() == {"expose": ["80"], "label": ["a=b"], "status": ["running"]}
    config = TemplateConfig(templates=["t"], only_published=True, container_filter={"publish": ["443"]})
    assert config.effective_container_filter() == {"publish": ["443"], "status": ["running"]}


def test_only_published_with_user_publish_does_not_fall_back_to_exposed():
    # docker-gen consults only-exposed only when the only-published branch did not apply;
    # pygen: only_published set means no expose filter is added, even if publish was user-given.
    config = TemplateConfig(templates=["t"], only_published=True, only_exposed=True, container_filter={"publish": ["443"]})
    assert config.effective_container_filter() == {"publish": ["443"], "status": ["running"]}


def test_effective_filter_is_a_copy():
    config = TemplateConfig(templates=["t"], container_filter={"label": ["a"]})
    filters = config.effective_container_filter()
    filters["label"].append("b")
    filters["new"] = ["x"]
    assert config.container_filter == {"label": ["a"]}


# ----------------------------------------------------------------------------- several files


def test_two_files_are_concatenated_in_order(write_toml):
    a = write_toml("b_first.toml", '[[config]]\ntemplate = "A1"\nwatch = true\n[[config]]\ntemplate = "A2"\n')
    b = write_toml("a_second.toml", '[[config]]\ntemplate = "B1"\n')
    configs = load_config_files([a, b])
    assert [c.templates for c in configs] == [["A1"], ["A2"], ["B1"]]
    assert [c.watch for c in configs] == [True, False, False]
    assert configs[2].origin == f"{b} [[config]] #1"
    # command-line order, not sorted like docker-gen
    assert [c.templates for c in load_config_files([b, a])] == [["B1"], ["A1"], ["A2"]]


def test_same_file_twice_loaded_once(write_toml, tmp_path):
    a = write_toml("a.toml", '[[config]]\ntemplate = "A1"\n')
    other_spelling = os.path.join(str(tmp_path), ".", "a.toml")
    configs = load_config_files([a, a, other_spelling])
    assert [c.templates for c in configs] == [["A1"]]


def test_symlink_to_same_file_loaded_once(write_toml, tmp_path):
    a = write_toml("a.toml", '[[config]]\ntemplate = "A1"\n')
    link = tmp_path / "link.toml"
    link.symlink_to(a)
    assert len(load_config_files([a, str(link)])) == 1


def test_error_in_second_file_names_it(write_toml):
    a = write_toml("a.toml", '[[config]]\ntemplate = "A1"\n')
    b = write_toml("b.toml", "[config]\n")
    with pytest.raises(ConfigError) as caught:
        load_config_files([a, b])
    assert b in str(caught.value)


def test_no_files():
    assert load_config_files([]) == []


# ----------------------------------------------------------------------------- helpers


def test_config_from_table_direct():
    config = config_from_table({"template": "x", "dest": "y"}, "origin-here")
    assert (config.templates, config.dest, config.origin) == (["x"], "y", "origin-here")
    with pytest.raises(ConfigError) as caught:
        config_from_table({"dest": "y"}, "origin-here")
    assert "origin-here" in str(caught.value)


def test_split_templates():
    assert split_templates("a.tmpl;b.tmpl") == ["a.tmpl", "b.tmpl"]
    assert split_templates(" a ; ;b ;") == ["a", "b"]
    assert split_templates("") == []


def test_parse_filter_items():
    assert parse_filter_items(["label=a=b", "label=c", "status=running", "name="]) == {
        "label": ["a=b", "c"],
        "status": ["running"],
        "name": [""],
    }
    with pytest.raises(ValueError) as caught:
        parse_filter_items(["novalue"])
    assert "novalue" in str(caught.value)
    with pytest.raises(ValueError):
        parse_filter_items(["=x"])


@pytest.mark.parametrize(("key", "value"), [("interval", "-5"), ("minkeys", "-1"), ("notifytimeout", "-0.5")])
def test_negative_counts_and_durations_are_refused_as_on_the_command_line(write_toml, key, value):
    """`-interval -5` is refused; `interval = -5` in a file was quietly taken as 0."""
    path = write_toml("neg.toml", f'[[config]]\ntemplate = "t"\n{key} = {value}\n')
    with pytest.raises(ConfigError) as caught:
        load_config_file(path)
    assert key in str(caught.value) and path in str(caught.value)
