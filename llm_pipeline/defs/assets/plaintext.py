"""plaintext: every raw file, and every configured database query, parsed into records (text,
or input/output)."""

import dagster as dg
from pydantic import Field

from llm_pipeline.defs.assets.raw import raw_asset_key
from llm_pipeline.defs.metadata import balance_metadata, counts_markdown, samples_by_reason_markdown
from llm_pipeline.defs.resources import DataDirResource
from llm_pipeline.records import Rejection
from llm_pipeline.stages.plaintext.cache import ParsedFile, ParsedFileCache, ingest_files, read_parsed, write_parsed
from llm_pipeline.stages.plaintext.columns import ColumnMapping
from llm_pipeline.stages.plaintext.database import read_database
from llm_pipeline.stages.plaintext.formats import FORMATS as RAW_FORMATS
from llm_pipeline.stages.plaintext.formats.rows import STAGE
from llm_pipeline.stages.plaintext.report import IngestReport
from llm_pipeline.stages.plaintext.settings import DEFAULT_DATABASE_CHUNK_SIZE, DatabaseSource, HtmlMode, IngestSettings
from llm_pipeline.storage.atomic import scratch_dir
from llm_pipeline.storage.raw_files import list_raw_files
from llm_pipeline.storage.stage_output import RECORD_FEATURES, REJECTION_FEATURES, save_tables

DATASET_GROUP = "dataset"


class ColumnsConfig(dg.Config):
    """Which columns (or JSON keys) make a record: `text`, or `input` plus `output`."""

    text: list[str] = Field(default=[], description="Columns joined (blank line between) into an unsupervised `text`.")
    input: list[str] = Field(default=[], description="Columns joined into the prompt of a supervised record.")
    output: str | None = Field(default=None, description="The column holding the response of a supervised record.")

    def to_mapping(self) -> ColumnMapping:
        return ColumnMapping(text=tuple(self.text), input=tuple(self.input), output=self.output)


class DatabaseSourceConfig(dg.Config):
    """A live database read by a query: every row it returns becomes a record, or a rejection."""

    name: str = Field(description="Names the source: records' `source` reads `db:<name> row N`.")
    query: str = Field(description="The SELECT whose rows are read (streamed in chunks, in a read-only transaction).")
    url: str | None = Field(
        default=None,
        description="SQLAlchemy URL (`sqlite:////abs/path.db`, `postgresql+psycopg://user@host/db`) or a plain path to a SQLite file. "
        "It is stored with the run: for a URL with a password use `url_env`.",
    )
    url_env: str | None = Field(
        default=None,
        description="Name of the environment variable that holds the URL (keeps passwords out of the run config).",
    )
    columns: ColumnsConfig | None = Field(
        default=None,
        description="Column mapping of the query's rows. Unset: inferred from the first rows and reported in metadata.",
    )
    chunk_size: int = Field(
        default=DEFAULT_DATABASE_CHUNK_SIZE,
        description="Rows fetched per round trip (a server-side cursor where the driver has one).",
    )

    def to_source(self) -> DatabaseSource:
        return DatabaseSource(
            name=self.name,
            query=self.query,
            url=self.url,
            url_env=self.url_env,
            mapping=self.columns.to_mapping() if self.columns else None,
            chunk_size=self.chunk_size,
        )


class PlaintextConfig(dg.Config):
    html_mode: HtmlMode = Field(
        default="main",
        description="HTML extraction: `main` (trafilatura's main text; our `bs4` rules when it finds none), "
        "`bs4` (our BeautifulSoup rules: semantic tags, roles, class words) or `full` (all visible text).",
    )
    html_selector: str | None = Field(
        default=None, description="CSS selector of the content element (e.g. `div.post-body`); overrides html_mode."
    )
    csv_columns: ColumnsConfig | None = Field(
        default=None,
        description="Column mapping for every CSV/TSV file. Unset: inferred per file and reported in metadata.",
    )
    csv_delimiter: str | None = Field(
        default=None, description="CSV delimiter. Unset: sniffed per file (`.tsv` means tab)."
    )
    csv_encoding: str | None = Field(
        default=None, description="CSV encoding. Unset: detected per file (BOM, UTF-8, then detection)."
    )
    sql_tables: dict[str, ColumnsConfig] = Field(
        default={},
        description="{table: columns} to read from SQL dumps; only these tables are read. Empty: every table with a text column.",
    )
    jsonl_fields: ColumnsConfig | None = Field(
        default=None,
        description="Key mapping for JSONL objects. Unset: `text`, `input`/`output`, `instruction`/`input`/`output`, `prompt`/`response`, ... per line.",
    )
    databases: list[DatabaseSourceConfig] = Field(
        default=[], description="Live databases to read: each a `name`, a `query`, and `url` or `url_env`."
    )

    def to_settings(self) -> IngestSettings:
        return IngestSettings(
            html_mode=self.html_mode,
            html_selector=self.html_selector,
            csv_mapping=self.csv_columns.to_mapping() if self.csv_columns else None,
            csv_delimiter=self.csv_delimiter,
            csv_encoding=self.csv_encoding,
            sql_tables={table: columns.to_mapping() for table, columns in self.sql_tables.items()},
            jsonl_mapping=self.jsonl_fields.to_mapping() if self.jsonl_fields else None,
            databases=tuple(database.to_source() for database in self.databases),
        )


@dg.asset(
    group_name=DATASET_GROUP,
    kinds={"python", "arrow"},
    deps=[raw_asset_key(fmt) for fmt in RAW_FORMATS],
    description="Raw HTML / CSV / SQL / JSONL and configured database queries parsed into records (`text`, or `input` + `output`), "
    "unreadable input quarantined. Only new or changed raw files are parsed: the others come from cache/plaintext.",
)
def plaintext(
    context: dg.AssetExecutionContext, config: PlaintextConfig, data_dir: DataDirResource
) -> dg.MaterializeResult:
    layout = data_dir.layout
    settings = config.to_settings()
    cache = ParsedFileCache(layout.cache(STAGE), settings)
    files = [
        (path, path.relative_to(layout.raw()).as_posix(), fmt)
        for fmt in RAW_FORMATS
        for path in list_raw_files(layout.raw(fmt))
    ]

    def log_file(name: str, parsed: ParsedFile, from_cache: bool) -> None:
        if not from_cache:  # cached files are summed up below: one line each would bury the news
            context.log.info(
                f"{name}: parsed, {parsed.records.num_rows} records, {parsed.rejections.num_rows} rejected"
            )

    run = ingest_files(files, settings, cache, on_file=log_file)
    context.log.info(f"{len(run.parsed)} raw files parsed, {len(run.cached)} unchanged read from the cache")
    with scratch_dir(layout.cache(STAGE) / "databases") as scratch:
        for number, database in enumerate(settings.databases):  # live queries: read on every run
            report = IngestReport()
            write_parsed(scratch / str(number), read_database(database, report), report)
            part = read_parsed(scratch / str(number))
            context.log.info(
                f"db:{database.name}: {part.records.num_rows} records, {part.rejections.num_rows} rejected"
            )
            run.report.merge(part.report)
            run.parts.append(part)
        kept = save_tables([part.records for part in run.parts], RECORD_FEATURES, layout.stage(STAGE))
        rejected = save_tables([part.rejections for part in run.parts], REJECTION_FEATURES, layout.rejected(STAGE))
        rejections = [Rejection(**row) for part in run.parts for row in part.rejections.to_pylist()]
    pruned = cache.prune(run.used_keys)
    report = run.report
    mapping_table = "\n".join(
        ["| file | mapping |", "|---|---|"]
        + [f"| {name} | {mapping} |" for name, mapping in sorted(report.mappings.items())]
    )
    return dg.MaterializeResult(
        metadata={
            **balance_metadata(kept + rejected, kept, 0, rejected),
            "path": dg.MetadataValue.path(str(layout.stage(STAGE))),
            "records_by_format": dg.MetadataValue.md(counts_markdown(report.records, "format", "records")),
            "files_by_format": dg.MetadataValue.md(counts_markdown(report.files, "format", "files")),
            "files_parsed": dg.MetadataValue.int(len(run.parsed)),
            "files_from_cache": dg.MetadataValue.int(len(run.cached)),
            "files_parsed_list": dg.MetadataValue.md(
                "\n".join(f"- `{name}`" for name in run.parsed) or "_none: every file was unchanged_"
            ),
            "cache_entries_removed": dg.MetadataValue.int(pruned),
            "rejected_by_reason": dg.MetadataValue.md(counts_markdown(report.rejected)),
            "rejected_samples": dg.MetadataValue.md(samples_by_reason_markdown(rejections)),
            "column_mappings": dg.MetadataValue.md(mapping_table),
            "sql_tables_not_mapped": dg.MetadataValue.json(report.skipped_tables),
            "dagster/row_count": dg.MetadataValue.int(kept),
        }
    )
