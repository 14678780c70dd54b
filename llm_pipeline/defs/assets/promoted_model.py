"""promoted_model: the evaluated model under models/promoted/, only once it beat its base and the
model promoted before it (the blocking check on evaluation stops the run otherwise)."""

import dagster as dg

from llm_pipeline.defs.assets.checkpoint import TRAINING_GROUP
from llm_pipeline.defs.resources import DataDirResource
from llm_pipeline.stages.evaluation.promote import ModelChangedError, promote
from llm_pipeline.stages.evaluation.run import PROMOTED_DIR
from llm_pipeline.storage.code_fingerprint import code_fingerprint


@dg.asset(
    group_name=TRAINING_GROUP,
    kinds={"huggingface"},
    deps=["evaluation"],
    code_version=code_fingerprint("llm_pipeline.stages.evaluation.promote")[:16],
    description="The evaluated model placed under models/promoted/ with its evaluation report, once the blocking "
    "check tuned_model_beats_base_and_promoted passed: what `from_pretrained` should load.",
)
def promoted_model(context: dg.AssetExecutionContext, data_dir: DataDirResource) -> dg.MaterializeResult:
    with data_dir.writing(context, PROMOTED_DIR) as layout:
        try:
            promotion = promote(layout)
        except ModelChangedError as error:
            raise dg.Failure(str(error), allow_retries=False) from error
    report = promotion.report
    context.log.info(f"promoted {promotion.path}: per-token validation loss {report['tuned_loss']:.4f}")
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(promotion.path)),
            "tuned_per_token_loss": dg.MetadataValue.float(report["tuned_loss"]),
            "base_per_token_loss": dg.MetadataValue.float(report["base_loss"]),
            "replaced_a_promoted_model": dg.MetadataValue.bool(promotion.replaced),
            "previous_promoted_loss": dg.MetadataValue.text(
                "none" if report.get("promoted_loss") is None else f"{report['promoted_loss']:.4f}"
            ),
        }
    )
