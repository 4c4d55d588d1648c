"""JSON and YAML template functions, with docker-gen's and sprig's error policies.

docker-gen's `json`/`parseJson`/`mustFromYaml`/`mustToYaml` fail the render on bad input; sprig's
`toJson`/`toPrettyJson` and docker-gen's `fromYaml`/`toYaml` swallow the error and return ""
(or Go-nil). Which one a template uses is a deliberate choice, so both behaviours are kept.
"""

from __future__ import annotations

from typing import Any

from pygen.errors import TemplateFunctionError
from pygen.functions.gojson import go_json, parse_go_json
from pygen.functions.values import as_str, nil


def load_yaml(text: str) -> Any:
    """PyYAML costs 40 ms to import: only templates that use YAML pay for it."""
    from pygen.functions.goyaml import load_yaml as load

    return load(text)


def dump_yaml(value: Any) -> str:
    from pygen.functions.goyaml import dump_yaml as dump

    return dump(value)


def json_(value: Any) -> str:
    """docker-gen `json` (sprig mustToJson): compact, HTML-escaped; an error if not encodable."""
    return go_json(value)


def parse_json(text: Any) -> Any:
    """docker-gen `parseJson` (sprig mustFromJson): numbers become floats, null becomes None."""
    return parse_go_json(as_str("parseJson", "v", text))


def to_json(value: Any) -> str:
    """sprig `toJson`: like `json`, but "" when the value cannot be encoded."""
    try:
        return go_json(value)
    except TemplateFunctionError:
        return ""


def to_pretty_json(value: Any) -> str:
    """sprig `toPrettyJson`: json.MarshalIndent(v, "", "  "); "" when not encodable."""
    try:
        return go_json(value, indent=2)
    except TemplateFunctionError:
        return ""


def must_from_yaml(text: Any) -> Any:
    """YAML (yaml.v3 rules) to a value; an error for invalid YAML."""
    return load_yaml(as_str("mustFromYaml", "v", text))


def from_yaml(text: Any) -> Any:
    """Like mustFromYaml, but None (Go-nil) instead of an error."""
    text = nil(text)
    if not isinstance(text, str):
        return None
    try:
        return load_yaml(text)
    except TemplateFunctionError:
        return None


def must_to_yaml(value: Any) -> str:
    """yaml.v3 output: 4-space indent, sequences indented under their key, sorted keys, final newline."""
    return dump_yaml(value)


def to_yaml(value: Any) -> str:
    """Like mustToYaml, but "" instead of an error."""
    try:
        return dump_yaml(value)
    except TemplateFunctionError:
        return ""
