"""The content filters, in the order they run: the first that objects names the reason.

A filter module has a `Settings` dataclass (its part of the stage's config, `FilterSettings.<name>`,
help on every field) and `from_settings(settings: Settings) -> Filter | None` (None: off), called
with its own `Settings`. Adding a filter is one module here and one line in `REGISTRY`: the
stage's settings, its Dagster config and the analysis cache key all follow it.
"""

from __future__ import annotations

from types import ModuleType

from llm_pipeline.stages.filtered.filters import language, phrases, quality
from llm_pipeline.stages.filtered.filters.base import Filter

# Name (its config key) -> module, in run order. Quality first: its word-count bounds reject a 50 MB
# record at once, before the phrase search reads it all; language last, the dearest per byte.
REGISTRY: dict[str, ModuleType] = {
    "quality": quality,
    "phrases": phrases,
    "language": language,
}


def build_chain(settings) -> list[Filter]:
    """The filters that are on under `settings` (a `FilterSettings`), in run order."""
    return [check for name, module in REGISTRY.items() if (check := module.from_settings(getattr(settings, name)))]
