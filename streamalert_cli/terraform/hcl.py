"""Quoting Python values as HCL: the only way a value reaches a rendered template.

``hcl`` works like Jinja's ``tojson`` but for HCL: strings get HCL's escapes, and ``${`` / ``%{`` are
doubled so that no config value can become a Terraform interpolation or directive.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping

from streamalert.exceptions import StreamAlertError

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*\Z")
# Longer lists, and lists of lists or mappings, get one item a line (terraform fmt indents them)
_ONE_LINE_LIMIT = 80
_SIMPLE_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}


class Hcl(str):
    """Text that is already valid, quoted HCL: the template finalizer lets only this through."""


class HclValueError(StreamAlertError, TypeError):
    """A value that has no HCL form (or an identifier that is not one); a TypeError too, as it was."""


def hcl(value: object) -> Hcl:
    """The HCL literal of a string, number, boolean, None, list/tuple or mapping (keys quoted)."""
    return Hcl(_encode(value))


def ident(name: object) -> Hcl:
    """A Terraform identifier (resource or module name), checked rather than quoted."""
    if not isinstance(name, str) or not _IDENTIFIER.match(name):
        raise HclValueError(f"{name!r} is not a Terraform identifier")
    return Hcl(name)


def _encode(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise HclValueError(f"{value!r} has no HCL form")
        return repr(value)
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, Mapping):
        if not value:
            return "{}"
        items = "\n".join(f"{_string(str(key))} = {_encode(item)}" for key, item in value.items())
        return "{\n" + items + "\n}"
    if isinstance(value, list | tuple):
        parts = [_encode(item) for item in value]
        one_line = "[" + ", ".join(parts) + "]"
        if len(one_line) <= _ONE_LINE_LIMIT and not any(isinstance(i, Mapping | list | tuple) for i in value):
            return one_line
        return "[\n" + "".join(f"{part},\n" for part in parts) + "]"
    raise HclValueError(f"{type(value).__name__} has no HCL form: {value!r}")


def _string(text: str) -> str:
    escaped = "".join(_escape_char(char) for char in text)
    return '"' + escaped.replace("${", "$${").replace("%{", "%%{") + '"'


def _escape_char(char: str) -> str:
    if char in _SIMPLE_ESCAPES:
        return _SIMPLE_ESCAPES[char]
    if ord(char) < 0x20 or ord(char) == 0x7F:
        return f"\\u{ord(char):04x}"
    return char
