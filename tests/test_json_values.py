"""The JSON every door accepts: finite numbers, valid Unicode, bounded depth."""

import pytest

from jupyter_workflow.model.json_values import MAX_DEPTH, UnsafeJson, json_value_problem, load_json


def nested(depth: int, leaf="1") -> str:
    return "[" * depth + leaf + "]" * depth


def nested_value(depth: int):
    value = 1
    for _ in range(depth - 1):
        value = [value]
    return value


@pytest.mark.parametrize(
    "text, reason",
    [
        ("NaN", "NaN is not a JSON number"),
        ('{"x": -Infinity}', "-Infinity is not a JSON number"),
        ('{"x": [1e999]}', "the number 1e999 is too large"),
        ('"\\ud800"', "lone surrogate"),
        ('{"\\udfff": 1}', "lone surrogate"),
        (nested(MAX_DEPTH + 1), f"nested deeper than {MAX_DEPTH} levels"),
        (nested(5000), "nested too deeply"),
        ("1" * 5000, "not valid JSON"),
        (b"\xff\xfe", "not UTF-8"),
        ("{", "not valid JSON: Expecting property name"),
    ],
)
def test_text_that_breaks_a_rule_is_refused_with_the_reason(text, reason):
    with pytest.raises(UnsafeJson) as caught:
        load_json(text, "the body")
    assert str(caught.value).startswith("the body ") and reason in str(caught.value)


def test_json_within_the_rules_loads_as_is():
    assert load_json(nested(MAX_DEPTH - 1)) == nested_value(MAX_DEPTH)
    assert load_json(b'{"a": [1, 2.5, -0.0, "\\u00e9\\ud83d\\ude80", null, true]}') == {"a": [1, 2.5, -0.0, "é🚀", None, True]}


@pytest.mark.parametrize(
    "value, reason",
    [
        ({"a": [float("nan")]}, "['a'][0] is nan"),
        ({"a": float("-inf")}, "['a'] is -inf"),
        (["ok", "\ud800"], "[1] holds a lone surrogate"),
        ({1: "x"}, "JSON object keys are strings"),
        ({"a": {1, 2}}, "['a'] is a set"),
        ([10**5000], "[0] is an integer of more than 4,000 digits"),
        (nested_value(10_000), "nested deeper than"),
    ],
)
def test_values_that_are_not_json_are_named(value, reason):
    assert reason in json_value_problem(value)


def test_json_values_pass():
    assert json_value_problem({"a": (1, 2.5, None, True, "text", {"b": []})}) is None
