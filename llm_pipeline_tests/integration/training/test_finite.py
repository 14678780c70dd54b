"""A model is never wrong in silence: a diverged run fails at the step it diverges, publishes no
model, and its failure names the cause; a batch plan the data cannot fill is refused."""

import json

import pytest

from llm_pipeline.training.finite import NonFiniteTrainingError
from llm_pipeline.training.reporters import MemoryReporter
from llm_pipeline.training.train import FAILURE_FILE, FINAL_DIR_NAME, main, run_training
from llm_pipeline_tests.support.tiny import tiny_training_config

pytestmark = pytest.mark.slow


@pytest.fixture
def diverging(tiny_model_dir, tiny_tokenized_dir, tmp_path):
    return tiny_training_config(
        tiny_model_dir,
        tiny_tokenized_dir,
        tmp_path / "run",
        method="full",
        learning_rate=1e9,
        warmup_steps=0,
        max_steps=12,
        logging_steps=1,
        eval_steps=4,
        save_steps=4,
    )


def test_a_diverging_run_stops_at_the_first_non_finite_loss_and_publishes_nothing(diverging, tmp_path):
    reporter = MemoryReporter()
    with pytest.raises(NonFiniteTrainingError) as stopped:
        run_training(diverging, reporter)
    message = str(stopped.value)
    assert "training diverged" in message and "learning rate (1e+09)" in message
    step = int(message.split(" at step ")[1].split(":")[0])
    assert 1 <= step < 12
    run = tmp_path / "run"
    assert not (run / FINAL_DIR_NAME).exists()
    # No checkpoint holding non-finite weights is ever marked complete (resumable).
    from llm_pipeline.training.checkpoints import complete_checkpoints

    assert all(int(path.name.split("-")[1]) < step for path in complete_checkpoints(run))
    logged = [logs["loss"] for _, logs in reporter.progress_events if "loss" in logs]
    assert all(loss == loss and loss != 0.0 for loss in logged)  # no NaN logged as a number, no fake 0.0


def test_the_trainer_leaves_the_first_error_line_and_says_a_retry_cannot_help(diverging, tmp_path):
    config_path = diverging.to_json(tmp_path / "config.json")
    with pytest.raises(NonFiniteTrainingError):
        main(["--config", str(config_path)])
    failure = json.loads((tmp_path / "run" / FAILURE_FILE).read_text())
    assert failure["retry"] is False
    assert failure["error"].startswith("NonFiniteTrainingError: the training loss is ")


def test_an_accumulation_longer_than_an_epoch_is_refused(tiny_model_dir, tiny_tokenized_dir, tmp_path):
    config = tiny_training_config(
        tiny_model_dir, tiny_tokenized_dir, tmp_path / "run", gradient_accumulation_steps=1000, max_steps=2
    )
    with pytest.raises(ValueError, match="gradient_accumulation_steps 1000 is more than the"):
        run_training(config, MemoryReporter())


def test_token_ids_beyond_the_models_vocabulary_are_refused_by_name(tiny_model_dir, tiny_tokenized_dir, tmp_path):
    import datasets

    splits = datasets.load_from_disk(str(tiny_tokenized_dir))

    def corrupt(row, index):
        if index == 0:
            row["input_ids"] = [999_999, *row["input_ids"][1:]]
        return row

    splits["validation"] = splits["validation"].map(corrupt, with_indices=True)
    splits.save_to_disk(str(tmp_path / "tokenized"))
    config = tiny_training_config(tiny_model_dir, tmp_path / "tokenized", tmp_path / "run", max_steps=2)
    with pytest.raises(ValueError, match="the validation split holds token id 999999, beyond the base model's"):
        run_training(config, MemoryReporter())


def test_tokenized_bytes_changed_on_disk_are_refused_before_training(tiny_model_dir, tmp_path):
    from llm_pipeline.stages.base_model.reference import write_model_ref
    from llm_pipeline.stages.tokenized.run import run as tokenize
    from llm_pipeline.stages.tokenized.settings import TokenizeSettings
    from llm_pipeline.storage.layout import DataLayout
    from llm_pipeline_tests.support.tiny import tiny_splits

    layout = DataLayout(tmp_path / "data")
    tiny_splits().save_to_disk(str(layout.stage("splits")))
    write_model_ref(layout.models, str(tiny_model_dir), origin="test")
    tokenize(layout, TokenizeSettings(max_length=64))
    config = tiny_training_config(tiny_model_dir, layout.stage("tokenized"), tmp_path / "run", max_steps=1)
    run_training(config, MemoryReporter())  # as written: trusted

    arrow = next((layout.stage("tokenized") / "train").glob("*.arrow"))
    data = bytearray(arrow.read_bytes())
    data[len(data) // 2] ^= 0x01  # one bit, same size, same name
    arrow.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="changed on disk since the tokenized stage wrote it"):
        run_training(config, MemoryReporter())
