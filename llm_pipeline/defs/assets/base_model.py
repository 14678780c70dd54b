"""base_model: the model to fine-tune, a configured model id / path or a tiny model built locally."""

import dagster as dg

from llm_pipeline.defs.assets.splits import splits
from llm_pipeline.defs.config import config_class, to_settings
from llm_pipeline.defs.resources import DataDirResource
from llm_pipeline.stages.base_model.run import run
from llm_pipeline.stages.base_model.settings import BaseModelSettings

MODEL_GROUP = "model"

BaseModelConfig = config_class(BaseModelSettings, "BaseModelConfig")


@dg.asset(
    group_name=MODEL_GROUP,
    kinds={"huggingface", "pytorch"},
    deps=[splits],
    description="The base causal LM and tokenizer: a configured model id / path, or a tiny model built locally.",
)
def base_model(
    context: dg.AssetExecutionContext, config: BaseModelConfig, data_dir: DataDirResource
) -> dg.MaterializeResult:
    result = run(data_dir.layout, to_settings(config, BaseModelSettings), log=context.log.info)
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
    return dg.MaterializeResult(data_version=dg.DataVersion(result.data_version), metadata=metadata)
