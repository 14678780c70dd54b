"""filtered: synthetic-data artefacts, bad lengths and exact duplicates removed, each with its reason."""


import dagster as dg
from pydantic import Field

from llm_pipeline.defs.assets.plaintext import DATASET_GROUP, plaintext
from llm_pipeline.defs.metadata import balance_metadata, counts_markdown, samples_by_reason_markdown
from llm_pipeline.defs.resources import DataDirResource
from llm_pipeline.document import Rejection
from llm_pipeline.filters import NARROW_PHRASES, FilterReport, FilterSettings, apply_filters
from llm_pipeline.stage_store import iter_records, load_records, save_dataset, save_rejections

STAGE = "filtered"


class FilterConfig(dg.Config):
    phrases: list[str] = Field(
        default=list(NARROW_PHRASES),
        description="Phrases that mark a synthetic-data artefact, matched case-insensitively on the response only.",
    )
    extra_phrases: list[str] = Field(default=[], description="Phrases added to `phrases` (keeps the default list).")
    min_chars: int = Field(default=20, description="Drop records whose response has fewer characters.")
    max_chars: int = Field(default=20_000, description="Drop records whose response has more characters (0: no limit).")
    dedup_exact: bool = Field(default=True, description="Drop exact duplicates (case and whitespace folded); the first occurrence is kept.")


@dg.asset(
    group_name=DATASET_GROUP,
    kinds={"python", "arrow"},
    deps=[plaintext],
    description="Records without synthetic-data artefacts, out-of-range lengths or exact duplicates; the rest in rejected/filtered.",
)
def filtered(context: dg.AssetExecutionContext, config: FilterConfig, data_dir: DataDirResource) -> dg.MaterializeResult:
    layout = data_dir.layout
    source = load_records(layout.stage("plaintext"))
    settings = FilterSettings(
        phrases=tuple(config.phrases) + tuple(config.extra_phrases),
        min_chars=config.min_chars,
        max_chars=config.max_chars,
        dedup_exact=config.dedup_exact,
    )
    report = FilterReport()
    kept_indices: list[int] = []
    dropped: list[Rejection] = []
    for index, decision in enumerate(apply_filters(iter_records(source), settings, report)):
        if decision.reason is None:
            kept_indices.append(index)
        else:
            dropped.append(Rejection.of_record(decision.record, STAGE, decision.reason, decision.detail))
    save_dataset(source.select(kept_indices), layout.stage(STAGE))
    save_rejections(dropped, layout.rejected(STAGE))
    context.log.info(f"kept {report.kept} of {len(source)} records; dropped {dict(report.dropped)}")
    return dg.MaterializeResult(
        metadata={
            **balance_metadata(len(source), report.kept, len(dropped), 0),
            "path": dg.MetadataValue.path(str(layout.stage(STAGE))),
            "dropped_by_reason": dg.MetadataValue.md(counts_markdown(report.dropped)),
            "dropped_samples": dg.MetadataValue.md(samples_by_reason_markdown(dropped)),
            "dagster/row_count": dg.MetadataValue.int(report.kept),
        }
    )
