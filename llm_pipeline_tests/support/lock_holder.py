"""Another writer holding a stage's lock in a process of its own, as a second pipeline would."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HOLDER_RUN = "run-of-the-other-pipeline"
_HOLD = """
import sys, time
from pathlib import Path
from llm_pipeline.storage.locks import stage_lock
with stage_lock(Path(sys.argv[1]), sys.argv[2], run=sys.argv[4], shared=sys.argv[5] == "shared"):
    print("holding", flush=True)
    time.sleep(float(sys.argv[3]))
"""


def hold_stage_lock(data_dir: Path, stage: str, seconds: float = 120, shared: bool = False) -> subprocess.Popen:
    """A process that holds `stage`'s lock in `data_dir` (to write, or `shared` to read) for `seconds`
    (returns once it holds it)."""
    mode = "shared" if shared else "exclusive"
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLD, str(data_dir), stage, str(seconds), HOLDER_RUN, mode],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline().strip() == "holding"
    return holder
