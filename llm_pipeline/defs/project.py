"""The project file: one YAML file that declares the data directory and every stage's settings.

`llm_pipeline.yaml` at the repository root, or the file `$LLM_PIPELINE_CONFIG` names. Its
values become the defaults of every asset's config (defs/config.py), so a run started by a
sensor, by automation, by the schedule, by `llm-pipeline run` or from the launchpad uses them;
a launchpad edit overrides them for that run only. The file is checked on load with the same
field types and choices as the launchpad, unknown keys refused, and every error names its key.
"""

from __future__ import annotations

import dataclasses
import os
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pydantic
import yaml

from llm_pipeline.defs.config import settings_schema, to_settings
from llm_pipeline.stages.base_model.settings import BaseModelSettings
from llm_pipeline.stages.clustered.settings import ClusterSettings
from llm_pipeline.stages.evaluation.promotion_settings import PromotionSettings
from llm_pipeline.stages.evaluation.settings import EvaluationSettings
from llm_pipeline.stages.filtered.settings import FilterSettings
from llm_pipeline.stages.plaintext.settings import PlaintextSettings
from llm_pipeline.stages.splits.settings import SplitSettings
from llm_pipeline.stages.tokenized.settings import TokenizeSettings
from llm_pipeline.storage.layout import DATA_DIR_ENV, REPO_ROOT
from llm_pipeline.training.config import RUN_FIELDS, RUN_PATH_FIELDS, TrainingConfig
from llm_pipeline.training.presets import training_defaults

PROJECT_FILE_ENV = "LLM_PIPELINE_CONFIG"
DEFAULT_PROJECT_FILE = REPO_ROOT / "llm_pipeline.yaml"
DATA_DIR_KEY = "data_dir"

# Each section of the file: the settings of the asset of that name.
STAGE_SETTINGS: Mapping[str, type] = {
    "plaintext": PlaintextSettings,
    "filtered": FilterSettings,
    "clustered": ClusterSettings,
    "splits": SplitSettings,
    "base_model": BaseModelSettings,
    "tokenized": TokenizeSettings,
    "checkpoint": TrainingConfig,
    "evaluation": EvaluationSettings,
    "promoted_model": PromotionSettings,
}
# Filled in by the checkpoint asset from the data directory, never by the file.
EXCLUDED_FIELDS: Mapping[str, tuple[str, ...]] = {"checkpoint": RUN_FIELDS}


class ProjectFileError(ValueError):
    """A project file that cannot be used; the message names the file and the key."""


@dataclass(frozen=True)
class Project:
    """What a project file declares, checked and completed with defaults."""

    source: Path | None
    """The file read; None when there is none and the code defaults apply."""
    data_dir: Path
    settings: Mapping[str, Any]
    """Stage name -> its Settings (for `checkpoint`, a TrainingConfig without run paths)."""

    def of(self, stage: str) -> Any:
        return self.settings[stage]

    def describe(self) -> str:
        return str(self.source) if self.source else "no project file (code defaults)"


def project_file(environ: Mapping[str, str] = os.environ) -> Path | None:
    """The file `$LLM_PIPELINE_CONFIG` names (it must exist), else llm_pipeline.yaml at the repository root if there is one."""
    configured = environ.get(PROJECT_FILE_ENV)
    if configured:
        path = Path(configured).expanduser().resolve()
        if not path.is_file():
            raise ProjectFileError(f"{PROJECT_FILE_ENV}={configured}: no such file")
        return path
    return DEFAULT_PROJECT_FILE if DEFAULT_PROJECT_FILE.is_file() else None


def load_project(environ: Mapping[str, str] = os.environ) -> Project:
    """The project of this process: its file (see `project_file`), checked, with defaults filled in."""
    path = project_file(environ)
    if path is None:
        return project_from_mapping({}, None, environ)
    try:
        content = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise ProjectFileError(f"{path}: not valid YAML: {error}") from error
    return project_from_mapping(content, path, environ)


def project_from_mapping(content: Any, source: Path | None, environ: Mapping[str, str] = os.environ) -> Project:
    """A project from the parsed YAML of a file (`source`, for messages and relative paths)."""
    where = str(source) if source else "project settings"
    if content is None:
        content = {}
    if not isinstance(content, Mapping):
        raise ProjectFileError(f"{where}: expected a mapping of sections, got {type(content).__name__}")
    known = (DATA_DIR_KEY, *STAGE_SETTINGS)
    for key in content:
        if key not in known:
            raise ProjectFileError(f"{where}: {key}: unknown key; the sections are {', '.join(known)}")
    written = {}
    for stage in STAGE_SETTINGS:
        section = content.get(stage)
        if section is None:
            section = {}
        if not isinstance(section, Mapping):
            raise ProjectFileError(f"{where}: {stage}: expected a mapping of settings, got {section!r}")
        written[stage] = dict(section)
    base_model = written["base_model"].get("model_name_or_path", "")
    settings = {
        stage: _settings(
            stage,
            {**training_defaults(base_model), **written[stage]} if stage == "checkpoint" else written[stage],
            where,
        )
        for stage in STAGE_SETTINGS
    }
    return Project(
        source=source,
        data_dir=_data_dir(content.get(DATA_DIR_KEY), source, environ),
        settings=settings,
    )


def _data_dir(value: Any, source: Path | None, environ: Mapping[str, str]) -> Path:
    where = source or "project settings"
    """`$LLM_PIPELINE_DATA_DIR` (a deployment's own volume), else the file's `data_dir` relative to
    the file, else `data/` beside it (or at the repository root)."""
    if environ.get(DATA_DIR_ENV):
        return Path(environ[DATA_DIR_ENV]).expanduser().resolve()
    base = source.parent if source else REPO_ROOT
    if value in (None, ""):
        return base / "data"
    if not isinstance(value, str):
        raise ProjectFileError(f"{where}: {DATA_DIR_KEY}: expected a path, got {value!r}")
    return (base / Path(value).expanduser()).resolve()


def _settings(stage: str, values: Mapping[str, Any], where: str) -> Any:
    settings_type, exclude = STAGE_SETTINGS[stage], EXCLUDED_FIELDS.get(stage, ())
    try:
        checked = settings_schema(settings_type, exclude).model_validate(values)
    except pydantic.ValidationError as error:
        raise ProjectFileError(f"{where}: {_describe(error, stage, settings_type)}") from error
    try:
        settings = to_settings(checked, settings_type)
        if isinstance(settings, TrainingConfig):
            # The run paths come from the data directory at run time; stand-ins let the rest be checked now.
            dataclasses.replace(settings, **{name: "set at run time" for name in RUN_PATH_FIELDS}).validate()
    except (ValueError, TypeError) as error:
        raise ProjectFileError(f"{where}: {stage}: {error}") from error
    return settings


def _describe(error: pydantic.ValidationError, stage: str, settings_type: type) -> str:
    """Every problem of one section as `stage.key.subkey: what is wrong`, one per line."""
    lines = []
    for problem in error.errors():
        location = [str(part) for part in problem["loc"]]
        key = ".".join([stage, *location])
        if problem["type"] == "extra_forbidden" and location[0] in EXCLUDED_FIELDS.get(stage, ()):
            lines.append(
                f"{key}: set by the pipeline from the data directory, not by the file "
                "(the model to fine-tune is base_model.model_name_or_path)"
            )
        elif problem["type"] == "extra_forbidden":
            known = _known_keys(settings_type, location[:-1])
            lines.append(f"{key}: unknown key; known: {', '.join(known)}")
        else:
            lines.append(f"{key}: {problem['msg']} (got {problem['input']!r})")
    return "\n".join(lines)


def _known_keys(settings_type: type, path: list[str]) -> list[str]:
    current: Any = settings_type
    for part in path:
        hints = typing.get_type_hints(current) if dataclasses.is_dataclass(current) else {}
        if part not in hints:
            return []
        current = hints[part]
    if not dataclasses.is_dataclass(current):
        return []
    exclude = RUN_FIELDS if current is TrainingConfig else ()
    return [field.name for field in dataclasses.fields(current) if field.name not in exclude]
