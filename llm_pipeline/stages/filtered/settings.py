"""The settings of the filtered stage: which filters run, with which thresholds, and the duplicate search."""

from __future__ import annotations

from dataclasses import dataclass, field

from llm_pipeline.stages.filtered.dedup import NearDuplicateSettings
from llm_pipeline.stages.filtered.filters.phrases import NARROW_PHRASES
from llm_pipeline.stages.filtered.filters.quality import QualitySettings


@dataclass(frozen=True)
class FilterSettings:
    phrases: tuple[str, ...] = NARROW_PHRASES
    quality: QualitySettings = field(default_factory=QualitySettings)
    redact_pii: bool = False
    dedup_exact: bool = True
    near_duplicates: NearDuplicateSettings | None = field(default_factory=NearDuplicateSettings)
