"""Helpers the tests share: tiny models and data, Dagster resources, services, bad inputs."""

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
FIXTURES = REPO_ROOT / "llm_pipeline_tests" / "fixtures"
