"""Where the launched trainer's progress and final metrics go: a `Reporter`.

The training loop only calls `progress`, `final` and `close`; which reporter it gets decides
where they land: Dagster Pipes when Dagster launched the process, JSON lines on stdout (and the
readable progress lines on stderr) when a person did, a list in memory for tests, nothing on the
processes other than rank 0.
`dagster_pipes` is imported only when the process runs under Pipes.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping
from typing import Any, Protocol

from llm_pipeline.progress import training_progress_line


class Reporter(Protocol):
    """Where the trainer's progress and final metrics go."""

    def progress(self, step: int, logs: Mapping[str, Any], line: str | None = None) -> None:
        """One logging step: the Trainer's log dict (loss, eval_loss, learning_rate, ...) and `line`,
        the same step as a person reads it (`progress.training_progress_line`); without one, a
        line is made from `step` and `logs` alone."""

    def final(self, metadata: Mapping[str, Any]) -> None:
        """The end of training: `train.METADATA_KEYS` with plain Python values."""

    def close(self, error: BaseException | None = None) -> None:
        """Flush and release; `error` is the exception that ended the run, if any."""


class PrintReporter:
    """JSON lines on stdout: `{"event": "progress", ...}` and `{"event": "final", "metadata": ...}`;
    the readable progress lines on stderr, so that stdout stays one JSON event a line for programs."""

    def __init__(self, stream=None, line_stream=None) -> None:
        self._stream = stream
        self._line_stream = line_stream

    def _emit(self, payload: dict[str, Any]) -> None:
        print(json.dumps(payload), file=self._stream or sys.stdout, flush=True)

    def progress(self, step: int, logs: Mapping[str, Any], line: str | None = None) -> None:
        self._emit({"event": "progress", "step": step, **logs})
        print(_readable(step, logs, line), file=self._line_stream or sys.stderr, flush=True)

    def final(self, metadata: Mapping[str, Any]) -> None:
        self._emit({"event": "final", "metadata": dict(metadata)})

    def close(self, error: BaseException | None = None) -> None:
        if error is not None:
            self._emit({"event": "error", "error": f"{type(error).__name__}: {error}"})


class MemoryReporter:
    """Keeps every event in lists; for in-process callers and tests."""

    def __init__(self) -> None:
        self.progress_events: list[tuple[int, dict[str, Any]]] = []
        self.progress_lines: list[str] = []
        self.final_metadata: dict[str, Any] | None = None
        self.error: BaseException | None = None

    def progress(self, step: int, logs: Mapping[str, Any], line: str | None = None) -> None:
        self.progress_events.append((step, dict(logs)))
        self.progress_lines.append(_readable(step, logs, line))

    def final(self, metadata: Mapping[str, Any]) -> None:
        self.final_metadata = dict(metadata)

    def close(self, error: BaseException | None = None) -> None:
        self.error = error


class NullReporter:
    """For processes other than the main one: they train but do not report."""

    def progress(self, step: int, logs: Mapping[str, Any], line: str | None = None) -> None:
        pass

    def final(self, metadata: Mapping[str, Any]) -> None:
        pass

    def close(self, error: BaseException | None = None) -> None:
        pass


class PipesReporter:
    """Reports to the Dagster run that launched this process, through Dagster Pipes.

    Progress goes to `pipes.log.info` as the readable line (it shows in the run's log); the
    logged values themselves reach the UI with the final metrics, as the learning curve of the
    asset's materialization metadata. An exception is sent back with the closing message.
    """

    # Pipes infers a type from a raw value; these keys get an explicit one so the UI shows a
    # JSON table and a path.
    _TYPED_KEYS = {"learning_curve": "json", "memory_estimate": "json", "model_path": "path"}

    def __init__(self, pipes=None) -> None:
        if pipes is None:
            from dagster_pipes import open_dagster_pipes

            pipes = open_dagster_pipes()
        self._pipes = pipes

    def progress(self, step: int, logs: Mapping[str, Any], line: str | None = None) -> None:
        self._pipes.log.info(_readable(step, logs, line))

    def final(self, metadata: Mapping[str, Any]) -> None:
        self._pipes.report_asset_materialization(metadata=self.to_pipes_metadata(metadata))

    @classmethod
    def to_pipes_metadata(cls, metadata: Mapping[str, Any]) -> dict[str, Any]:
        return {
            key: {"raw_value": value, "type": cls._TYPED_KEYS[key]} if key in cls._TYPED_KEYS else value
            for key, value in metadata.items()
        }

    def close(self, error: BaseException | None = None) -> None:
        if error is None:
            self._pipes.close()
        else:
            self._pipes.__exit__(type(error), error, error.__traceback__)


def _readable(step: int, logs: Mapping[str, Any], line: str | None) -> str:
    """The caller's line, or one from the step and log alone (no totals or times known here)."""
    return line if line is not None else training_progress_line(step, logs=logs)


def is_main_process() -> bool:
    """Rank 0 of a distributed launch (accelerate, torchrun set RANK / LOCAL_RANK), or a lone process."""
    for variable in ("RANK", "LOCAL_RANK"):
        if variable in os.environ:
            return int(os.environ[variable]) == 0
    return True


def is_dagster_pipes_process() -> bool:
    """Whether Dagster launched this process through Pipes (it sets the Pipes context variable)."""
    try:
        from dagster_pipes import PipesEnvVarParamsLoader
    except ImportError:
        return False
    return PipesEnvVarParamsLoader().is_dagster_pipes_process()


def default_reporter() -> Reporter:
    if not is_main_process():
        return NullReporter()
    if is_dagster_pipes_process():
        return PipesReporter()
    return PrintReporter()
