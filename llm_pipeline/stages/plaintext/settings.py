"""The settings of the plaintext stage: one part per raw format (its module's `Settings`), and
the live databases to read.

`PlaintextSettings` is built from the format registry, one field per format named by its folder
under raw/ (`PlaintextSettings().csv.delimiter`, config `{csv: {delimiter: ";"}}`), so a new
format module brings its settings, help text included, without an edit here.
"""

from __future__ import annotations

from dataclasses import dataclass

from llm_pipeline.setting import setting, settings_of_registry
from llm_pipeline.stages.plaintext.columns import ColumnMapping
from llm_pipeline.stages.plaintext.formats import REGISTRY

DEFAULT_DATABASE_CHUNK_SIZE = 1000


@dataclass(frozen=True)
class DatabaseSource:
    """A live database read by a query: every row it returns becomes a record, or a rejection."""

    name: str = setting(help="Names the source: records' `source` reads `db:<name> row N`.")
    query: str = setting(help="The SELECT whose rows are read (streamed in chunks, in a read-only transaction).")
    url: str | None = setting(
        None,
        "SQLAlchemy URL (`sqlite:////abs/path.db`, `postgresql+psycopg://user@host/db`) or a plain path to a "
        "SQLite file. It is stored with the run: for a URL with a password use `url_env`.",
    )
    url_env: str | None = setting(
        None, "Name of the environment variable that holds the URL (keeps passwords out of the run config)."
    )
    columns: ColumnMapping | None = setting(
        None, "Column mapping of the query's rows. Unset: inferred from the first rows and reported in metadata."
    )
    chunk_size: int = setting(
        DEFAULT_DATABASE_CHUNK_SIZE, "Rows fetched per round trip (a server-side cursor where the driver has one)."
    )
    allow_superuser: bool = setting(
        False,
        "PostgreSQL: read even as a role that can reach the database host's files or programs (a superuser, "
        "pg_read_server_files, pg_write_server_files, pg_execute_server_program, or EXECUTE on lo_export, "
        "pg_read_file ...). Off: such a source is refused before its query runs, since a read-only transaction "
        "does not stop lo_export or pg_read_file. Prefer a role that may only SELECT.",
    )


PlaintextSettings = settings_of_registry(
    "PlaintextSettings",
    __name__,
    "How every raw format is read (one part per folder under raw/), and which live databases.",
    REGISTRY,
    (
        "databases",
        tuple[DatabaseSource, ...],
        setting((), "Live databases to read: each a `name`, a `query`, and `url` or `url_env`."),
    ),
)
