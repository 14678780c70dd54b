"""A live database as a source of rows: a SQLAlchemy URL and a query, streamed in chunks.

Rows are fetched `chunk_size` at a time (`yield_per`), through a server-side cursor where the
driver has one (PostgreSQL with psycopg: a named cursor), so a large result never sits in
memory. A source only reads: a SQLite file is opened read-only (a missing file is an error,
not a new empty database) with an authorizer that refuses ATTACH, extension loading and
every write; PostgreSQL runs the query in a READ ONLY transaction. Nothing is committed.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

from llm_pipeline.stages.plaintext.formats.rows import map_rows, rejection
from llm_pipeline.stages.plaintext.report import IngestReport, Item
from llm_pipeline.stages.plaintext.settings import DEFAULT_DATABASE_CHUNK_SIZE, DatabaseSource

# What a SQLite query may do: read tables, call functions, recurse in a CTE, open and end
# its implicit transaction.
_SQLITE_ALLOWED = frozenset(
    {
        sqlite3.SQLITE_SELECT,
        sqlite3.SQLITE_READ,
        sqlite3.SQLITE_FUNCTION,
        sqlite3.SQLITE_RECURSIVE,
        sqlite3.SQLITE_TRANSACTION,
    }
)
_SQLITE_REFUSED_FUNCTIONS = frozenset({"load_extension"})


def resolve_url(url: str | None = None, url_env: str | None = None) -> str:
    """The URL to connect to: `url`, or the value of the environment variable named `url_env`
    (so a URL holding a password stays out of the run config). A bare path, without
    `scheme://`, is a SQLite file. Raises ValueError when neither or both are given, or the
    variable is unset."""
    if bool(url) == bool(url_env):
        raise ValueError("a database source needs exactly one of `url` and `url_env`")
    if url_env:
        url = os.environ.get(url_env, "")
        if not url:
            raise ValueError(f"environment variable {url_env} (url_env of a database source) is not set")
    return url if "://" in url else f"sqlite:///{Path(url).expanduser().resolve()}"


def hide_password(text: str, url: str) -> str:
    """`text` (an error message, say) with the password of `url` masked wherever it appears."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        password = make_url(url).password if url else None
    except ArgumentError:
        return text
    return text.replace(password, "***") if password else text


def iter_query_rows(
    url: str, query: str, *, chunk_size: int = DEFAULT_DATABASE_CHUNK_SIZE
) -> Iterator[dict[str, object]]:
    """{column: value} for every row `query` returns from the database at `url`.

    Values are what the driver returns (str, int, float, Decimal, datetime, None ...), except
    that binary values always come back as bytes. Raises sqlalchemy's errors (connection,
    SQL, authorization) as they occur; rows already yielded stay valid.
    """
    import sqlalchemy as sa
    from sqlalchemy.pool import NullPool

    if chunk_size < 1:
        raise ValueError(f"chunk_size must be at least 1, not {chunk_size}")
    engine = sa.create_engine(_read_only_url(sa.engine.make_url(url)), poolclass=NullPool)
    if engine.dialect.name == "sqlite":
        sa.event.listen(engine, "connect", _install_sqlite_authorizer)
    try:
        with engine.connect() as connection:
            options: dict[str, object] = {"yield_per": chunk_size}
            if engine.dialect.name == "postgresql":
                options["postgresql_readonly"] = True
            result = connection.execution_options(**options).execute(sa.text(query))
            if not result.returns_rows:
                raise ValueError("the query returns no rows (a database source runs a SELECT)")
            for row in result.mappings():
                yield {name: bytes(value) if isinstance(value, memoryview) else value for name, value in row.items()}
    finally:
        engine.dispose()


def _read_only_url(url):
    """A SQLite file URL opened in read-only mode, so that a typo does not create a new file."""
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:") or url.query.get("uri"):
        return url
    return url.set(database=f"file:{quote(url.database)}?mode=ro", query={**url.query, "uri": "true"})


def _install_sqlite_authorizer(dbapi_connection, _record) -> None:
    dbapi_connection.set_authorizer(_sqlite_read_only)


def _sqlite_read_only(action: int, arg1: str | None, arg2: str | None, _db: str | None, _trigger: str | None) -> int:
    if action not in _SQLITE_ALLOWED:
        return sqlite3.SQLITE_DENY
    if action == sqlite3.SQLITE_FUNCTION and (arg2 or "").lower() in _SQLITE_REFUSED_FUNCTIONS:
        return sqlite3.SQLITE_DENY
    return sqlite3.SQLITE_OK


DATABASE_FORMAT = "database"


def read_database(source: DatabaseSource, report: IngestReport) -> Iterator[Item]:
    """Records and rejections of one database query; records' sources read `db:<name> row N`.

    Rows go through the same column mapping as CSV rows. A source that cannot be read (no URL,
    no connection, a bad query, a failure halfway) becomes one `unreadable_database`
    rejection; the rows read before a failure are kept.
    """
    from sqlalchemy.exc import SQLAlchemyError

    name = f"db:{source.name}"
    report.files[DATABASE_FORMAT] += 1
    url = ""
    try:
        url = resolve_url(source.url, source.url_env)
        rows = iter_query_rows(url, source.query, chunk_size=source.chunk_size)
        for item in map_rows(rows, name, source.columns, report, DATABASE_FORMAT):
            yield report.count(item, DATABASE_FORMAT)
    except (SQLAlchemyError, ValueError) as error:
        detail = hide_password(f"{type(error).__name__}: {error}", url)
        yield report.count(rejection("unreadable_database", name, detail=detail), DATABASE_FORMAT)
