"""plaintext: every raw file, and every configured database query, parsed into records (text,
or input/output)."""

import dagster as dg

from llm_pipeline.defs.assets.raw import raw_asset_key
from llm_pipeline.defs.config import config_class
from llm_pipeline.defs.metadata import (
    balance_metadata,
    counts_markdown,
    entries_markdown,
    mappings_markdown,
    names_markdown,
    samples_by_reason_markdown,
)
from llm_pipeline.defs.resources import DataDirResource
from llm_pipeline.defs.stage_settings import overrides_metadata, run_settings, stage_code_version
from llm_pipeline.stages.plaintext.formats import FORMATS as RAW_FORMATS
from llm_pipeline.stages.plaintext.run import run
from llm_pipeline.stages.plaintext.settings import PlaintextSettings

DATASET_GROUP = "dataset"
STAGE_MODULE = "llm_pipeline.stages.plaintext.run"


def plaintext_asset(project_settings: PlaintextSettings) -> dg.AssetsDefinition:
    """The plaintext asset; its config defaults to the project file's `plaintext` section."""
    plaintext_config = config_class(PlaintextSettings, "PlaintextConfig", defaults=project_settings)

    @dg.asset(
        group_name=DATASET_GROUP,
        kinds={"python", "arrow"},
        deps=[raw_asset_key(fmt) for fmt in RAW_FORMATS],
        code_version=stage_code_version(STAGE_MODULE, project_settings),
        description=f"Raw {' / '.join(fmt.upper() for fmt in RAW_FORMATS)} files and configured database queries parsed "
        "into records (`text`, or `input` + `output`), unreadable input quarantined. Only new or changed raw files are "
        "parsed: the others come from cache/plaintext.",
    )
    def plaintext(
        context: dg.AssetExecutionContext, config: plaintext_config, data_dir: DataDirResource
    ) -> dg.MaterializeResult:
        settings, overrides = run_settings(context, config, PlaintextSettings, project_settings)
        with data_dir.writing(context, "plaintext") as layout:
            result = run(layout, settings, log=context.log.info)
        report = result.report
        return dg.MaterializeResult(
            metadata={
                **balance_metadata(result.kept + result.rejected, result.kept, 0, result.rejected),
                "path": dg.MetadataValue.path(str(result.output)),
                "records_by_format": dg.MetadataValue.md(counts_markdown(report.records, "format", "records")),
                "files_by_format": dg.MetadataValue.md(counts_markdown(report.files, "format", "files")),
                "files_parsed": dg.MetadataValue.int(len(result.parsed)),
                "files_from_cache": dg.MetadataValue.int(len(result.cached)),
                "files_parsed_list": dg.MetadataValue.md(
                    names_markdown(result.parsed, "_none: every file was unchanged_")
                ),
                "cache_entries_removed": dg.MetadataValue.int(result.cache_entries_removed),
                # By design not read: dot-files, entries outside raw/<format>/ (refused ones are rejections).
                "raw_entries_ignored": dg.MetadataValue.md(entries_markdown(result.ignored, "_none_")),
                "rejected_by_reason": dg.MetadataValue.md(counts_markdown(report.rejected)),
                "rejected_samples": dg.MetadataValue.md(samples_by_reason_markdown(result.rejections)),
                "column_mappings": dg.MetadataValue.md(mappings_markdown(report.mappings)),
                "sql_tables_not_mapped": dg.MetadataValue.json(report.skipped_tables),
                "dagster/row_count": dg.MetadataValue.int(result.kept),
                **overrides_metadata(overrides),
            }
        )

    return plaintext
