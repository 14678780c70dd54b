"""The resources every asset test runs with: a data directory and the local training launcher."""

from pathlib import Path

from llm_pipeline.defs.launchers import SubprocessTrainingLauncher
from llm_pipeline.defs.resources import DataDirResource


def local_resources(data_dir: Path | str) -> dict:
    return {"data_dir": DataDirResource(path=str(data_dir)), "training_launcher": SubprocessTrainingLauncher()}
