"""The settings of the filtered stage: one part per content filter (its module's `Settings`),
PII redaction, and the duplicate search.

`FilterSettings` is built from the filter registry, one field per filter named as in
`filters.REGISTRY` (`FilterSettings().phrases.list`, config `{phrases: {list: aggressive}}`), so
a new filter module brings its settings, help text included, without an edit here.
"""

from __future__ import annotations

from llm_pipeline.setting import setting, settings_of_registry
from llm_pipeline.stages.filtered.dedup import NearDuplicateSettings
from llm_pipeline.stages.filtered.filters import REGISTRY


def _near(self) -> NearDuplicateSettings | None:
    """The near-duplicate search's settings, or None when `dedup_near` is off."""
    return self.near_duplicates if self.dedup_near else None


FilterSettings = settings_of_registry(
    "FilterSettings",
    __name__,
    "Which content filters run with which thresholds (one part per filter), PII redaction, and the duplicate search.",
    REGISTRY,
    (
        "redact_pii",
        bool,
        setting(
            False,
            "Replace email addresses, phone numbers and public IP addresses with <EMAIL>, <PHONE>, "
            "<IP_ADDRESS> before filtering (private addresses such as 192.168.1.1 stay).",
        ),
    ),
    (
        "dedup_exact",
        bool,
        setting(True, "Drop exact duplicates (case and whitespace folded); the first occurrence is kept."),
    ),
    (
        "dedup_near",
        bool,
        setting(
            True,
            "Drop near-duplicates (MinHash LSH): prompt and response each alike at `near_duplicates.threshold`; "
            "the first occurrence is kept.",
        ),
    ),
    (
        "near_duplicates",
        NearDuplicateSettings,
        setting(factory=NearDuplicateSettings, help="How near-duplicates are found (when `dedup_near`)."),
    ),
    namespace={"near": property(_near)},
)
