"""filtered: synthetic-data artefacts, low-quality text and duplicates removed, each with its reason."""

from dataclasses import fields
from typing import Literal

import dagster as dg
from pydantic import Field

from llm_pipeline.defs.assets.plaintext import DATASET_GROUP, plaintext
from llm_pipeline.defs.metadata import balance_metadata, counts_markdown, samples_by_reason_markdown
from llm_pipeline.defs.resources import DataDirResource
from llm_pipeline.records import Rejection
from llm_pipeline.stages.filtered.analysis import analysis_cache
from llm_pipeline.stages.filtered.apply import FilterReport, apply_filters
from llm_pipeline.stages.filtered.dedup import NearDuplicateSettings
from llm_pipeline.stages.filtered.filters.phrases import phrases_for
from llm_pipeline.stages.filtered.filters.quality import QualitySettings
from llm_pipeline.stages.filtered.settings import FilterSettings
from llm_pipeline.storage.stage_output import iter_records, load_records, save_records, save_rejections

STAGE = "filtered"
_QUALITY = QualitySettings()
# n -> limit maps: Dagster config keys are strings (the launchpad writes them so), the heuristics want ints.
NGRAM_LIMIT_FIELDS = ("max_top_ngram_char_fraction", "max_duplicate_ngram_char_fraction")


def _string_keys(limits) -> dict[str, float]:
    return {str(n): limit for n, limit in limits.items()}


_NEAR = NearDuplicateSettings()
_RESPONSE = "the response of a supervised record, or the whole unsupervised text"


class FilterConfig(dg.Config):
    phrase_list: Literal["narrow", "aggressive", "none"] = Field(
        default="narrow",
        description="Artefact phrases matched case-insensitively on the response only: `narrow` (refusals and AI "
        "self-references), `aggressive` (narrow plus hedging and moralizing boilerplate) or `none`.",
    )
    extra_phrases: list[str] = Field(default=[], description="Your own phrases, added to `phrase_list`.")
    min_words_text: int = Field(
        default=_QUALITY.min_words_text, description="Drop unsupervised texts with fewer words (`too_few_words`)."
    )
    min_words_response: int = Field(
        default=_QUALITY.min_words_response,
        description="Drop supervised records whose response has fewer words; 1 keeps short answers such as `Paris.`.",
    )
    max_words: int = Field(
        default=_QUALITY.max_words, description=f"Drop when {_RESPONSE} has more words (0: no limit)."
    )
    judge_min_words: int = Field(
        default=_QUALITY.judge_min_words,
        description="The ratio and repetition heuristics below judge only texts of at least this many words "
        "(Gopher's minimum document length: on shorter texts one repeated phrase swings the ratios).",
    )
    min_mean_word_length: float = Field(
        default=_QUALITY.min_mean_word_length,
        description="Drop text whose mean word length is lower (`mean_word_length`).",
    )
    max_mean_word_length: float = Field(
        default=_QUALITY.max_mean_word_length, description="Drop text whose mean word length is higher (0: no limit)."
    )
    max_symbol_word_ratio: float = Field(
        default=_QUALITY.max_symbol_word_ratio,
        description="Drop text with more '#' per word, or more '...' per word, than this (`symbol_ratio`; 0: off).",
    )
    min_alpha_word_fraction: float = Field(
        default=_QUALITY.min_alpha_word_fraction,
        description="Drop text where a smaller share of words contains a letter (`non_alpha_words`).",
    )
    max_bullet_line_fraction: float = Field(
        default=_QUALITY.max_bullet_line_fraction,
        description="Drop text where a larger share of lines starts with a bullet (`bullet_lines`; 0: off).",
    )
    max_ellipsis_line_fraction: float = Field(
        default=_QUALITY.max_ellipsis_line_fraction,
        description="Drop text where a larger share of lines ends with an ellipsis (`ellipsis_lines`; 0: off).",
    )
    shape_checks_on_responses: bool = Field(
        default=_QUALITY.shape_checks_on_responses,
        description="Apply the mean-word-length, symbol, alphabetic-word, bullet and ellipsis checks to supervised "
        "responses too; off by default because tables, arithmetic, code and lists are good answers.",
    )
    max_duplicate_line_fraction: float = Field(
        default=_QUALITY.max_duplicate_line_fraction,
        description="Drop text whose lines (or paragraphs) repeat an earlier one more often than this share "
        "(`duplicate_lines`; Gopher: 0.3; 0: off).",
    )
    max_duplicate_line_char_fraction: float = Field(
        default=_QUALITY.max_duplicate_line_char_fraction,
        description="The same by characters (Gopher: 0.2; 0: off).",
    )
    max_top_ngram_char_fraction: dict[str, float] = Field(
        default=_string_keys(_QUALITY.max_top_ngram_char_fraction),
        description="n -> limit: drop text where the most frequent word n-gram covers a larger share of the "
        "characters (`top_ngram_repetition`; Gopher: {2: 0.20, 3: 0.18, 4: 0.16}).",
    )
    max_duplicate_ngram_char_fraction: dict[str, float] = Field(
        default=_string_keys(_QUALITY.max_duplicate_ngram_char_fraction),
        description="n -> limit: drop text where repeated word n-grams cover a larger share of the characters "
        "(`duplicate_ngram_repetition`; Gopher: 0.15 for n=5 down to 0.10 for n=10).",
    )
    redact_pii: bool = Field(
        default=False,
        description="Replace email addresses, phone numbers and public IP addresses with <EMAIL>, <PHONE>, "
        "<IP_ADDRESS> before filtering (private addresses such as 192.168.1.1 stay).",
    )
    dedup_exact: bool = Field(
        default=True, description="Drop exact duplicates (case and whitespace folded); the first occurrence is kept."
    )
    dedup_near: bool = Field(
        default=True,
        description="Drop near-duplicates (MinHash LSH, datasketch): prompt and response each alike at "
        "`near_dup_threshold`; the first occurrence is kept.",
    )
    near_dup_threshold: float = Field(
        default=_NEAR.threshold,
        description="Estimated Jaccard similarity of character shingles that makes a near-duplicate.",
    )
    near_dup_num_perm: int = Field(
        default=_NEAR.num_perm, description="MinHash permutations: more estimate the similarity more precisely, slower."
    )
    near_dup_shingle_chars: int = Field(
        default=_NEAR.shingle_chars, description="Length of the character shingles compared (on case-folded words)."
    )

    def to_settings(self) -> FilterSettings:
        values = {item.name: getattr(self, item.name) for item in fields(QualitySettings)}
        for name in NGRAM_LIMIT_FIELDS:
            values[name] = {int(n): limit for n, limit in values[name].items()}
        quality = QualitySettings(**values)
        near = NearDuplicateSettings(
            threshold=self.near_dup_threshold,
            num_perm=self.near_dup_num_perm,
            shingle_chars=self.near_dup_shingle_chars,
        )
        return FilterSettings(
            phrases=phrases_for(self.phrase_list, self.extra_phrases),
            quality=quality,
            redact_pii=self.redact_pii,
            dedup_exact=self.dedup_exact,
            near_duplicates=near if self.dedup_near else None,
        )


@dg.asset(
    group_name=DATASET_GROUP,
    kinds={"python", "arrow"},
    deps=[plaintext],
    description="Records without synthetic-data artefacts, low-quality text (Gopher-style heuristics) or exact and "
    "near duplicates; personal data optionally redacted; the rest, with reasons, in rejected/filtered. The verdicts "
    "and MinHash signatures of unchanged records come from cache/filtered; the duplicate search runs over all.",
)
def filtered(
    context: dg.AssetExecutionContext, config: FilterConfig, data_dir: DataDirResource
) -> dg.MaterializeResult:
    layout = data_dir.layout
    source = load_records(layout.stage("plaintext"))
    settings = config.to_settings()
    report = FilterReport()
    dropped: list[Rejection] = []
    cache = analysis_cache(layout.cache(STAGE), settings)

    def kept_records():
        for decision in apply_filters(iter_records(source), settings, report, cache):
            if decision.reason is None:
                yield decision.record
            else:
                dropped.append(Rejection.of_record(decision.record, STAGE, decision.reason, decision.detail))

    save_records(kept_records(), layout.stage(STAGE))
    save_rejections(dropped, layout.rejected(STAGE))
    cache.save()
    context.log.info(
        f"kept {report.kept} of {len(source)} records; dropped {dict(report.dropped)}; "
        f"{cache.misses} records analysed, {cache.hits} unchanged ones read from the cache"
    )
    groups = report.duplicate_groups.most_common(10)
    return dg.MaterializeResult(
        metadata={
            **balance_metadata(len(source), report.kept, len(dropped), 0),
            "path": dg.MetadataValue.path(str(layout.stage(STAGE))),
            "rejected_path": dg.MetadataValue.path(str(layout.rejected(STAGE))),
            "dropped_by_reason": dg.MetadataValue.md(counts_markdown(report.dropped)),
            "dropped_samples": dg.MetadataValue.md(samples_by_reason_markdown(dropped, with_detail=True)),
            "phrases": dg.MetadataValue.text(f"{config.phrase_list}: {len(settings.phrases)} phrases"),
            "duplicate_groups": dg.MetadataValue.int(len(report.duplicate_groups)),
            "largest_duplicate_groups": dg.MetadataValue.md(
                counts_markdown(dict(groups), key="group (kept record)", value="dropped members")
            ),
            "pii_redactions": dg.MetadataValue.md(
                counts_markdown(report.redactions, key="kind", value="replaced") if config.redact_pii else "_off_"
            ),
            "records_redacted": dg.MetadataValue.int(report.records_redacted),
            "records_analysed": dg.MetadataValue.int(cache.misses),
            "analyses_from_cache": dg.MetadataValue.int(cache.hits),
            "dagster/row_count": dg.MetadataValue.int(report.kept),
        }
    )
