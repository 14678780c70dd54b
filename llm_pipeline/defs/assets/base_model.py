"""base_model: the model to fine-tune, a configured model id / path or a tiny model built locally."""

import dagster as dg

from llm_pipeline.defs.config import config_class
from llm_pipeline.defs.resources import DataDirResource
from llm_pipeline.defs.stage_settings import overrides_metadata, run_settings, stage_code_version
from llm_pipeline.stages.base_model.run import run
from llm_pipeline.stages.base_model.settings import BaseModelSettings
from llm_pipeline.stages.base_model.weights import BaseModelError

MODEL_GROUP = "model"
STAGE_MODULE = "llm_pipeline.stages.base_model.run"


def base_model_asset(project_settings: BaseModelSettings) -> dg.AssetsDefinition:
    """The base_model asset; its config defaults to the project file's `base_model` section."""
    base_model_config = config_class(BaseModelSettings, "BaseModelConfig", defaults=project_settings)

    @dg.asset(
        group_name=MODEL_GROUP,
        kinds={"huggingface", "pytorch"},
        code_version=stage_code_version(STAGE_MODULE, project_settings),
        deps=["splits"],
        description="The base causal LM and tokenizer: a configured model id / path, or a tiny model built locally.",
    )
    def base_model(
        context: dg.AssetExecutionContext, config: base_model_config, data_dir: DataDirResource
    ) -> dg.MaterializeResult:
        settings, overrides = run_settings(context, config, BaseModelSettings, project_settings)
        try:
            with data_dir.writing(context, "base_model") as layout:
                result = run(layout, settings, log=context.log.info)
        except BaseModelError as error:
            raise dg.Failure(str(error), allow_retries=False) from error
        if result.built_locally:
            metadata = {
                "model": dg.MetadataValue.path(result.model),
                "origin": dg.MetadataValue.text("tiny Llama built locally from the training split"),
                "vocab_size": dg.MetadataValue.int(result.vocab_size),
                "hidden_size": dg.MetadataValue.int(result.hidden_size),
                "layers": dg.MetadataValue.int(result.layers),
            }
        else:
            metadata = {
                "model": dg.MetadataValue.text(result.model),
                "origin": dg.MetadataValue.text(result.origin),
                "architecture": dg.MetadataValue.text(result.architecture),
                "vocab_size": dg.MetadataValue.int(result.vocab_size),
            }
        return dg.MaterializeResult(
            data_version=dg.DataVersion(result.data_version), metadata={**metadata, **overrides_metadata(overrides)}
        )

    return base_model
