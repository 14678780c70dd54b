"""The content filters, in the order they run: the first that objects names the reason.

A filter module offers `from_settings(settings: FilterSettings) -> Filter | None` (None: off);
adding a filter is one module here and one line in `CHAIN`.
"""

from __future__ import annotations

from llm_pipeline.stages.filtered.filters import phrases, quality

# Quality first: its word-count bounds reject a 50 MB record at once, before the phrase search reads it all.
CHAIN = (
    quality.from_settings,
    phrases.from_settings,
)
