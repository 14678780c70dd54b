"""plaintext: every raw file parsed into records (text, or input/output)."""


from typing import Optional

import dagster as dg
from pydantic import Field

from llm_pipeline.column_mapping import ColumnMapping
from llm_pipeline.defs.assets.raw import raw_asset_key
from llm_pipeline.defs.metadata import balance_metadata, counts_markdown, samples_by_reason_markdown
from llm_pipeline.defs.resources import DataDirResource
from llm_pipeline.document import Record, Rejection
from llm_pipeline.ingest import STAGE, IngestReport, IngestSettings, read_raw_file
from llm_pipeline.paths import RAW_FORMATS
from llm_pipeline.raw_files import list_raw_files
from llm_pipeline.stage_store import save_records, save_rejections

DATASET_GROUP = "dataset"


class ColumnsConfig(dg.Config):
    """Which columns (or JSON keys) make a record: `text`, or `input` plus `output`."""

    text: list[str] = Field(default=[], description="Columns joined (blank line between) into an unsupervised `text`.")
    input: list[str] = Field(default=[], description="Columns joined into the prompt of a supervised record.")
    output: Optional[str] = Field(default=None, description="The column holding the response of a supervised record.")

    def to_mapping(self) -> ColumnMapping:
        return ColumnMapping(text=tuple(self.text), input=tuple(self.input), output=self.output)


class PlaintextConfig(dg.Config):
    html_mode: str = Field(default="main", description="HTML extraction: `main` (article text, boilerplate removed) or `full` (all visible text).")
    html_selector: Optional[str] = Field(default=None, description="CSS selector of the content element (e.g. `div.post-body`); overrides html_mode.")
    csv_columns: Optional[ColumnsConfig] = Field(default=None, description="Column mapping for every CSV/TSV file. Unset: inferred per file and reported in metadata.")
    csv_delimiter: Optional[str] = Field(default=None, description="CSV delimiter. Unset: sniffed per file (`.tsv` means tab).")
    csv_encoding: Optional[str] = Field(default=None, description="CSV encoding. Unset: detected per file (BOM, UTF-8, then detection).")
    sql_tables: dict[str, ColumnsConfig] = Field(default={}, description="{table: columns} to read from SQL dumps; only these tables are read. Empty: every table with a text column.")
    jsonl_fields: Optional[ColumnsConfig] = Field(default=None, description="Key mapping for JSONL objects. Unset: `text`, `input`/`output`, `instruction`/`input`/`output`, `prompt`/`response`, ... per line.")

    def to_settings(self) -> IngestSettings:
        return IngestSettings(
            html_mode=self.html_mode,
            html_selector=self.html_selector,
            csv_mapping=self.csv_columns.to_mapping() if self.csv_columns else None,
            csv_delimiter=self.csv_delimiter,
            csv_encoding=self.csv_encoding,
            sql_tables={table: columns.to_mapping() for table, columns in self.sql_tables.items()},
            jsonl_mapping=self.jsonl_fields.to_mapping() if self.jsonl_fields else None,
        )


@dg.asset(
    group_name=DATASET_GROUP,
    kinds={"python", "arrow"},
    deps=[raw_asset_key(fmt) for fmt in RAW_FORMATS],
    description="Raw HTML / CSV / SQL / JSONL parsed into records (`text`, or `input` + `output`), unreadable input quarantined.",
)
def plaintext(context: dg.AssetExecutionContext, config: PlaintextConfig, data_dir: DataDirResource) -> dg.MaterializeResult:
    layout = data_dir.layout
    settings = config.to_settings()
    report = IngestReport()
    rejections: list[Rejection] = []

    def records():
        for fmt in RAW_FORMATS:
            for path in list_raw_files(layout.raw(fmt)):
                name = path.relative_to(layout.raw()).as_posix()
                before = sum(report.records.values()) + sum(report.rejected.values())
                for item in read_raw_file(path, name, fmt, settings, report):
                    if isinstance(item, Record):
                        yield item
                    else:
                        rejections.append(item)
                after = sum(report.records.values()) + sum(report.rejected.values())
                context.log.info(f"{name}: {after - before} rows read")

    kept = save_records(records(), layout.stage(STAGE))
    save_rejections(rejections, layout.rejected(STAGE))
    mapping_table = "\n".join(
        ["| file | mapping |", "|---|---|"] + [f"| {name} | {mapping} |" for name, mapping in sorted(report.mappings.items())]
    )
    return dg.MaterializeResult(
        metadata={
            **balance_metadata(kept + len(rejections), kept, 0, len(rejections)),
            "path": dg.MetadataValue.path(str(layout.stage(STAGE))),
            "records_by_format": dg.MetadataValue.md(counts_markdown(report.records, "format", "records")),
            "files_by_format": dg.MetadataValue.md(counts_markdown(report.files, "format", "files")),
            "rejected_by_reason": dg.MetadataValue.md(counts_markdown(report.rejected)),
            "rejected_samples": dg.MetadataValue.md(samples_by_reason_markdown(rejections)),
            "column_mappings": dg.MetadataValue.md(mapping_table),
            "sql_tables_not_mapped": dg.MetadataValue.json(report.skipped_tables),
            "dagster/row_count": dg.MetadataValue.int(kept),
        }
    )
