"""Classification: the first log type, in logs.json order, whose every key the record has with its type."""

from __future__ import annotations

from typing import Any

import pytest

from apps.rule_processor.classifier import Classifier
from config_schemas.models import LogType, ValueType


def one_key(kind: ValueType) -> Classifier:
    return Classifier([LogType("t", (("k", kind),))])


def test_the_first_fitting_type_wins_in_file_order() -> None:
    narrow = LogType("narrow", (("a", ValueType.STRING), ("b", ValueType.INTEGER)))
    wide = LogType("wide", (("a", ValueType.STRING),))

    assert Classifier([narrow, wide]).classify({"a": "x", "b": 1}) == "narrow"
    assert Classifier([wide, narrow]).classify({"a": "x", "b": 1}) == "wide"
    assert Classifier([narrow, wide]).classify({"a": "x"}) == "wide"


@pytest.mark.parametrize(
    ("kind", "fits", "does_not_fit"),
    [
        (ValueType.STRING, ["", "x"], [1, None, ["x"]]),
        (ValueType.INTEGER, [0, -5, 2**70], [True, 1.0, "1", None]),
        (ValueType.NUMBER, [0, 1.5, -2], [False, "1.5", None]),
        (ValueType.BOOLEAN, [True, False], [0, 1, "true", None]),
        (ValueType.OBJECT, [{}, {"a": 1}], [[], "{}", None]),
        (ValueType.ARRAY, [[], [1]], [{}, "[]", None]),
    ],
)
def test_strict_json_types(kind: ValueType, fits: list[Any], does_not_fit: list[Any]) -> None:
    classifier = one_key(kind)

    assert [classifier.classify({"k": value}) for value in fits] == ["t"] * len(fits)
    assert [classifier.classify({"k": value}) for value in does_not_fit] == [None] * len(does_not_fit)


def test_a_missing_key_fits_nothing_and_extra_keys_do_not_matter() -> None:
    classifier = one_key(ValueType.STRING)

    assert classifier.classify({"other": "x"}) is None
    assert classifier.classify({"k": "x", "other": None}) == "t"


def test_no_log_types_classify_nothing() -> None:
    assert Classifier([]).classify({"k": "x"}) is None
