"""A live database as a source of rows: a SQLAlchemy URL and a query, streamed in chunks.

Rows are fetched `chunk_size` at a time (`yield_per`), through a server-side cursor where the
driver has one (PostgreSQL with psycopg: a named cursor), so a large result never sits in
memory. A source only reads: a SQLite file is opened read-only (a missing file is an error,
not a new empty database) whatever URI options its URL carries, with an authorizer that refuses
ATTACH, extension loading and every write; PostgreSQL runs the query in a READ ONLY transaction,
and refuses a role that can reach the database host's files (a superuser, pg_read_server_files
and the like: READ ONLY does not stop `lo_export` or `pg_read_file`) unless the source allows
it. Nothing is committed.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

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
# URL query keys that pysqlite takes for itself; with uri=true every other key would become a
# SQLite URI option (mode=rwc, vfs=...), so those are dropped.
_SQLITE_DRIVER_OPTIONS = ("timeout", "detect_types", "cached_statements", "isolation_level", "check_same_thread")

# Predefined roles, and functions (EXECUTE can be granted), that read, write or run things on
# the database server's host: a READ ONLY transaction does not stop them.
_HOST_ROLES = ("pg_read_server_files", "pg_write_server_files", "pg_execute_server_program")
_HOST_FUNCTIONS = (
    "lo_export(oid,text)",
    "lo_import(text)",
    "lo_import(text,oid)",
    "pg_read_file(text)",
    "pg_read_file(text,bigint,bigint)",
    "pg_read_file(text,bigint,bigint,boolean)",
    "pg_read_binary_file(text)",
    "pg_read_binary_file(text,bigint,bigint)",
    "pg_read_binary_file(text,bigint,bigint,boolean)",
    "pg_ls_dir(text)",
    "pg_ls_dir(text,boolean,boolean)",
    "pg_stat_file(text)",
    "pg_stat_file(text,boolean)",
)
# Every role the session can act as (itself and, through SET ROLE, the roles it is a member
# of), with what in it reaches the host.
_HOST_ACCESS_QUERY = """
SELECT r.rolname, r.rolsuper, r.rolname = ANY(CAST(:host_roles AS text[])) AS host_role,
       ARRAY(SELECT f FROM unnest(CAST(:host_functions AS text[])) AS f
             WHERE has_function_privilege(r.oid, to_regprocedure(f), 'EXECUTE')) AS functions
FROM pg_roles AS r
WHERE pg_has_role(session_user, r.oid, 'MEMBER')
ORDER BY r.rolname
"""


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
    url: str, query: str, *, chunk_size: int = DEFAULT_DATABASE_CHUNK_SIZE, allow_superuser: bool = False
) -> Iterator[dict[str, object]]:
    """{column: value} for every row `query` returns from the database at `url`.

    Values are what the driver returns (str, int, float, Decimal, datetime, None ...), except
    that binary values always come back as bytes. Raises sqlalchemy's errors (connection,
    SQL, authorization) as they occur; rows already yielded stay valid. A PostgreSQL role that
    can reach the server host's files raises ValueError before the query runs, unless
    `allow_superuser`.
    """
    import sqlalchemy as sa
    from sqlalchemy.pool import NullPool

    if chunk_size < 1:
        raise ValueError(f"chunk_size must be at least 1, not {chunk_size}")
    engine = sa.create_engine(read_only_url(sa.engine.make_url(url)), poolclass=NullPool)
    if engine.dialect.name == "sqlite":
        sa.event.listen(engine, "connect", _install_sqlite_authorizer)
    try:
        with engine.connect() as connection:
            if engine.dialect.name == "postgresql":
                connection.execution_options(postgresql_readonly=True)  # in place, before any query
                if not allow_superuser:
                    _refuse_host_access(connection)
            result = connection.execution_options(yield_per=chunk_size).execute(sa.text(query))
            if not result.returns_rows:
                raise ValueError("the query returns no rows (a database source runs a SELECT)")
            for row in result.mappings():
                yield {name: bytes(value) if isinstance(value, memoryview) else value for name, value in row.items()}
    finally:
        engine.dispose()


def read_only_url(url):
    """A SQLite URL rewritten to open its file read-only (`mode=ro`), whatever the URL asked:
    a typo does not create a new file, and `uri=true` with `mode=rwc`, a `vfs` or any other
    SQLite URI option gets nowhere. Other databases' URLs come back as they are."""
    if url.get_backend_name() != "sqlite":
        return url
    driver_options = {key: url.query[key] for key in _SQLITE_DRIVER_OPTIONS if key in url.query}
    path = _sqlite_file(url)
    if path is None:  # a new, empty, private in-memory database: nothing to protect
        return url.set(database=":memory:", query=driver_options)
    options = "mode=ro&immutable=1" if _settled_wal_database(path) else "mode=ro"
    return url.set(database=f"file:{quote(path)}?{options}", query={**driver_options, "uri": "true"})


def _settled_wal_database(path: str) -> bool:
    """A WAL-mode database file with no `-wal` beside it: no writer has it open and nothing is
    pending. Opened `mode=ro` alone, SQLite would still create `-wal` and `-shm` next to it and
    leave them there; `immutable=1` reads the file as it is and creates nothing. With a `-wal`
    present (a writer at work, or one that stopped) the sidecars exist already and `mode=ro` is
    needed to see what they hold."""
    try:
        with open(path, "rb") as file:
            header = file.read(20)
    except OSError:
        return False  # a missing file: mode=ro reports it without creating one
    # Bytes 18 and 19 of the header are the write and read format versions: 2 means WAL.
    return header[:16] == b"SQLite format 3\x00" and header[18:20] == b"\x02\x02" and not os.path.exists(path + "-wal")


def _sqlite_file(url) -> str | None:
    """The absolute path of the file a SQLite URL names (None: in memory); with `uri=true` the
    database is a `file:` URI, whose own options are ignored."""
    database = url.database or ""
    if str(url.query.get("uri", "")).lower() in ("true", "1", "yes", "on", "t", "y") and database.startswith("file:"):
        parts = urlsplit(database)
        if parts.netloc not in ("", "localhost"):
            raise ValueError(f"a SQLite file URI names a local file, not one on {parts.netloc!r}")
        database = unquote(parts.path)
    return None if database in ("", ":memory:") else os.path.abspath(database)


def _refuse_host_access(connection) -> None:
    """Raise ValueError when the session's role reaches the database host (see _HOST_ACCESS_QUERY)."""
    import sqlalchemy as sa

    rows = connection.execute(
        sa.text(_HOST_ACCESS_QUERY), {"host_roles": list(_HOST_ROLES), "host_functions": list(_HOST_FUNCTIONS)}
    ).all()
    superusers = [name for name, is_superuser, _, _ in rows if is_superuser]
    if superusers:  # may do anything: the other findings add nothing
        reasons = [f"{name} is a superuser" for name in superusers]
    else:
        reasons = [f"member of {name}" for name, _, host_role, _ in rows if host_role]
        reasons += [f"{name} may run {', '.join(functions)}" for name, _, _, functions in rows if functions]
    if reasons:
        raise ValueError(
            "refusing to read as a PostgreSQL role that can read or write files or run programs on the "
            f"database host ({'; '.join(reasons)}), which a read-only transaction does not stop; connect "
            "as a role that may only read, or set allow_superuser: true on the source"
        )


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
        rows = iter_query_rows(url, source.query, chunk_size=source.chunk_size, allow_superuser=source.allow_superuser)
        for item in map_rows(rows, name, source.columns, report, DATABASE_FORMAT):
            yield report.count(item, DATABASE_FORMAT)
    except (SQLAlchemyError, ValueError) as error:
        detail = hide_password(f"{type(error).__name__}: {error}", url)
        yield report.count(rejection("unreadable_database", name, detail=detail), DATABASE_FORMAT)
