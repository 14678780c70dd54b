"""What the filters find in one record on its own, and the cache that keeps it between runs."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pyarrow as pa

from llm_pipeline.records import Record
from llm_pipeline.stages.filtered.dedup import (
    MinHasher,
    Signatures,
    normalized_key,
)
from llm_pipeline.stages.filtered.filters import REGISTRY, build_chain
from llm_pipeline.stages.filtered.filters.base import Drop
from llm_pipeline.stages.filtered.pii import redacted_fields
from llm_pipeline.stages.filtered.settings import FilterSettings
from llm_pipeline.storage.code_fingerprint import code_fingerprint
from llm_pipeline.storage.fingerprint import settings_fingerprint
from llm_pipeline.storage.row_cache import KEY, RowCache


@dataclass(frozen=True)
class Analysis:
    """What the filters find in one record on its own: a function of its content and the
    settings alone, so it can be cached by record id (see `analysis_cache`)."""

    redacted: dict[str, object]  # the fields redaction changed (texts, a conversation's turns), with their new values
    redactions: dict[str, int]  # placeholders written, by kind
    drop: Drop | None  # the first content filter that objects
    signatures: Signatures  # MinHash signatures for near-dedup (None when dropped or not asked)
    exact_key: bytes | None = None  # `normalized_key` for exact dedup (None when dropped or not asked)


class Analyser:
    """Runs the per-record part of the filters: redaction, the content filters, signatures."""

    def __init__(self, settings: FilterSettings) -> None:
        self.settings = settings
        self._filters = build_chain(settings)
        self._hasher = MinHasher(settings.near) if settings.near else None

    def __call__(self, record: Record) -> Analysis:
        counts: Counter = Counter()
        changed = redacted_fields(record, counts) if self.settings.redact_pii else {}
        record = replace(record, **changed)
        drop = next((verdict for check in self._filters if (verdict := check(record))), None)
        signatures = self._hasher.signatures(record) if drop is None and self._hasher else Signatures(None, None)
        exact_key = bytes.fromhex(normalized_key(record)) if drop is None and self.settings.dedup_exact else None
        return Analysis(changed, dict(counts), drop, signatures, exact_key)


# The libraries whose version can change an analysis: the signatures' and those a filter module
# names in its `LIBRARIES` (py3langid ships its model in the wheel). The code is this module's
# import closure.
ANALYSIS_LIBRARIES = (
    "datasketch",
    "numpy",
    *(lib for module in REGISTRY.values() for lib in getattr(module, "LIBRARIES", ())),
)


ANALYSIS_SCHEMA = pa.schema(
    [
        (KEY, pa.string()),
        ("redacted", pa.string()),  # JSON {field: value}; `messages`: its list of turns
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
    fingerprint = settings_fingerprint(settings, code_fingerprint(__name__, libraries=ANALYSIS_LIBRARIES))
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
