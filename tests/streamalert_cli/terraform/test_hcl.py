"""The hcl quoting filter: every value reaches a template as a literal that cannot interpolate."""

from __future__ import annotations

import pytest

from streamalert_cli.terraform.hcl import Hcl, HclValueError, hcl, ident


@pytest.mark.parametrize(
    ("value", "literal"),
    [
        ("plain", '"plain"'),
        ('say "hi"\\', r'"say \"hi\"\\"'),
        ("line\nbreak\ttab", r'"line\nbreak\ttab"'),
        ("bell\x07", r'"bell\u0007"'),
        ("${jndi:ldap}", '"$${jndi:ldap}"'),
        ("%{ if true }", '"%%{ if true }"'),
        ("café", '"café"'),
        (True, "true"),
        (None, "null"),
        (128, "128"),
        (1.5, "1.5"),
        (["a", 1], '["a", 1]'),
        ({}, "{}"),
    ],
)
def test_values_become_quoted_literals(value: object, literal: str) -> None:
    assert hcl(value) == literal
    assert isinstance(hcl(value), Hcl)


def test_mappings_quote_their_keys() -> None:
    assert hcl({"a:b": "c", "n": [{"x": 1}]}) == '{\n"a:b" = "c"\n"n" = [\n{\n"x" = 1\n},\n]\n}'


@pytest.mark.parametrize("value", [object(), float("nan"), b"bytes"])
def test_values_without_hcl_form_are_refused(value: object) -> None:
    with pytest.raises(HclValueError):
        hcl(value)


def test_identifiers_are_checked_not_quoted() -> None:
    assert ident("athena_refresh") == "athena_refresh"
    with pytest.raises(HclValueError, match="not a Terraform identifier"):
        ident('x" { }')
