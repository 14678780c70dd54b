"""Strict JSON: what Python's json module lets through is refused, and in an array of records
only the elements that break a rule are."""

from __future__ import annotations

import json

import pytest

from llm_pipeline.parse.strict_json import DuplicateKeyError, JSONNumber, RefusedElement, loads, loads_elements


def test_an_array_refuses_only_its_elements_that_break_a_rule():
    deep = "[" * 100_000 + "]" * 100_000
    text = '[\n{"a": 1},\n{"a": 1, "a": 2},\n{"b": NaN},\n' + deep + ',\n{"c": "[{\\"x"}\n]'
    elements = loads_elements(text)
    assert elements[0] == {"a": JSONNumber("1")} and elements[4] == {"c": '[{"x'}
    refused = elements[1:4]
    assert all(isinstance(element, RefusedElement) for element in refused)
    assert [element.line for element in refused] == [3, 4, 5]
    assert isinstance(refused[0].error, DuplicateKeyError)
    assert "NaN is not a JSON value" in str(refused[1].error)
    assert "nested too deeply" in str(refused[2].error)
    with pytest.raises(ValueError):
        loads(text)  # one document: refused whole


def test_syntax_errors_and_refusals_outside_an_array_still_raise():
    with pytest.raises(json.JSONDecodeError):
        loads_elements('[{"a": NaN}, {"b": 1]')  # past a syntax error no boundary can be trusted
    with pytest.raises(json.JSONDecodeError):
        loads_elements('[{"a": NaN}] trailing')
    with pytest.raises(DuplicateKeyError):
        loads_elements('{"a": 1, "a": 2}')
    assert loads_elements("[ ]") == [] and loads_elements('  [{"a": "b"}]  ') == [{"a": "b"}]
