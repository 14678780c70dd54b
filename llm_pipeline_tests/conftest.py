"""Fixtures every test folder shares; each test is marked by its folder (unit, assets, integration).

pytest llm_pipeline_tests/unit      # or -m unit: pure code, no Dagster run, no server
pytest -m "not integration"         # unit and asset tests
"""

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

# Two torch threads on two busy cores ran 20x slower; launched trainers inherit this too.
os.environ.setdefault("OMP_NUM_THREADS", "1")

from llm_pipeline_tests.support.raw_fixture import write_raw_fixture  # noqa: E402 (after the thread setting)
from llm_pipeline_tests.support.services import (  # noqa: E402
    POSTGRES_MISSING,
    PostgresServer,
    postgres_bin_dir,
    running_postgres,
)
from llm_pipeline_tests.support.tiny import build_tiny_model, build_tiny_tokenized  # noqa: E402

FOLDER_MARKERS = ("unit", "assets", "integration")


def pytest_collection_modifyitems(items) -> None:
    root = Path(__file__).resolve().parent
    for item in items:
        folder = Path(str(item.fspath)).resolve().relative_to(root).parts[0]
        if folder in FOLDER_MARKERS:
            item.add_marker(folder)


@pytest.fixture
def raw_data_dir(tmp_path):
    return write_raw_fixture(tmp_path / "data")


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory) -> Path:
    """A 2-layer, width-64 Llama with a byte-level BPE tokenizer, built once per test process."""
    return build_tiny_model(tmp_path_factory.mktemp("tiny"))


@pytest.fixture(scope="session")
def tiny_tokenized_dir(tiny_model_dir, tmp_path_factory) -> Path:
    """The tiny splits in the tiny model's tokens (max_length 64), saved to disk."""
    return build_tiny_tokenized(tiny_model_dir, tmp_path_factory.mktemp("tokenized"))


@pytest.fixture
def postgres_server() -> Iterator[PostgresServer]:
    """A running PostgreSQL server for one test; skipped only when the binaries are not installed."""
    if postgres_bin_dir() is None:
        pytest.skip(POSTGRES_MISSING)
    with running_postgres() as server:
        yield server
