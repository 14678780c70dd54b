"""A live database as a source: a SQLAlchemy URL plus a query, streamed, read-only.

SQLite runs on a temporary file. PostgreSQL runs against a real server that the module starts
(initdb + pg_ctl on 127.0.0.1, a free port, stopped at the end); those tests are skipped only
when the PostgreSQL server binaries are not installed (`apt-get install -y postgresql`).
"""

from __future__ import annotations

import dataclasses
import os
import sqlite3
from pathlib import Path

import dagster as dg
import datasets
import pytest
import sqlalchemy as sa

from llm_pipeline.definitions import pipeline_assets
from llm_pipeline.defs.assets.raw import raw_sources
from llm_pipeline.records import Record, Rejection
from llm_pipeline.stages.plaintext.columns import ColumnMapping
from llm_pipeline.stages.plaintext.database import (
    hide_password,
    iter_query_rows,
    read_database,
    read_only_url,
    resolve_url,
)
from llm_pipeline.stages.plaintext.report import IngestReport
from llm_pipeline.stages.plaintext.settings import DatabaseSource
from llm_pipeline_tests.support.dagster_resources import local_resources
from llm_pipeline_tests.support.services import POSTGRES_MISSING, free_port, postgres_bin_dir, running_postgres

ROWS = 250
BODY = "A short note about tides and the moon, number {}."


@pytest.fixture
def sqlite_file(tmp_path) -> Path:
    path = tmp_path / "app.sqlite"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE notes (id INTEGER, title TEXT, body TEXT, photo BLOB)")
        connection.executemany(
            "INSERT INTO notes VALUES (?, ?, ?, ?)",
            [(i, f"Note {i}", BODY.format(i), b"\x89PNG" if i == 3 else None) for i in range(1, ROWS + 1)],
        )
        connection.execute("INSERT INTO notes VALUES (?, NULL, ?, NULL)", (ROWS + 1, "   "))
    connection.close()
    return path


# --- the pure source --------------------------------------------------------------------


def test_sqlite_rows_stream_in_chunks_in_query_order(sqlite_file):
    rows = iter_query_rows(f"sqlite:///{sqlite_file}", "SELECT id, body, photo FROM notes ORDER BY id", chunk_size=7)
    first = next(rows)
    assert first == {"id": 1, "body": BODY.format(1), "photo": None}
    rest = list(rows)
    assert len(rest) == ROWS and rest[1]["photo"] == b"\x89PNG"  # id 3: a blob stays bytes


def test_a_plain_path_is_a_sqlite_file(sqlite_file, monkeypatch):
    monkeypatch.chdir(sqlite_file.parent)
    url = resolve_url(sqlite_file.name)
    assert url == f"sqlite:///{sqlite_file}"
    assert next(iter_query_rows(url, "SELECT count(*) AS n FROM notes")) == {"n": ROWS + 1}


@pytest.mark.parametrize(
    "statement",
    [
        "DELETE FROM notes",
        "UPDATE notes SET body = 'x'",
        "CREATE TABLE other (a int)",
        "ATTACH DATABASE 'elsewhere.sqlite' AS elsewhere",
        "SELECT load_extension('evil')",
        "PRAGMA writable_schema = 1",
    ],
)
def test_sqlite_source_refuses_writes_attach_and_extensions(sqlite_file, statement):
    with pytest.raises(sa.exc.DBAPIError, match="not authorized"):
        list(iter_query_rows(f"sqlite:///{sqlite_file}", statement))
    with sqlite3.connect(sqlite_file) as connection:
        assert connection.execute("SELECT count(*), min(body) FROM notes").fetchone() == (ROWS + 1, "   ")
    connection.close()
    assert sorted(os.listdir(sqlite_file.parent)) == ["app.sqlite"]


def test_a_missing_sqlite_file_is_an_error_and_is_not_created(tmp_path):
    with pytest.raises(sa.exc.OperationalError):
        list(iter_query_rows(resolve_url(str(tmp_path / "missing.sqlite")), "SELECT 1"))
    assert not (tmp_path / "missing.sqlite").exists()


def test_url_from_an_environment_variable(monkeypatch, sqlite_file):
    monkeypatch.setenv("NOTES_DB_URL", f"sqlite:///{sqlite_file}")
    assert resolve_url(url_env="NOTES_DB_URL") == f"sqlite:///{sqlite_file}"
    with pytest.raises(ValueError, match="MISSING_DB_URL"):
        resolve_url(url_env="MISSING_DB_URL")
    with pytest.raises(ValueError, match="exactly one"):
        resolve_url(f"sqlite:///{sqlite_file}", "NOTES_DB_URL")
    with pytest.raises(ValueError, match="exactly one"):
        resolve_url()


def test_passwords_are_masked():
    url = "postgresql+psycopg://reader:s3cret-pw@db.example:5432/app"
    assert hide_password("login for reader with s3cret-pw failed", url) == "login for reader with *** failed"


# --- through ingestion: the same mapping and rejections as dump rows ---------------------


def _read(source: DatabaseSource) -> tuple[list[Record], list[Rejection], IngestReport]:
    report = IngestReport()
    items = list(read_database(source, report))
    return [i for i in items if isinstance(i, Record)], [i for i in items if isinstance(i, Rejection)], report


def test_query_rows_become_records_with_db_sources(sqlite_file):
    records, rejections, report = _read(
        DatabaseSource(
            name="notes",
            url=f"sqlite:///{sqlite_file}",
            query="SELECT title, body FROM notes ORDER BY id",
            chunk_size=10,
        )
    )
    assert len(records) == ROWS and records[0].text == f"Note 1\n\n{BODY.format(1)}"
    assert records[0].source == "db:notes row 1" and records[0].format == "database"
    assert [(r.reason, r.source) for r in rejections] == [("empty_text", f"db:notes row {ROWS + 1}")]
    assert report.mappings["db:notes"] == "text <- title + body"
    assert report.records["database"] == ROWS and report.files["database"] == 1


def test_configured_mapping_rejects_binary_values(sqlite_file):
    records, rejections, _ = _read(
        DatabaseSource(
            name="photos",
            url=str(sqlite_file),
            query="SELECT id, photo FROM notes WHERE id <= 3",
            columns=ColumnMapping(text=("photo",)),
        )
    )
    assert records == []
    assert [(r.reason, r.source) for r in rejections] == [
        ("empty_text", "db:photos row 1"),
        ("empty_text", "db:photos row 2"),
        ("binary_value", "db:photos row 3"),
    ]


def test_unreadable_database_is_one_located_rejection_without_the_password(tmp_path):
    url = f"postgresql+psycopg://reader:pw-{os.getpid()}@127.0.0.1:{free_port()}/app?connect_timeout=2"
    records, rejections, report = _read(DatabaseSource(name="down", url=url, query="SELECT 1"))
    assert records == [] and [(r.reason, r.source) for r in rejections] == [("unreadable_database", "db:down")]
    assert f"pw-{os.getpid()}" not in rejections[0].detail and "OperationalError" in rejections[0].detail
    _, rejections, _ = _read(DatabaseSource(name="bad", url=str(tmp_path / "nowhere.sqlite"), query="SELECT 1"))
    assert rejections[0].reason == "unreadable_database" and "unable to open database file" in rejections[0].detail
    assert report.rejected["unreadable_database"] == 1


def test_plaintext_asset_reads_configured_databases(tmp_path, sqlite_file, monkeypatch):
    monkeypatch.setenv("NOTES_DB_URL", f"sqlite:///{sqlite_file}")
    data_dir = tmp_path / "data"
    (data_dir / "raw").mkdir(parents=True)
    config = {
        "databases": [
            {
                "name": "notes",
                "url_env": "NOTES_DB_URL",
                "query": "SELECT body FROM notes WHERE id <= 5",
                "columns": {"text": ["body"]},
            },
            {
                "name": "qa",
                "url": str(sqlite_file),
                "query": "SELECT title AS question, body AS answer FROM notes WHERE id > 5 AND id <= 8",
            },
        ]
    }
    result = dg.materialize(
        [*raw_sources, *pipeline_assets],
        selection=["plaintext"],
        resources=local_resources(data_dir),
        run_config=dg.RunConfig(ops={"plaintext": {"config": config}}),
    )
    assert result.success
    records = datasets.load_from_disk(str(data_dir / "plaintext"))
    assert sorted(records["source"]) == [f"db:notes row {i}" for i in range(1, 6)] + [
        f"db:qa row {i}" for i in range(1, 4)
    ]
    qa = [row for row in records if row["source"] == "db:qa row 1"][0]
    assert (qa["input"], qa["output"], qa["format"]) == ("Note 6", BODY.format(6), "database")


# --- PostgreSQL: a real server started for this module -----------------------------------


# Roles that are not superusers but reach the database host's files all the same.
HOST_FILE_GRANTS = {
    "file_reader": "GRANT pg_read_server_files TO file_reader",
    "file_writer": "GRANT pg_write_server_files TO file_writer",
    "program_runner": "GRANT pg_execute_server_program TO program_runner",
    "lo_exporter": "GRANT EXECUTE ON FUNCTION lo_export(oid, text) TO lo_exporter",
    "nested_member": "GRANT file_reader TO nested_member",
}
LARGE_OBJECT = 4242


@pytest.fixture(scope="module")
def postgres_urls():
    """{role: URL} of a throwaway PostgreSQL server holding `notes`: `reader` (may read and
    write `notes`, nothing more), `superuser` (the server's owner) and the HOST_FILE_GRANTS
    roles. The server stops after the module."""
    if postgres_bin_dir() is None:
        pytest.skip(POSTGRES_MISSING)
    with running_postgres(database="app", user="pipeline") as server:

        def url(user: str) -> str:
            return f"postgresql+psycopg://{user}:{server.password}@{server.host}:{server.port}/{server.database}"

        engine = sa.create_engine(url(server.user))
        with engine.begin() as connection:
            connection.execute(
                sa.text(
                    "CREATE TABLE notes (id int PRIMARY KEY, title text, body text, score numeric(4,1), photo bytea)"
                )
            )
            connection.execute(
                sa.text("INSERT INTO notes VALUES (:id, :title, :body, :score, :photo)"),
                [
                    {
                        "id": i,
                        "title": f"Note {i}",
                        "body": BODY.format(i),
                        "score": i / 10,
                        "photo": b"\x00\xff" if i == 2 else None,
                    }
                    for i in range(1, ROWS + 1)
                ],
            )
            # A query can write through a function it calls: the read-only transaction must stop it.
            connection.execute(
                sa.text(
                    "CREATE FUNCTION wipe_notes() RETURNS bigint LANGUAGE sql AS "
                    "'WITH gone AS (DELETE FROM notes RETURNING 1) SELECT count(*) FROM gone'"
                )
            )
            connection.execute(sa.text(f"SELECT lo_from_bytea({LARGE_OBJECT}, 'written by a source query')"))
            for role in ["reader", *HOST_FILE_GRANTS]:
                connection.execute(sa.text(f"CREATE ROLE {role} LOGIN PASSWORD '{server.password}'"))
                connection.execute(sa.text(f"GRANT SELECT, INSERT, UPDATE, DELETE ON notes TO {role}"))
            for grant in HOST_FILE_GRANTS.values():
                connection.execute(sa.text(grant))
        engine.dispose()
        yield {role: url(role) for role in ["reader", *HOST_FILE_GRANTS]} | {"superuser": url(server.user)}


@pytest.fixture(scope="module")
def postgres_url(postgres_urls):
    """URL of the `reader` role: what a source should connect as."""
    return postgres_urls["reader"]


def test_postgres_rows_come_typed_through_a_password_url_from_the_environment(postgres_url, monkeypatch):
    monkeypatch.setenv("PG_NOTES_URL", postgres_url)
    rows = list(
        iter_query_rows(
            resolve_url(url_env="PG_NOTES_URL"), "SELECT id, body, photo FROM notes ORDER BY id", chunk_size=50
        )
    )
    assert len(rows) == ROWS
    assert rows[0] == {"id": 1, "body": BODY.format(1), "photo": None}
    assert rows[1]["photo"] == b"\x00\xff"


def test_postgres_query_streams_through_a_server_side_cursor(postgres_url):
    """While rows are consumed, the server is answering FETCHes of a declared cursor, not one
    SELECT that sent everything at once."""
    rows = iter_query_rows(postgres_url, "SELECT id FROM notes ORDER BY id", chunk_size=20)
    taken = [next(rows)["id"] for _ in range(45)]  # three chunks fetched
    engine = sa.create_engine(postgres_url)
    with engine.connect() as monitor:
        queries = (
            monitor.execute(
                sa.text("SELECT query FROM pg_stat_activity WHERE datname = :db AND pid <> pg_backend_pid()"),
                {"db": "app"},
            )
            .scalars()
            .all()
        )
    engine.dispose()
    rest = [row["id"] for row in rows]
    assert taken + rest == list(range(1, ROWS + 1))
    assert any(query.startswith("FETCH FORWARD 20 FROM") for query in queries), queries


def test_postgres_source_is_read_only(postgres_url):
    with pytest.raises(sa.exc.DBAPIError, match="read-only transaction"):
        list(iter_query_rows(postgres_url, "SELECT wipe_notes() AS wiped"))
    engine = sa.create_engine(postgres_url)
    with engine.connect() as connection:
        assert connection.execute(sa.text("SELECT count(*) FROM notes")).scalar() == ROWS
    engine.dispose()


def test_postgres_rows_go_through_the_same_mapping_as_dump_rows(postgres_url):
    records, rejections, report = _read(
        DatabaseSource(
            name="pg",
            url=postgres_url,
            query="SELECT title AS question, body AS answer FROM notes ORDER BY id",
            chunk_size=100,
        )
    )
    assert len(records) == ROWS and rejections == []
    assert (records[0].input, records[0].output, records[0].source) == ("Note 1", BODY.format(1), "db:pg row 1")
    assert report.mappings["db:pg"] == "input <- question; output <- answer"


def test_postgres_superuser_is_refused_before_any_query(postgres_urls, tmp_path):
    # The server runs as another OS user: /tmp is where it could write.
    target = Path(f"/tmp/llm_pipeline_lo_export_{os.getpid()}.txt")
    query = f"SELECT lo_export({LARGE_OBJECT}, '{target}') AS written, pg_read_file('PG_VERSION') AS version"
    try:
        with pytest.raises(ValueError, match=r"pipeline is a superuser.*allow_superuser"):
            list(iter_query_rows(postgres_urls["superuser"], query))
        assert not target.exists()
    finally:
        target.unlink(missing_ok=True)


@pytest.mark.parametrize("role", HOST_FILE_GRANTS)
def test_postgres_roles_that_reach_host_files_are_refused(postgres_urls, role):
    with pytest.raises(ValueError, match=r"database host.*allow_superuser") as refusal:
        list(iter_query_rows(postgres_urls[role], "SELECT 1 AS one"))
    reason = {
        "file_reader": "member of pg_read_server_files",
        "file_writer": "member of pg_write_server_files",
        "program_runner": "member of pg_execute_server_program",
        "lo_exporter": "may run lo_export(oid,text)",
        "nested_member": "member of pg_read_server_files",
    }[role]
    assert reason in str(refusal.value)


def test_postgres_superuser_is_read_when_the_source_allows_it(postgres_urls):
    source = DatabaseSource(name="admin", url=postgres_urls["superuser"], query="SELECT body FROM notes WHERE id = 1")
    records, rejections, _ = _read(source)
    assert records == [] and [r.reason for r in rejections] == ["unreadable_database"]
    assert "pipeline is a superuser" in rejections[0].detail
    records, rejections, _ = _read(dataclasses.replace(source, allow_superuser=True))
    assert [r.text for r in records] == [BODY.format(1)] and rejections == []


# --- SQLite: read-only whatever the URL asks for -----------------------------------------


@pytest.mark.parametrize(
    "query",
    ["mode=rwc&uri=true", "uri=true&mode=rw", "uri=true&vfs=unix-none&mode=rwc", "uri=true&immutable=0&mode=memory"],
)
def test_a_sqlite_uri_url_cannot_create_or_open_for_writing(tmp_path, sqlite_file, query):
    missing = tmp_path / "created.db"
    with pytest.raises(sa.exc.OperationalError):
        list(iter_query_rows(f"sqlite:///file:{missing}?{query}", "SELECT 1"))
    assert not missing.exists()
    rows = iter_query_rows(f"sqlite:///file:{sqlite_file}?{query}", "SELECT count(*) AS n FROM notes")
    assert list(rows) == [{"n": ROWS + 1}]
    # Opened read-only: even with the authorizer out of the way, the connection cannot write.
    engine = sa.create_engine(read_only_url(sa.engine.make_url(f"sqlite:///file:{sqlite_file}?{query}")))
    with engine.connect() as connection, pytest.raises(sa.exc.OperationalError, match="readonly"):
        connection.execute(sa.text("DELETE FROM notes"))
    engine.dispose()
    assert sorted(os.listdir(tmp_path)) == ["app.sqlite"]


def test_a_wal_database_is_read_without_creating_files_beside_it(tmp_path):
    path = tmp_path / "wal.sqlite"
    writer = sqlite3.connect(path)
    writer.execute("PRAGMA journal_mode=wal")
    writer.execute("CREATE TABLE notes (body TEXT)")
    writer.execute("INSERT INTO notes VALUES ('settled in the file')")
    writer.commit()
    writer.close()
    assert sorted(os.listdir(tmp_path)) == ["wal.sqlite"]

    assert list(iter_query_rows(f"sqlite:///{path}", "SELECT body FROM notes")) == [{"body": "settled in the file"}]
    assert sorted(os.listdir(tmp_path)) == ["wal.sqlite"]  # mode=ro alone leaves -wal and -shm behind

    # A writer at work: its committed rows live in the -wal file, and are read.
    writer = sqlite3.connect(path)
    writer.execute("INSERT INTO notes VALUES ('still in the log')")
    writer.commit()
    rows = iter_query_rows(f"sqlite:///{path}", "SELECT body FROM notes ORDER BY rowid")
    assert [row["body"] for row in rows] == ["settled in the file", "still in the log"]
    writer.close()
