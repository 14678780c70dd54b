"""The readable progress lines of training and tokenization, and where the reporters put them."""

from __future__ import annotations

import io
import json

import pytest

from llm_pipeline.progress import (
    NOT_YET,
    count_progress_line,
    format_duration,
    seconds_left,
    training_progress_line,
)
from llm_pipeline.training.reporters import MemoryReporter, PipesReporter, PrintReporter

TRAIN_LOG = {"loss": 5.123449, "grad_norm": 0.8421, "learning_rate": 0.0029, "epoch": 0.33}


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [(0, "0:00:00"), (12.4, "0:00:12"), (59.6, "0:01:00"), (3725, "1:02:05"), (90061, "25:01:01")],
)
def test_durations_read_as_hours_minutes_seconds(seconds, expected):
    assert format_duration(seconds) == expected


@pytest.mark.parametrize("seconds", [None, -1.0, float("nan"), float("inf")])
def test_an_unknown_duration_is_a_dash(seconds):
    assert format_duration(seconds) == NOT_YET


def test_a_training_line_has_step_of_total_percent_loss_lr_tokens_and_times():
    line = training_progress_line(20, 60, TRAIN_LOG, elapsed_s=12.0, tokens_since_start=14_808)
    assert line == (
        "step 20 of 60 (33%) · loss 5.1234 · lr 2.90e-03 · grad_norm 0.842 · 1,234 tokens/s"
        " · elapsed 0:00:12 · ETA 0:00:24"
    )


def test_an_evaluation_line_shows_the_validation_loss():
    logs = {"eval_loss": 5.30214, "eval_runtime": 0.4, "eval_samples_per_second": 30.0, "epoch": 0.33}
    line = training_progress_line(20, 60, logs, elapsed_s=12.0)
    assert line == "step 20 of 60 (33%) · eval_loss 5.3021 · elapsed 0:00:12 · ETA 0:00:24"


def test_padding_is_named_when_the_token_count_includes_it():
    line = training_progress_line(1, 10, TRAIN_LOG, elapsed_s=2.0, tokens_since_start=500, tokens_include_padding=True)
    assert "250 tokens/s (incl. padding)" in line


def test_without_a_known_total_there_is_no_percent_and_no_eta():
    for max_steps in (0, -1):
        line = training_progress_line(20, max_steps, TRAIN_LOG, elapsed_s=12.0)
        assert line.startswith("step 20 · loss 5.1234")
        assert "%" not in line and "ETA" not in line and "elapsed 0:00:12" in line


def test_before_any_step_of_this_process_the_eta_is_not_yet_known():
    line = training_progress_line(0, 60, {"eval_loss": 6.0}, elapsed_s=3.0, tokens_since_start=0)
    assert line == f"step 0 of 60 (0%) · eval_loss 6.0000 · elapsed 0:00:03 · ETA {NOT_YET}"


def test_after_a_resume_only_the_steps_run_here_set_the_pace():
    # Resumed at step 30 of 60; 10 steps in 20 s here: 20 steps left take 40 s, not 20/40*20 s.
    line = training_progress_line(40, 60, TRAIN_LOG, elapsed_s=20.0, start_step=30)
    assert line.startswith("step 40 of 60 (66%)") and line.endswith("elapsed 0:00:20 · ETA 0:00:40")
    assert seconds_left(10, 20, 20.0) == 40.0


def test_missing_log_values_are_left_out():
    assert training_progress_line(5, 10) == "step 5 of 10 (50%)"
    assert training_progress_line(5, 10, {"loss": None, "epoch": 0.5}) == "step 5 of 10 (50%)"


def test_the_closing_summary_and_a_resume_read_as_such():
    summary = {"train_runtime": 30.0, "train_loss": 4.25, "epoch": 1.0}
    assert training_progress_line(60, 60, summary, elapsed_s=30.0).startswith(
        "step 60 of 60 (100%) · average loss 4.2500"
    )
    assert training_progress_line(30, logs={"resumed_from": "/run/checkpoint-30"}) == (
        "step 30 · resumed from /run/checkpoint-30"
    )


def test_the_percent_rounds_down_so_that_100_means_done():
    assert "(99%)" in training_progress_line(599, 600)
    assert "(100%)" in training_progress_line(600, 600)


def test_a_count_line_has_done_of_total_percent_rate_and_eta():
    line = count_progress_line(1_234, 5_000, 2.0, verb="encoded", noun="records")
    assert line == "encoded 1,234 of 5,000 records (24%) · 617 records/s · elapsed 0:00:02 · ETA 0:00:06"


def test_a_slow_rate_keeps_its_digits():
    assert "0.5 records/s" in count_progress_line(1, 4, 2.0, verb="encoded", noun="records")


def test_the_print_reporter_keeps_json_on_its_stream_and_writes_the_line_beside_it():
    events, lines = io.StringIO(), io.StringIO()
    PrintReporter(events, line_stream=lines).progress(3, {"loss": 2.5}, "step 3 of 9 (33%) · loss 2.5000")
    assert json.loads(events.getvalue()) == {"event": "progress", "step": 3, "loss": 2.5}
    assert lines.getvalue() == "step 3 of 9 (33%) · loss 2.5000\n"


def test_the_pipes_reporter_logs_the_readable_line():
    class FakeLog:
        def __init__(self):
            self.messages = []

        def info(self, message):
            self.messages.append(message)

    class FakePipes:
        log = FakeLog()

    pipes = FakePipes()
    reporter = PipesReporter(pipes)
    reporter.progress(3, {"loss": 2.5}, "step 3 of 9 (33%) · loss 2.5000")
    reporter.progress(4, {"loss": 2.25})  # no line given: one from the step and the log
    assert pipes.log.messages == ["step 3 of 9 (33%) · loss 2.5000", "step 4 · loss 2.2500"]


def test_the_memory_reporter_keeps_the_events_and_their_lines():
    reporter = MemoryReporter()
    reporter.progress(3, {"loss": 2.5}, "the line")
    assert reporter.progress_events == [(3, {"loss": 2.5})] and reporter.progress_lines == ["the line"]
