"""evaluation: the tuned model against its base, on the same validation tokens and the same prompts."""

import dagster as dg

from llm_pipeline.defs.assets.checkpoint import TRAINING_GROUP
from llm_pipeline.defs.config import config_class
from llm_pipeline.defs.metadata import generations_markdown
from llm_pipeline.defs.resources import DataDirResource
from llm_pipeline.defs.stage_settings import overrides_metadata, run_settings, stage_code_version
from llm_pipeline.stages.evaluation.run import STAGE, run
from llm_pipeline.stages.evaluation.settings import EvaluationSettings

STAGE_MODULE = "llm_pipeline.stages.evaluation.run"


def evaluation_asset(project_settings: EvaluationSettings) -> dg.AssetsDefinition:
    """The evaluation asset; its config defaults to the project file's `evaluation` section."""
    evaluation_config = config_class(EvaluationSettings, "EvaluationConfig", defaults=project_settings)

    @dg.asset(
        group_name=TRAINING_GROUP,
        kinds={"pytorch", "huggingface"},
        code_version=stage_code_version(STAGE_MODULE, project_settings, libraries=("torch", "transformers")),
        deps=["merged_model", "tokenized", "splits"],
        pool="gpu",
        description="Base and tuned model on the same validation tokens (exact per-token loss and perplexity) "
        "and their greedy answers to the same prompts, side by side.",
    )
    def evaluation(
        context: dg.AssetExecutionContext, config: evaluation_config, data_dir: DataDirResource
    ) -> dg.MaterializeResult:
        settings, overrides = run_settings(context, config, EvaluationSettings, project_settings)
        with data_dir.writing(context, STAGE) as layout:
            result = run(layout, settings, log=context.log.info)
        return dg.MaterializeResult(
            metadata={
                "base_per_token_loss": dg.MetadataValue.float(result.base.mean),
                "tuned_per_token_loss": dg.MetadataValue.float(result.tuned.mean),
                "loss_delta": dg.MetadataValue.float(result.tuned.mean - result.base.mean),
                "improvement": dg.MetadataValue.float(round(result.improvement, 6)),
                "base_perplexity": dg.MetadataValue.float(result.base.perplexity),
                "tuned_perplexity": dg.MetadataValue.float(result.tuned.perplexity),
                "validation_rows": dg.MetadataValue.int(result.rows),
                "tokens_scored": dg.MetadataValue.int(result.tuned.tokens),
                "base_model": dg.MetadataValue.text(result.base_model),
                "generations": dg.MetadataValue.md(generations_markdown(result.generations)),
                "path": dg.MetadataValue.path(str(result.output)),
                **overrides_metadata(overrides),
            }
        )

    return evaluation
