"""The resource every asset uses to find its data directory, and to write to it one writer at a time."""

import contextlib
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
from pydantic import Field

from llm_pipeline.storage.atomic import ForeignFolderError
from llm_pipeline.storage.layout import DataLayout, default_data_dir
from llm_pipeline.storage.locks import DEFAULT_WAIT_S, StageBusyError, stage_lock


class DataDirResource(dg.ConfigurableResource):
    """The data directory: raw input under raw/, one folder per stage output, models/, rejected/."""

    path: str = Field(
        default="",
        description="Data directory. Empty: $LLM_PIPELINE_DATA_DIR, else data/ at the repository root.",
    )
    lock_wait_s: int = Field(
        default=DEFAULT_WAIT_S,
        description="How long a stage waits for another writer of the same stage in this data directory "
        "(another instance sharing it) before it fails, naming that writer.",
    )

    @property
    def layout(self) -> DataLayout:
        return DataLayout(Path(self.path).expanduser().resolve() if self.path else default_data_dir())

    @contextlib.contextmanager
    def writing(self, context: dg.AssetExecutionContext, *stages: str) -> Iterator[DataLayout]:
        """The layout, with the write locks of `stages` held for the block (storage.locks); a writer
        that keeps one longer than `lock_wait_s` fails the step once, naming it."""
        layout = self.layout
        with contextlib.ExitStack() as held:
            try:
                for stage in stages:
                    held.enter_context(
                        stage_lock(
                            layout.root, stage, run=context.run.run_id, wait_s=self.lock_wait_s, log=context.log.info
                        )
                    )
            except StageBusyError as error:
                raise dg.Failure(str(error), allow_retries=False) from error
            try:
                yield layout
            except ForeignFolderError as error:  # the same folder would be refused on every attempt
                raise dg.Failure(str(error), allow_retries=False) from error
