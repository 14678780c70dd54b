"""tokenized: both splits in the base model's tokens, through the chat template, masked and packed."""

import dagster as dg

from llm_pipeline.defs.assets.base_model import MODEL_GROUP
from llm_pipeline.defs.config import config_class
from llm_pipeline.defs.metadata import (
    balance_metadata,
    counts_markdown,
    length_histogram_markdown,
    token_stats_markdown,
)
from llm_pipeline.defs.resources import DataDirResource
from llm_pipeline.defs.stage_settings import overrides_metadata, run_settings, stage_code_version
from llm_pipeline.stages.tokenized.chat_template import ChatTemplateError
from llm_pipeline.stages.tokenized.run import EmptyTokenizedError, run
from llm_pipeline.stages.tokenized.settings import TokenizeSettings
from llm_pipeline.stages.tokenized.version import CODE_LIBRARIES

STAGE_MODULE = "llm_pipeline.stages.tokenized.run"


def tokenized_asset(project_settings: TokenizeSettings) -> dg.AssetsDefinition:
    """The tokenized asset; its config defaults to the project file's `tokenized` section."""
    tokenized_config = config_class(TokenizeSettings, "TokenizeConfig", defaults=project_settings)

    @dg.asset(
        group_name=MODEL_GROUP,
        kinds={"huggingface", "arrow"},
        code_version=stage_code_version(STAGE_MODULE, project_settings, libraries=CODE_LIBRARIES),
        deps=["splits", "base_model"],
        description="Both splits as `input_ids`, `labels` (-100 outside the learned assistant turns) and, packed, "
        "`position_ids`; supervised and chat records through the chat template (saved with the tokenizer in "
        "`tokenized/tokenizer/`), texts closed by EOS. Rebuilt only when the split, the tokenizer or this config changed.",
    )
    def tokenized(
        context: dg.AssetExecutionContext, config: tokenized_config, data_dir: DataDirResource
    ) -> dg.MaterializeResult:
        settings, overrides = run_settings(context, config, TokenizeSettings, project_settings)
        try:
            with data_dir.writing(context, "tokenized") as layout:
                result = run(layout, settings, log=context.log.info)
        except (EmptyTokenizedError, ChatTemplateError) as error:
            raise dg.Failure(str(error), allow_retries=False) from error
        stats = result.stats
        return dg.MaterializeResult(
            data_version=dg.DataVersion(result.data_version),
            metadata={
                **balance_metadata(result.records_in, result.kept, result.records_in - result.kept, 0),
                "path": dg.MetadataValue.path(str(result.output)),
                "data_version": dg.MetadataValue.text(result.data_version),
                "reused": dg.MetadataValue.bool(result.reused),
                "records_encoded": dg.MetadataValue.int(result.records_encoded),
                "encodings_from_cache": dg.MetadataValue.int(result.encodings_from_cache),
                "packing": dg.MetadataValue.bool(settings.packing),
                "chat_template": dg.MetadataValue.md(
                    f"{result.chat_template.name}:\n\n```jinja\n{result.chat_template.jinja}\n```"
                ),
                "learn": dg.MetadataValue.text(settings.learned),
                "rows": dg.MetadataValue.int(result.rows),
                "pad_fraction": dg.MetadataValue.float(stats["train"]["pad_fraction"] if "train" in stats else 0.0),
                "token_stats": dg.MetadataValue.md(token_stats_markdown(stats)),
                "length_histogram": dg.MetadataValue.md(length_histogram_markdown(stats)),
                "dropped_by_reason": dg.MetadataValue.md(counts_markdown(result.dropped_by_reason)),
                "dagster/row_count": dg.MetadataValue.int(result.rows),
                **overrides_metadata(overrides),
            },
        )

    return tokenized
