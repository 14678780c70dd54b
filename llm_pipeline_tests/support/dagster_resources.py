"""The resources every asset test runs with: a data directory, the local training launcher, and a
Hub resource without a token (nothing is pushed unless a test configures a repository)."""

from pathlib import Path

from llm_pipeline.defs.launchers import SubprocessTrainingLauncher
from llm_pipeline.defs.resources import DataDirResource, HubResource


def local_resources(data_dir: Path | str) -> dict:
    return {
        "data_dir": DataDirResource(path=str(data_dir)),
        "training_launcher": SubprocessTrainingLauncher(),
        "hub": HubResource(),
    }
