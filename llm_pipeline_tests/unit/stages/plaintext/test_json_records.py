"""JSON array files (LLaMA-Factory's layout): every element ends as a record or a rejection with
its index; a file that is not one JSON array is quarantined whole, never a crash."""

import json

from llm_pipeline.records import Record, Rejection
from llm_pipeline.stages.plaintext.columns import ColumnMapping
from llm_pipeline.stages.plaintext.formats import json as json_format
from llm_pipeline.stages.plaintext.read import read_raw_file
from llm_pipeline.stages.plaintext.report import IngestReport
from llm_pipeline.stages.plaintext.settings import PlaintextSettings


def _read(path, name: str, settings: PlaintextSettings | None = None):
    report = IngestReport()
    items = list(read_raw_file(path, name, "json", settings or PlaintextSettings(), report))
    return [i for i in items if isinstance(i, Record)], [i for i in items if isinstance(i, Rejection)], report


def test_an_alpaca_array_becomes_supervised_records_and_bad_elements_are_located(tmp_path):
    path = tmp_path / "alpaca.json"
    elements = [
        {"instruction": "Describe a process of making crepes.", "input": "", "output": "Whisk flour and eggs."},
        {"instruction": "Translate", "input": "bonjour", "output": "hello"},
        "not an object",
        {"id": 7},
        {"text": "A plain paragraph about tides."},
        [1, 2],
    ]
    path.write_text(json.dumps(elements, indent=2))
    records, rejections, report = _read(path, "json/alpaca.json")
    assert [(r.input, r.output, r.source, r.format) for r in records[:2]] == [
        ("Describe a process of making crepes.", "Whisk flour and eggs.", "json/alpaca.json item 1", "json"),
        ("Translate\n\nbonjour", "hello", "json/alpaca.json item 2", "json"),
    ]
    assert (records[2].text, records[2].source) == ("A plain paragraph about tides.", "json/alpaca.json item 5")
    assert [(r.reason, r.source, r.detail) for r in rejections] == [
        ("bad_json_item", "json/alpaca.json item 3", "a JSON string, not an object"),
        ("no_text_fields", "json/alpaca.json item 4", "keys: ['id']"),
        ("bad_json_item", "json/alpaca.json item 6", "a JSON array, not an object"),
    ]
    assert report.records["json"] == 3 and sum(report.rejected.values()) == 3 and report.files["json"] == 1
    assert report.mappings["json/alpaca.json"] == "input <- instruction + input; output <- output; text <- text"


def test_configured_fields_apply_to_every_element(tmp_path):
    path = tmp_path / "qa.json"
    path.write_text(json.dumps([{"q": "Why is the sky blue?", "a": "Rayleigh scattering."}, {"q": "Only a question"}]))
    settings = PlaintextSettings(json=json_format.Settings(fields=ColumnMapping(input=("q",), output="a")))
    records, rejections, _ = _read(path, "json/qa.json", settings)
    assert [(r.input, r.output) for r in records] == [("Why is the sky blue?", "Rayleigh scattering.")]
    assert [(r.reason, r.source) for r in rejections] == [("missing_column: a", "json/qa.json item 2")]


def test_invalid_json_is_one_rejection_with_its_location(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('[\n  {"text": "fine so far"},\n  {"text": "never closed\n]')
    records, rejections, _ = _read(path, "json/broken.json")
    assert records == []
    [rejection] = rejections
    assert rejection.reason == "bad_json_file" and rejection.source.startswith("json/broken.json line 3 column")
    assert rejection.detail.startswith("not JSON:")


def test_a_top_level_value_that_is_not_an_array_is_quarantined(tmp_path):
    path = tmp_path / "object.json"
    path.write_text(json.dumps({"data": [{"text": "inside an object, not an array"}]}))
    records, rejections, _ = _read(path, "json/object.json")
    assert records == []
    assert [(r.reason, r.source, r.detail) for r in rejections] == [
        ("not_a_json_array", "json/object.json", "a JSON object, not an array of records")
    ]


def test_empty_files_arrays_and_undecodable_bytes_are_quarantined_not_ignored(tmp_path):
    (tmp_path / "empty.json").write_bytes(b"")
    (tmp_path / "none.json").write_text("[]")
    (tmp_path / "latin1.json").write_bytes(b'[{"text": "caf\xe9"}]')
    assert [(r.reason, r.source) for r in _read(tmp_path / "empty.json", "json/empty.json")[1]] == [
        ("empty_file", "json/empty.json")
    ]
    assert [(r.reason, r.source) for r in _read(tmp_path / "none.json", "json/none.json")[1]] == [
        ("no_records", "json/none.json")
    ]
    [undecodable] = _read(tmp_path / "latin1.json", "json/latin1.json")[1]
    assert undecodable.reason == "bad_json_file" and undecodable.detail.startswith("not UTF-8")


def test_an_element_nested_too_deeply_is_quarantined_not_a_crash(tmp_path):
    depth = 100_000
    (tmp_path / "deep.json").write_text(
        '[{"text": ' + "[" * depth + "]" * depth + '},\n{"text": "The element after the deep one."}]'
    )
    (tmp_path / "fine.json").write_text(json.dumps([{"text": "A file read after the deep one."}]))
    records, rejections, _ = _read(tmp_path / "deep.json", "json/deep.json")
    assert [r.text for r in records] == ["The element after the deep one."]
    assert [(r.reason, r.source) for r in rejections] == [("bad_json_item", "json/deep.json item 1")]
    assert "nested too deeply" in rejections[0].detail and rejections[0].detail.startswith("line 1:")
    assert [r.text for r in _read(tmp_path / "fine.json", "json/fine.json")[0]] == ["A file read after the deep one."]


def test_nan_and_infinity_make_their_element_not_json(tmp_path):
    for constant in ("NaN", "Infinity", "-Infinity"):
        path = tmp_path / "scores.json"
        path.write_text(f'[{{"text": "Tides turn twice a day.", "score": {constant}}},\n{{"text": "Kept."}}]')
        records, rejections, _ = _read(path, "json/scores.json")
        assert [r.text for r in records] == ["Kept."]
        assert [(r.reason, r.source) for r in rejections] == [("bad_json_item", "json/scores.json item 1")]
        assert f"{constant} is not" in rejections[0].detail
    path.write_text("NaN")  # not an array: the file itself
    assert [r.reason for r in _read(path, "json/scores.json")[1]] == ["bad_json_file"]


def test_scalars_are_rendered_as_json_writes_them_and_duplicate_keys_are_refused(tmp_path):
    path = tmp_path / "scalars.json"
    path.write_text('[{"text": true}, {"instruction": "How much flour?", "output": 2.50}, {"text": null}]')
    records, rejections, _ = _read(path, "json/scalars.json")
    assert [(r.text, r.input, r.output) for r in records] == [("true", None, None), (None, "How much flour?", "2.50")]
    assert [(r.reason, r.source) for r in rejections] == [("empty_text", "json/scalars.json item 3")]
    path.write_text('[{"text": "kept"}, {"output": "first", "output": "second", "instruction": "Which?"}]')
    records, rejections, _ = _read(path, "json/dupes.json")
    assert [r.text for r in records] == ["kept"]  # one element's duplicate key costs only that element
    assert [(r.reason, r.source) for r in rejections] == [("duplicate_key", "json/dupes.json item 2")]
    assert "'output'" in rejections[0].detail
