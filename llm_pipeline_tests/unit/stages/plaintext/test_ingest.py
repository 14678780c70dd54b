"""Raw files that change or vanish while the run reads them: read again, or quarantined with the
reason; never a crash of the run, never a stale parse kept silently."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from llm_pipeline.stages.plaintext import cache as ingest
from llm_pipeline.stages.plaintext.cache import READ_ATTEMPTS, ParsedFileCache, ingest_files
from llm_pipeline.stages.plaintext.settings import PlaintextSettings


def line(text: str) -> str:
    return json.dumps({"text": text}) + "\n"


@pytest.fixture
def notes(tmp_path) -> Path:
    path = tmp_path / "raw" / "jsonl" / "notes.jsonl"
    path.parent.mkdir(parents=True)
    path.write_text(line("the first version of the notes"))
    return path


def while_reading(monkeypatch, action) -> list[int]:
    """Run `action(path, attempt)` as the parser starts on a file: another writer at work."""
    attempts = []
    read = ingest.read_raw_file

    def reading(path, *args, **kwargs):
        attempts.append(len(attempts) + 1)
        action(path, len(attempts))
        return read(path, *args, **kwargs)

    monkeypatch.setattr(ingest, "read_raw_file", reading)
    return attempts


def run(tmp_path: Path, path: Path):
    cache = ParsedFileCache(tmp_path / "cache", PlaintextSettings())
    ingested = ingest_files([(path, "jsonl/notes.jsonl", "jsonl")], PlaintextSettings(), cache)
    (part,) = ingested.parts
    return part.records.to_pylist(), part.rejections.to_pylist(), cache


def test_a_file_rewritten_during_its_parse_is_read_again_and_the_settled_bytes_kept(tmp_path, notes, monkeypatch):
    def rewrite_once(path, attempt):
        if attempt == 1:
            path.write_text(line("the second version of the notes"))

    attempts = while_reading(monkeypatch, rewrite_once)
    records, rejections, cache = run(tmp_path, notes)
    assert attempts == [1, 2]
    assert [record["text"] for record in records] == ["the second version of the notes"] and not rejections
    monkeypatch.undo()
    assert run(tmp_path, notes)[0] == records  # the settled parse is the one cached


def test_a_file_that_never_stops_changing_is_quarantined_whole(tmp_path, notes, monkeypatch):
    attempts = while_reading(monkeypatch, lambda path, attempt: path.write_text(line(f"version {attempt + 1}")))
    records, rejections, _ = run(tmp_path, notes)
    assert len(attempts) == READ_ATTEMPTS and not records
    assert [(r["reason"], r["source"]) for r in rejections] == [("changed_while_read", "jsonl/notes.jsonl")]
    assert f"changed during each of {READ_ATTEMPTS} reads" in rejections[0]["detail"]


def test_a_file_deleted_after_the_listing_is_a_quarantine_entry_not_a_crash(tmp_path, notes, monkeypatch):
    while_reading(monkeypatch, lambda path, attempt: path.unlink())
    records, rejections, _ = run(tmp_path, notes)
    assert not records and [(r["reason"], r["source"]) for r in rejections] == [("file_vanished", "jsonl/notes.jsonl")]

    notes.unlink(missing_ok=True)  # gone before the run even hashes it
    records, rejections, _ = run(tmp_path, notes)
    assert [r["reason"] for r in rejections] == ["file_vanished"]
