"""The evaluated model, placed under models/promoted/ once it was found better: the stage's work.

Only the model the evaluation scored is promoted: its weights' digest is in the evaluation
report, and a merged model that changed since (a later run) is refused rather than promoted
unevaluated. The files are hard-linked, not copied, and swapped in whole with the report; the
model card (README.md) is a file of its own, with the evaluation's section added (`card.py`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from llm_pipeline.stages.evaluation.card import evaluation_section, with_evaluation
from llm_pipeline.stages.evaluation.run import (
    GENERATIONS_FILE,
    PROMOTED_DIR,
    PROMOTION_FILE,
    REPORT_FILE,
    STAGE,
    TUNED_DIR,
)
from llm_pipeline.storage.atomic import atomic_dir
from llm_pipeline.storage.fingerprint import weights_digest
from llm_pipeline.storage.layout import DataLayout
from llm_pipeline.training.merge import MODEL_CARD, link_tree


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
    evaluated = layout.stage(STAGE)
    report = json.loads((evaluated / REPORT_FILE).read_text(encoding="utf-8"))
    generations = [json.loads(line) for line in (evaluated / GENERATIONS_FILE).read_text(encoding="utf-8").splitlines()]
    merged = layout.models / TUNED_DIR
    if weights_digest(merged) != report["tuned_weights"]:
        raise ModelChangedError(
            f"{merged} changed since it was evaluated: materialize evaluation again before promoting it"
        )
    target = layout.models / PROMOTED_DIR
    with atomic_dir(target) as staging:
        link_tree(merged, staging)
        card = staging / MODEL_CARD
        written = card.read_text(encoding="utf-8") if card.is_file() else ""
        card.unlink(missing_ok=True)  # a link to the merged model's card, which must stay as merge wrote it
        card.write_text(with_evaluation(written, evaluation_section(report, generations)), encoding="utf-8")
        (staging / PROMOTION_FILE).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return Promotion(target, report)
