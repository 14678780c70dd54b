"""A content-addressed cache of parsed raw files: an unchanged file is parsed once.

An entry is one raw file's records and rejections, as Arrow stream files (the format `datasets`
stores data in) read back memory-mapped, and its part of the ingest report. Its key hashes everything that decides the
parse: the file's name (records carry it in `source`) and bytes, the settings of its format,
and the parsing code and libraries. A changed file, setting, parser or library version
therefore misses, never reuses a stale parse; a renamed file is parsed again because its
records' sources change.

Entries are written to a temporary folder and renamed into place, so a killed writer leaves
no half entry; an entry that cannot be read counts as a miss.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from llm_pipeline.records import Record, Rejection
from llm_pipeline.stages.plaintext.formats.rows import rejection
from llm_pipeline.stages.plaintext.read import read_raw_file
from llm_pipeline.stages.plaintext.report import IngestReport
from llm_pipeline.stages.plaintext.settings import PlaintextSettings
from llm_pipeline.storage.atomic import atomic_dir, sweep_dead_writers, written_here
from llm_pipeline.storage.code_fingerprint import code_fingerprint
from llm_pipeline.storage.fingerprint import file_digest, plain, settings_fingerprint
from llm_pipeline.storage.stage_output import RECORD_FEATURES, REJECTION_FEATURES, ArrowRowWriter, read_arrow_table

# The code that turns a raw file into records (and all it imports): a change to any of it invalidates every entry.
PARSING_MODULE = "llm_pipeline.stages.plaintext.read"
# Libraries whose version can change what a page or a table yields.
PARSING_LIBRARIES = (
    "trafilatura",
    "beautifulsoup4",
    "lxml",
    "lxml_html_clean",
    "pandas",
    "charset-normalizer",
    "pyarrow",
)
_RECORDS, _REJECTIONS, _REPORT = "records.arrow", "rejections.arrow", "report.json"


@dataclass
class ParsedFile:
    """One raw file's parse: memory-mapped records and rejections, and its report."""

    records: pa.Table
    rejections: pa.Table
    report: IngestReport


def format_settings(settings: PlaintextSettings, fmt: str) -> dict:
    """The settings that can change how a file of `fmt` parses: its format's own part of `settings`
    (`settings.<fmt>`, the format module's `Settings`); the others do not invalidate it."""
    return plain(getattr(settings, fmt))


class ParsedFileCache:
    """Parsed raw files under `folder`, one subfolder per key."""

    def __init__(self, folder: Path, settings: PlaintextSettings) -> None:
        self.folder = folder
        self.settings = settings
        self._code = code_fingerprint(PARSING_MODULE, libraries=PARSING_LIBRARIES)
        self._opened_at = time.time()

    def key(self, name: str, fmt: str, content_digest: str) -> str:
        return settings_fingerprint(name, fmt, content_digest, format_settings(self.settings, fmt), self._code)

    def _entry(self, key: str) -> Path:
        return self.folder / key[:2] / key

    def load(self, key: str) -> ParsedFile | None:
        """The cached parse, or None when there is none (or it cannot be read)."""
        entry = self._entry(key)
        try:
            parsed = read_parsed(entry)
            os.utime(entry)  # marks it used: `prune` keeps what runs still read
            return parsed
        except (OSError, ValueError, KeyError, pa.ArrowException):
            return None

    def store(self, key: str, items: Iterable[Record | Rejection], report: IngestReport) -> ParsedFile:
        """Write a file's parse (consuming `items`, which fill `report`) and return it memory-mapped."""
        entry = self._entry(key)
        with atomic_dir(entry) as staging:
            write_parsed(staging, items, report)
        parsed = self.load(key)
        if parsed is None:
            raise OSError(f"the parse cache entry {entry} could not be read back after writing it")
        return parsed

    def forget(self, key: str) -> None:
        shutil.rmtree(self._entry(key), ignore_errors=True)

    def prune(self, used: set[str]) -> int:
        """Remove entries this run did not use and no run has used since it started; return how many.

        An entry another run reads or writes meanwhile has a newer modification time and stays.
        """
        removed = 0
        for shard in self.folder.glob("*"):
            if shard.name.startswith(".") or not shard.is_dir():
                continue
            sweep_dead_writers(shard)
            for entry in shard.iterdir():
                if entry.name in used or entry.name.startswith(".") or not written_here(entry):
                    continue
                try:
                    if entry.stat().st_mtime >= self._opened_at:
                        continue
                except FileNotFoundError:
                    continue
                shutil.rmtree(entry, ignore_errors=True)
                removed += 1
        return removed


def write_parsed(folder: Path, items: Iterable[Record | Rejection], report: IngestReport) -> None:
    """Write records, rejections and the report into `folder` (consuming `items`, which fill `report`)."""
    folder.mkdir(parents=True, exist_ok=True)
    with (
        ArrowRowWriter(folder / _RECORDS, RECORD_FEATURES) as records,
        ArrowRowWriter(folder / _REJECTIONS, REJECTION_FEATURES) as rejections,
    ):
        for item in items:
            (records if isinstance(item, Record) else rejections).add(item.to_dict())
    (folder / _REPORT).write_text(json.dumps(_report_to_json(report)), encoding="utf-8")


def read_parsed(folder: Path) -> ParsedFile:
    return ParsedFile(
        # Memory-mapped, not read: the rows stay on disk until the stage output is written from them.
        records=read_arrow_table(folder / _RECORDS),
        rejections=read_arrow_table(folder / _REJECTIONS),
        report=_report_from_json(json.loads((folder / _REPORT).read_text(encoding="utf-8"))),
    )


@dataclass
class IngestRun:
    """Every source's parse, in source order, and what the cache did."""

    parts: list[ParsedFile]
    report: IngestReport
    parsed: list[str]  # names of the files parsed this run
    cached: list[str]  # names of the files read from the cache
    used_keys: set[str]


def ingest_files(
    files: Iterable[tuple[Path, str, str]],
    settings: PlaintextSettings,
    cache: ParsedFileCache,
    on_file: Callable[[str, ParsedFile, bool], None] = lambda name, parsed, from_cache: None,
) -> IngestRun:
    """Parse each (path, name, format) raw file, or read its earlier parse from `cache`."""
    run = IngestRun(parts=[], report=IngestReport(), parsed=[], cached=[], used_keys=set())
    for path, name, fmt in files:
        try:
            key, parsed, from_cache = _parse_settled(path, name, fmt, settings, cache)
        except FileNotFoundError:  # deleted after raw/ was listed: say so, the next run sees it gone
            key, parsed, from_cache = _refused(cache, name, fmt, "file_vanished", "deleted while the run read raw/")
        (run.cached if from_cache else run.parsed).append(name)
        run.used_keys.add(key)
        run.report.merge(parsed.report)
        run.parts.append(parsed)
        on_file(name, parsed, from_cache)
    return run


READ_ATTEMPTS = 3


def _parse_settled(
    path: Path, name: str, fmt: str, settings: PlaintextSettings, cache: ParsedFileCache
) -> tuple[str, ParsedFile, bool]:
    """(cache key, parse, from the cache?) of a file whose bytes were the same before and after
    its parse; a file that changed during every one of READ_ATTEMPTS parses is quarantined whole
    (its writer is not done: the sensor sees the next change and the next run reads it again)."""
    for _ in range(READ_ATTEMPTS):
        digest = file_digest(path)
        key = cache.key(name, fmt, digest)
        parsed = cache.load(key)
        if parsed is not None:
            return key, parsed, True
        report = IngestReport()
        parsed = cache.store(key, read_raw_file(path, name, fmt, settings, report), report)
        if file_digest(path) == digest:
            return key, parsed, False
        cache.forget(key)  # a parse of bytes that are no longer there
    detail = f"its bytes changed during each of {READ_ATTEMPTS} reads; it is read again once it stops changing"
    return _refused(cache, name, fmt, "changed_while_read", detail)


def _refused(cache: ParsedFileCache, name: str, fmt: str, reason: str, detail: str) -> tuple[str, ParsedFile, bool]:
    """A whole-file quarantine entry as a parse (kept in the cache only for this run)."""
    report = IngestReport()
    key = cache.key(name, fmt, f"{reason}:{time.time_ns()}")
    parsed = cache.store(key, [report.count(rejection(reason, name, detail=detail), fmt)], report)
    return key, parsed, False


def _report_to_json(report: IngestReport) -> dict:
    return {field.name: dict(getattr(report, field.name)) for field in dataclasses.fields(report)}


def _report_from_json(values: dict) -> IngestReport:
    return IngestReport(
        records=Counter(values["records"]),
        rejected=Counter(values["rejected"]),
        files=Counter(values["files"]),
        mappings=dict(values["mappings"]),
        skipped_tables=dict(values["skipped_tables"]),
    )
