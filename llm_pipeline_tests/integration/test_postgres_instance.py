"""The instance on PostgreSQL: deploy/dagster-postgres.yaml against a real server, the dataset job run on it.

The server is started by the test (initdb + pg_ctl on 127.0.0.1, a free port) and stopped at its
end; the test is skipped only when the PostgreSQL server binaries are not installed.
"""

import dataclasses
import shutil
from pathlib import Path

import dagster as dg
import psycopg2
import pytest
import yaml
from dagster_postgres import PostgresEventLogStorage, PostgresRunStorage

from llm_pipeline.definitions import defs
from llm_pipeline_tests.support import REPO_ROOT
from llm_pipeline_tests.support.services import small_qa_data_dir

REPO = REPO_ROOT
POSTGRES_INSTANCE = REPO / "deploy" / "dagster-postgres.yaml"


def instance_home(tmp_path: Path) -> Path:
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(POSTGRES_INSTANCE, home / "dagster.yaml")
    return home


def test_dataset_job_runs_on_a_postgres_instance(postgres_server, tmp_path, monkeypatch):
    for name, value in postgres_server.instance_env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("LLM_PIPELINE_DATA_DIR", str(small_qa_data_dir(tmp_path / "data")))
    job = defs.resolve_job_def("prepare_dataset")
    stages = {key.to_user_string() for key in job.asset_layer.selected_asset_keys}

    with dg.DagsterInstance.from_config(str(instance_home(tmp_path))) as instance:
        assert isinstance(instance.run_storage, PostgresRunStorage)
        assert isinstance(instance.event_log_storage, PostgresEventLogStorage)
        result = job.execute_in_process(instance=instance)
        assert result.success

        # Read back through the instance: the run and every stage's materialization.
        assert instance.get_run_by_id(result.run_id).status == dg.DagsterRunStatus.SUCCESS
        for stage in stages:
            event = instance.get_latest_materialization_event(dg.AssetKey(stage))
            assert event is not None and event.run_id == result.run_id, stage
        plaintext = instance.get_latest_materialization_event(dg.AssetKey("plaintext")).asset_materialization
        assert plaintext.metadata["records_kept"].value > 0

    # And straight from PostgreSQL, as another client of the same database would see it.
    with postgres_server.connect() as connection, connection.cursor() as cursor:
        cursor.execute("SELECT status, pipeline_name FROM runs WHERE run_id = %s", (result.run_id,))
        assert cursor.fetchone() == ("SUCCESS", "prepare_dataset")
        cursor.execute(
            "SELECT asset_key FROM event_logs WHERE run_id = %s AND dagster_event_type = 'ASSET_MATERIALIZATION'",
            (result.run_id,),
        )
        stored = {dg.AssetKey.from_db_string(row[0]).to_user_string() for row in cursor.fetchall()}
    connection.close()
    assert stored == stages

    # The server checks passwords over TCP, so the instance got the right one: from the environment.
    wrong = dataclasses.replace(postgres_server, password="not-the-password")
    with pytest.raises(psycopg2.OperationalError, match="password authentication failed"):
        wrong.connect()


def test_the_password_comes_from_the_environment_only():
    postgres_db = yaml.safe_load(POSTGRES_INSTANCE.read_text())["storage"]["postgres"]["postgres_db"]
    assert all(set(value) == {"env"} for name, value in postgres_db.items() if name != "scheme")
    assert postgres_db["password"] == {"env": "DAGSTER_PG_PASSWORD"}


def test_postgres_instance_keeps_the_default_instance_limits():
    default = yaml.safe_load((REPO / "dagster.yaml").read_text())
    postgres = yaml.safe_load(POSTGRES_INSTANCE.read_text())
    assert "sqlite" in default["storage"]  # SQLite stays the default
    for section in ("concurrency", "telemetry", "nux"):
        assert postgres[section] == default[section], section
