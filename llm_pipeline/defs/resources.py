"""The resource every asset uses to find its data directory, and to write to it one writer at a time."""

import contextlib
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
from pydantic import Field

from llm_pipeline.storage.atomic import ForeignFolderError
from llm_pipeline.storage.layout import DataLayout, default_data_dir
from llm_pipeline.storage.locks import DEFAULT_WAIT_S, StageBusyError, stage_lock
from llm_pipeline.storage.provenance import stamp, writing_run, written_by


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
        """The layout, with the write locks of `stages` and the read locks of the step's inputs held
        for the block (storage.locks); a holder in the way for longer than `lock_wait_s` fails the
        step once, naming it. An input folder that another run wrote than the one this instance
        last recorded materializing it fails the step too (storage.provenance); the folders
        written (or kept unchanged) name this run afterwards."""
        layout = self.layout
        run = context.run.run_id
        inputs = sorted({key.path[-1] for key in context.assets_def.dependency_keys} - set(stages))
        with contextlib.ExitStack() as held:
            self._hold(
                held, context, layout, [*((stage, False) for stage in stages), *((name, True) for name in inputs)]
            )
            for name in inputs:
                _refuse_another_runs_output(context, layout.stage(name), name)
            held.enter_context(writing_run(run))
            try:
                yield layout
            except ForeignFolderError as error:  # the same folder would be refused on every attempt
                raise dg.Failure(str(error), allow_retries=False) from error
            for stage in stages:
                stamp(layout.stage(stage), run)
                stamp(layout.rejected(stage), run)

    @contextlib.contextmanager
    def reading(self, context: dg.AssetCheckExecutionContext, *stages: str) -> Iterator[DataLayout]:
        """The layout, with the read locks of `stages` held: an asset check sees one run's output
        and quarantine, never one beside the other's."""
        layout = self.layout
        with contextlib.ExitStack() as held:
            self._hold(held, context, layout, [(stage, True) for stage in stages])
            yield layout

    def _hold(self, held: contextlib.ExitStack, context, layout: DataLayout, locks: list[tuple[str, bool]]) -> None:
        """Take each (stage, shared) lock into `held`; one kept by another holder for longer than
        `lock_wait_s` fails the step once, naming that holder (a retry would wait the same)."""
        try:
            for stage, shared in locks:
                held.enter_context(
                    stage_lock(
                        layout.root,
                        stage,
                        run=context.run.run_id,
                        wait_s=self.lock_wait_s,
                        log=context.log.info,
                        shared=shared,
                    )
                )
        except StageBusyError as error:
            raise dg.Failure(str(error), allow_retries=False) from error


def _refuse_another_runs_output(context: dg.AssetExecutionContext, folder: Path, name: str) -> None:
    """Fail, naming both runs, when the folder of input `name` is not the materialization this
    instance last recorded: another pipeline sharing the data directory replaced it (or a run
    wrote it and failed before recording it)."""
    on_disk = written_by(folder) if folder.is_dir() else None
    if on_disk is None:  # not a stage folder, or one from before runs were named: nothing to compare
        return
    event = context.instance.get_latest_materialization_event(dg.AssetKey(name))
    if event is None or event.run_id == on_disk:
        return
    raise dg.Failure(
        f"{name} in {folder} was written by run {on_disk}, but this instance last recorded run {event.run_id} "
        f"materializing it: another pipeline sharing this data directory replaced it, or a run of {name} "
        f"failed after writing. Materialize {name} again before this step, or give each pipeline its own "
        "data directory",
        allow_retries=False,
    )


class HubResource(dg.ConfigurableResource):
    """The Hugging Face Hub credential promoted_model pushes with (only when hub_repo_id is set)."""

    token: str | None = Field(
        default=None,
        description="A Hub token with write access: the environment variable HF_TOKEN when the project file sets "
        "promoted_model.hub_repo_id (the UI shows the variable's name, never its value).",
    )
    endpoint: str = Field(default="", description="The Hub's address. Empty: huggingface.co (or $HF_ENDPOINT).")


def hub_resource(repo_configured: bool) -> HubResource:
    """The Hub resource: the token read from HF_TOKEN at run time when a repository is configured.

    Dagster resolves an `EnvVar` when a run that uses the resource starts and refuses the run,
    naming HF_TOKEN, if it is unset: bound only when a push is configured, so a project without
    one never needs the variable.
    """
    return HubResource(token=dg.EnvVar("HF_TOKEN")) if repo_configured else HubResource()
