"""The evaluated model, placed under models/promoted/ once it was found better: the stage's work.

Only the model the evaluation scored is promoted: its weights' digest is in the evaluation
report, and a merged model that changed since (a later run) is refused rather than promoted
unevaluated. The files are hard-linked, not copied, and swapped in whole with the report.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from llm_pipeline.stages.evaluation.run import PROMOTED_DIR, PROMOTION_FILE, REPORT_FILE, STAGE, TUNED_DIR
from llm_pipeline.storage.atomic import atomic_dir
from llm_pipeline.storage.fingerprint import weights_digest
from llm_pipeline.storage.layout import DataLayout
from llm_pipeline.training.merge import link_tree


class ModelChangedError(ValueError):
    """The merged model is no longer the one the evaluation scored."""


@dataclass(frozen=True)
class Promotion:
    path: Path
    report: dict  # the evaluation report the promotion rests on

    @property
    def replaced(self) -> bool:
        return self.report.get("promoted_loss") is not None


def promote(layout: DataLayout) -> Promotion:
    report = json.loads((layout.stage(STAGE) / REPORT_FILE).read_text(encoding="utf-8"))
    merged = layout.models / TUNED_DIR
    if weights_digest(merged) != report["tuned_weights"]:
        raise ModelChangedError(
            f"{merged} changed since it was evaluated: materialize evaluation again before promoting it"
        )
    target = layout.models / PROMOTED_DIR
    with atomic_dir(target) as staging:
        link_tree(merged, staging)
        (staging / PROMOTION_FILE).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return Promotion(target, report)
