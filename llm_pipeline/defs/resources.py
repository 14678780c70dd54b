"""The resource every asset uses to find its data directory."""

from pathlib import Path

import dagster as dg
from pydantic import Field

from llm_pipeline.storage.layout import DataLayout, default_data_dir


class DataDirResource(dg.ConfigurableResource):
    """The data directory: raw input under raw/, one folder per stage output, models/, rejected/."""

    path: str = Field(
        default="",
        description="Data directory. Empty: $LLM_PIPELINE_DATA_DIR, else data/ at the repository root.",
    )

    @property
    def layout(self) -> DataLayout:
        return DataLayout(Path(self.path).expanduser().resolve() if self.path else default_data_dir())
