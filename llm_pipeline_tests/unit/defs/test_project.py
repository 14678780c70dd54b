"""The project file: read and checked on load, defaults that suit the base model, errors that name the key."""

import textwrap

import pytest

from llm_pipeline.defs.project import (
    DATA_DIR_ENV,
    PROJECT_FILE_ENV,
    ProjectFileError,
    load_project,
    project_from_mapping,
)
from llm_pipeline.defs.stage_settings import changed_keys
from llm_pipeline.storage.layout import REPO_ROOT
from llm_pipeline.training.config import TrainingConfig


def write(tmp_path, text: str):
    path = tmp_path / "project.yaml"
    path.write_text(textwrap.dedent(text))
    return path


def test_the_shipped_file_loads_and_trains_the_tiny_model_fully():
    project = load_project({})
    assert project.source == REPO_ROOT / "llm_pipeline.yaml"
    assert project.data_dir == REPO_ROOT / "data"
    assert project.of("base_model").model_name_or_path == ""
    checkpoint = project.of("checkpoint")
    assert checkpoint.method == "full" and checkpoint.learning_rate == pytest.approx(3e-3)


def test_a_real_base_model_switches_to_the_lora_defaults_and_written_keys_win(tmp_path):
    project = load_project({PROJECT_FILE_ENV: str(write(tmp_path, "base_model: {model_name_or_path: org/model}\n"))})
    assert project.of("checkpoint").method == "lora"
    assert project.of("checkpoint").learning_rate == TrainingConfig().learning_rate
    path = write(
        tmp_path,
        """
        base_model: {model_name_or_path: /models/local}
        checkpoint: {method: full, num_train_epochs: 2}
        """,
    )
    checkpoint = load_project({PROJECT_FILE_ENV: str(path)}).of("checkpoint")
    assert (checkpoint.method, checkpoint.num_train_epochs) == ("full", 2)


def test_nested_settings_keep_their_other_defaults_and_data_dir_is_relative_to_the_file(tmp_path):
    path = write(
        tmp_path,
        """
        data_dir: work
        filtered:
          quality: {min_words_text: 3}
          language: {languages: [en, de]}
        """,
    )
    project = load_project({PROJECT_FILE_ENV: str(path)})
    filtered = project.of("filtered")
    assert filtered.quality.min_words_text == 3 and filtered.language.languages == ("en", "de")
    assert filtered.quality.max_words == type(filtered.quality)().max_words
    assert project.data_dir == tmp_path / "work"
    # A deployment's own volume wins over the file.
    assert load_project({PROJECT_FILE_ENV: str(path), DATA_DIR_ENV: "/srv/data"}).data_dir.as_posix() == "/srv/data"


@pytest.mark.parametrize(
    "content, named",
    [
        ({"filtred": {}}, "filtred: unknown key; the sections are data_dir, plaintext"),
        ({"filtered": {"quality": {"min_word": 3}}}, "filtered.quality.min_word: unknown key; known: min_words_text"),
        (
            {"filtered": {"quality": {"min_words_text": "three"}}},
            "filtered.quality.min_words_text: Input should be a valid integer",
        ),
        (
            {"checkpoint": {"method": "QLoRA"}},
            "checkpoint.method: Input should be 'full', 'lora' or 'qlora' (got 'QLoRA')",
        ),
        (
            {"checkpoint": {"learning_rate": -1}},
            "checkpoint: invalid TrainingConfig: learning_rate must be a positive number",
        ),
        ({"checkpoint": {"base_model": "org/model"}}, "checkpoint.base_model: set by the pipeline"),
        ({"splits": {"validation_ratio": 2}}, "splits: validation_ratio must be between 0 and 1"),
        ({"tokenized": ["max_length", 8]}, "tokenized: expected a mapping of settings"),
        (["plaintext"], "expected a mapping of sections, got list"),
    ],
)
def test_a_bad_project_file_is_refused_with_the_key_named(content, named):
    with pytest.raises(ProjectFileError) as error:
        project_from_mapping(content, None, {})
    assert named in str(error.value)


def test_a_missing_or_unreadable_file_is_a_clear_error(tmp_path):
    with pytest.raises(ProjectFileError, match="no such file"):
        load_project({PROJECT_FILE_ENV: str(tmp_path / "absent.yaml")})
    with pytest.raises(ProjectFileError, match="not valid YAML"):
        load_project({PROJECT_FILE_ENV: str(write(tmp_path, "filtered: {quality: [\n"))})


def test_changed_keys_name_every_overridden_leaf():
    file = {"method": "full", "lora": {"r": 8, "alpha": 16}, "targets": ["q"]}
    run = {"method": "lora", "lora": {"r": 8, "alpha": 32}, "targets": ["q"]}
    assert changed_keys(file, run) == {
        "lora.alpha": {"file": 16, "run": 32},
        "method": {"file": "full", "run": "lora"},
    }
