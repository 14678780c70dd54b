"""Small predicates that keep a record or name why it goes, and the one place that counts them.

Each filter returns None to keep a record, or a `Drop` with the reason and a detail. Content
filters read the response side only: a prompt may ask "Are you trained by OpenAI?" and still
have a clean answer worth keeping.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pyarrow as pa

from llm_pipeline.dedup import (
    ExactDeduplicator,
    Match,
    MinHasher,
    NearDeduplicator,
    NearDuplicateSettings,
    Signatures,
    normalized_key,
)
from llm_pipeline.document import Record
from llm_pipeline.drop import Drop
from llm_pipeline.fingerprint import code_fingerprint, settings_fingerprint
from llm_pipeline.phrases import NARROW_PHRASES, PhraseMatcher
from llm_pipeline.pii import redact
from llm_pipeline.quality import QualitySettings, quality_checks, quality_drop
from llm_pipeline.row_cache import KEY, RowCache

Filter = Callable[[Record], "Drop | None"]


def phrase_filter(phrases: Sequence[str]) -> Filter:
    """Drop a record whose response contains one of `phrases` (case-, apostrophe- and spacing-tolerant)."""
    matcher = PhraseMatcher(phrases)

    def check(record: Record) -> Drop | None:
        hit = matcher.find(record.response)
        return Drop("synthetic_phrase", f"response contains {hit!r}") if hit else None

    return check


def quality_filter(settings: QualitySettings) -> Filter:
    """Drop a record whose response (or unsupervised text) fails a Gopher-style heuristic."""
    checks = quality_checks(settings)
    return lambda record: quality_drop(record.response, record.is_supervised, checks)


def redacted(record: Record, counts: Counter) -> Record:
    """The record with personal data replaced by placeholders in every text field."""
    return replace(
        record,
        **{name: redact(value, counts) for name in ("text", "input", "output") if (value := getattr(record, name))},
    )


@dataclass(frozen=True)
class FilterSettings:
    phrases: tuple[str, ...] = NARROW_PHRASES
    quality: QualitySettings = field(default_factory=QualitySettings)
    redact_pii: bool = False
    dedup_exact: bool = True
    near_duplicates: NearDuplicateSettings | None = field(default_factory=NearDuplicateSettings)


@dataclass
class FilterReport:
    kept: int = 0
    dropped: Counter = field(default_factory=Counter)
    redactions: Counter = field(default_factory=Counter)  # placeholders written, by kind
    records_redacted: int = 0
    duplicate_groups: Counter = field(default_factory=Counter)  # "kept id (source)" -> members dropped

    @property
    def total(self) -> int:
        return self.kept + sum(self.dropped.values())


@dataclass(frozen=True)
class Decision:
    record: Record  # after redaction, when it is on
    reason: str | None  # None: kept
    detail: str = ""


@dataclass(frozen=True)
class Analysis:
    """What the filters find in one record on its own: a function of its content and the
    settings alone, so it can be cached by record id (see `analysis_cache`)."""

    redacted: dict[str, str]  # the text fields redaction changed, with their new values
    redactions: dict[str, int]  # placeholders written, by kind
    drop: Drop | None  # the first quality or phrase filter that objects
    signatures: Signatures  # MinHash signatures for near-dedup (None when dropped or not asked)
    exact_key: bytes | None = None  # `normalized_key` for exact dedup (None when dropped or not asked)


class Analyser:
    """Runs the per-record part of the filters: redaction, quality, phrases, signatures."""

    def __init__(self, settings: FilterSettings) -> None:
        self.settings = settings
        # Quality first: its word-count bounds reject a 50 MB record at once, before the phrase search reads it all.
        self._filters = [quality_filter(settings.quality), phrase_filter(settings.phrases)]
        self._hasher = MinHasher(settings.near_duplicates) if settings.near_duplicates else None

    def __call__(self, record: Record) -> Analysis:
        counts: Counter = Counter()
        redacted_fields = {}
        if self.settings.redact_pii:
            changed = redacted(record, counts)
            redacted_fields = {name: getattr(changed, name) for name in TEXT_FIELDS if getattr(changed, name) != getattr(record, name)}
            record = changed
        drop = next((verdict for check in self._filters if (verdict := check(record))), None)
        signatures = self._hasher.signatures(record) if drop is None and self._hasher else Signatures(None, None)
        exact_key = bytes.fromhex(normalized_key(record)) if drop is None and self.settings.dedup_exact else None
        return Analysis(redacted_fields, dict(counts), drop, signatures, exact_key)


def apply_filters(
    records: Iterable[Record], settings: FilterSettings, report: FilterReport, cache: RowCache | None = None
) -> Iterator[Decision]:
    """A decision for every record, in order: the first filter that objects names the reason.

    Duplicates are checked last, so a record dropped for its content never becomes the kept
    representative of a duplicate group; exact duplicates before near ones, since they are cheaper.
    With a `cache` (from `analysis_cache`), the per-record analysis of an unchanged record is
    read back instead of computed; only the duplicate search runs over every record again.
    """
    analyse = Analyser(settings)
    exact = ExactDeduplicator() if settings.dedup_exact else None
    near = NearDeduplicator(settings.near_duplicates) if settings.near_duplicates else None
    for record in records:
        row = cache.get(record.id) if cache is not None else None
        if row is not None:
            analysis = analysis_from_row(row)
        else:
            analysis = analyse(record)
            if cache is not None:
                cache.put(record.id, analysis_to_row(analysis))
        if analysis.redacted:
            record = replace(record, **analysis.redacted)
        if analysis.redactions:
            report.redactions.update(analysis.redactions)
            report.records_redacted += 1
        drop = analysis.drop or _duplicate_drop(record, exact, near, analysis)
        if drop is None:
            report.kept += 1
            yield Decision(record, None)
        else:
            report.dropped[drop.reason] += 1
            if drop.group:
                report.duplicate_groups[drop.group] += 1
            yield Decision(record, drop.reason, drop.detail)


def _duplicate_drop(
    record: Record, exact: ExactDeduplicator | None, near: NearDeduplicator | None, analysis: Analysis
) -> Drop | None:
    if exact is not None and (match := exact.original_of(record, analysis.exact_key)) is not None:
        return Drop("exact_duplicate", match.describe("duplicate"), match.group)
    match = near.original_of(record, analysis.signatures) if near is not None else None
    if exact is not None:  # a later exact copy joins the same group, named after the kept record
        exact.remember(record, match or Match(record.id, record.source), analysis.exact_key)
    return Drop("near_duplicate", match.describe("near-duplicate"), match.group) if match else None


# --- the per-record analysis between runs ----------------------------------------------------

TEXT_FIELDS = ("text", "input", "output")
# The code whose change can change an analysis, and the library computing the signatures.
ANALYSIS_CODE = ("filters.py", "quality.py", "phrases.py", "pii.py", "words.py", "dedup.py", "drop.py", "document.py")
ANALYSIS_LIBRARIES = ("datasketch", "numpy")
ANALYSIS_SCHEMA = pa.schema(
    [
        (KEY, pa.string()),
        ("redacted", pa.string()),  # JSON {field: value}
        ("redactions", pa.string()),  # JSON {kind: count}
        ("drop_reason", pa.string()),
        ("drop_detail", pa.string()),
        ("response_signature", pa.binary()),
        ("prompt_signature", pa.binary()),
        ("exact_key", pa.binary()),
    ]
)


def analysis_cache(folder: Path, settings: FilterSettings) -> RowCache:
    """The cache of per-record analyses under these settings (a change of settings or code starts a new one)."""
    fingerprint = settings_fingerprint(settings, code_fingerprint(ANALYSIS_CODE, ANALYSIS_LIBRARIES))
    return RowCache(folder, fingerprint, ANALYSIS_SCHEMA)


def analysis_to_row(analysis: Analysis) -> dict:
    drop, signatures = analysis.drop, analysis.signatures
    return {
        "redacted": json.dumps(analysis.redacted) if analysis.redacted else None,
        "redactions": json.dumps(analysis.redactions) if analysis.redactions else None,
        "drop_reason": drop.reason if drop else None,
        "drop_detail": drop.detail if drop else None,
        "response_signature": None if signatures.response is None else signatures.response.tobytes(),
        "prompt_signature": None if signatures.prompt is None else signatures.prompt.tobytes(),
        "exact_key": analysis.exact_key,
    }


def analysis_from_row(row: dict) -> Analysis:
    def signature(value: bytes | None) -> np.ndarray | None:
        return None if value is None else np.frombuffer(value, dtype=np.uint32)

    return Analysis(
        redacted=json.loads(row["redacted"]) if row["redacted"] else {},
        redactions=json.loads(row["redactions"]) if row["redactions"] else {},
        drop=Drop(row["drop_reason"], row["drop_detail"]) if row["drop_reason"] else None,
        signatures=Signatures(signature(row["response_signature"]), signature(row["prompt_signature"])),
        exact_key=row["exact_key"],
    )
