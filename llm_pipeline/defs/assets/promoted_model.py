"""promoted_model: the evaluated model under models/promoted/, only once it beat its base and the
model promoted before it (the blocking check on evaluation stops the run otherwise); its card
gains the evaluation, and with `hub_repo_id` set it is pushed to the Hugging Face Hub."""

import dagster as dg

from llm_pipeline.defs.assets.checkpoint import TRAINING_GROUP
from llm_pipeline.defs.config import config_class
from llm_pipeline.defs.resources import DataDirResource, HubResource
from llm_pipeline.defs.stage_settings import overrides_metadata, run_settings, stage_code_version
from llm_pipeline.hub import HubError, plan_upload, push
from llm_pipeline.stages.evaluation.promote import ModelChangedError, promote
from llm_pipeline.stages.evaluation.promotion_settings import PromotionSettings
from llm_pipeline.stages.evaluation.run import PROMOTED_DIR

STAGE_MODULE = "llm_pipeline.stages.evaluation.promote"


def promoted_model_asset(project_settings: PromotionSettings) -> dg.AssetsDefinition:
    """The promoted_model asset; its config defaults to the project file's `promoted_model` section."""
    promotion_config = config_class(PromotionSettings, "PromotionConfig", defaults=project_settings)

    @dg.asset(
        group_name=TRAINING_GROUP,
        kinds={"huggingface"},
        deps=["evaluation"],
        code_version=stage_code_version(STAGE_MODULE, project_settings),
        description="The evaluated model placed under models/promoted/ with its evaluation report and an "
        "Evaluation section in its card, once the blocking check tuned_model_beats_base_and_promoted passed: what "
        "`from_pretrained` should load. With hub_repo_id set, also pushed to that Hugging Face Hub repository.",
    )
    def promoted_model(
        context: dg.AssetExecutionContext, config: promotion_config, data_dir: DataDirResource, hub: HubResource
    ) -> dg.MaterializeResult:
        settings, overrides = run_settings(context, config, PromotionSettings, project_settings)
        with data_dir.writing(context, PROMOTED_DIR) as layout:
            try:
                promotion = promote(layout)
            except ModelChangedError as error:
                raise dg.Failure(str(error), allow_retries=False) from error
            report = promotion.report
            context.log.info(f"promoted {promotion.path}: per-token validation loss {report['tuned_loss']:.4f}")
            pushed = {}
            if settings.hub_repo_id:
                upload = plan_upload(promotion.path, settings.hub_repo_id, settings.hub_private, report)
                context.log.info(f"pushing {len(upload.files)} files to the Hub repository {upload.repo_id}")
                try:
                    done = push(upload, hub.token, hub.endpoint)
                except HubError as error:  # the model is promoted; only the push failed
                    raise dg.Failure(str(error), allow_retries=False) from error
                pushed = {
                    "hub_repo_url": dg.MetadataValue.url(done.repo_url),
                    "hub_commit_url": dg.MetadataValue.url(done.commit_url),
                    "hub_commit": dg.MetadataValue.text(done.commit),
                }
        return dg.MaterializeResult(
            metadata={
                "path": dg.MetadataValue.path(str(promotion.path)),
                "tuned_per_token_loss": dg.MetadataValue.float(report["tuned_loss"]),
                "base_per_token_loss": dg.MetadataValue.float(report["base_loss"]),
                "replaced_a_promoted_model": dg.MetadataValue.bool(promotion.replaced),
                "previous_promoted_loss": dg.MetadataValue.text(
                    "none" if report.get("promoted_loss") is None else f"{report['promoted_loss']:.4f}"
                ),
                "hub": dg.MetadataValue.text(
                    f"pushed to {settings.hub_repo_id}" if pushed else "not pushed (hub_repo_id is empty)"
                ),
                **pushed,
                **overrides_metadata(overrides),
            }
        )

    return promoted_model
