"""evaluation: the tuned model against its base, on the same validation tokens and the same prompts."""

import dagster as dg

from llm_pipeline.defs.assets.checkpoint import TRAINING_GROUP
from llm_pipeline.defs.assets.merged_model import data_versions
from llm_pipeline.defs.config import config_class
from llm_pipeline.defs.resources import DataDirResource
from llm_pipeline.defs.stage_settings import overrides_metadata, run_settings, stage_code_version
from llm_pipeline.stages.evaluation.eval_file import EvalFileError
from llm_pipeline.stages.evaluation.run import STAGE, EvaluationResult, run
from llm_pipeline.stages.evaluation.settings import EvaluationSettings
from llm_pipeline.stages.evaluation.tables import answers_markdown, generations_markdown

STAGE_MODULE = "llm_pipeline.stages.evaluation.run"
# The inputs whose data versions the report (and the model card after promotion) names.
EVALUATED_ASSETS = ("splits", "tokenized", "merged_model")


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
        "and their greedy answers to the same prompts, side by side; with an eval file, exact match and token F1 "
        "of both against its expected answers.",
    )
    def evaluation(
        context: dg.AssetExecutionContext, config: evaluation_config, data_dir: DataDirResource
    ) -> dg.MaterializeResult:
        settings, overrides = run_settings(context, config, EvaluationSettings, project_settings)
        with data_dir.writing(context, STAGE) as layout:
            try:
                result = run(
                    layout,
                    settings,
                    log=context.log.info,
                    data_versions=data_versions(context.instance, EVALUATED_ASSETS),
                )
            except EvalFileError as error:  # the same file fails every attempt
                raise dg.Failure(str(error), allow_retries=False) from error
        return dg.MaterializeResult(
            metadata={
                **loss_metadata(result),
                "validation_rows": dg.MetadataValue.int(result.rows),
                "tokens_scored": dg.MetadataValue.int(result.tuned.tokens),
                "base_model": dg.MetadataValue.text(result.base_model),
                "generations": dg.MetadataValue.md(generations_markdown(result.generations)),
                **eval_file_metadata(result),
                "data_versions": dg.MetadataValue.json(dict(result.data_versions)),
                "path": dg.MetadataValue.path(str(result.output)),
                **overrides_metadata(overrides),
            }
        )

    return evaluation


def loss_metadata(result: EvaluationResult) -> dict[str, dg.MetadataValue]:
    """Plain numbers (float metadata), which the asset's Plots tab draws over materializations."""
    return {
        "base_per_token_loss": dg.MetadataValue.float(result.base.mean),
        "tuned_per_token_loss": dg.MetadataValue.float(result.tuned.mean),
        "loss_delta": dg.MetadataValue.float(result.tuned.mean - result.base.mean),
        "improvement": dg.MetadataValue.float(round(result.improvement, 6)),
        "base_perplexity": dg.MetadataValue.float(result.base.perplexity),
        "tuned_perplexity": dg.MetadataValue.float(result.tuned.perplexity),
    }


def eval_file_metadata(result: EvaluationResult) -> dict[str, dg.MetadataValue]:
    """Exact match and token F1 of both models and their deltas (numbers, plotted), the answers as a
    table, and the file's bad lines; nothing without an eval file."""
    if result.eval_file is None or result.answer_scores is None:
        return {}
    summary = result.answer_scores.summary()
    bad_lines = result.eval_file.bad_lines
    return {
        **{
            f"{model}_{metric}": dg.MetadataValue.float(value)
            for model, means in summary.items()
            if model != "delta"
            for metric, value in means.items()
        },
        **{f"{metric}_delta": dg.MetadataValue.float(value) for metric, value in summary["delta"].items()},
        "eval_file_items": dg.MetadataValue.int(len(result.answer_scores.answers)),
        "eval_file_bad_lines": dg.MetadataValue.int(len(bad_lines)),
        "eval_file_answers": dg.MetadataValue.md(answers_markdown(result.answer_scores.answers)),
        **(
            {
                "eval_file_bad_line_reasons": dg.MetadataValue.md(
                    "\n".join(f"- line {b.line}: {b.reason}" for b in bad_lines)
                )
            }
            if bad_lines
            else {}
        ),
        "eval_file": dg.MetadataValue.path(str(result.eval_file.path)),
    }
