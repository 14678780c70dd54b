"""merged_model: the fine-tuned model as one standalone folder, with a model card."""

import json
from collections.abc import Iterable

import dagster as dg

from llm_pipeline.defs.assets.checkpoint import CHECKPOINT_DIR_NAME, TRAINING_GROUP
from llm_pipeline.defs.resources import DataDirResource
from llm_pipeline.stages.tokenized.chat_template import own_template, rendered_example
from llm_pipeline.stages.tokenized.run import recorded_settings
from llm_pipeline.storage.code_fingerprint import code_fingerprint
from llm_pipeline.training.config import TrainingConfig
from llm_pipeline.training.curve import CurvePoint
from llm_pipeline.training.diagnosis import diagnose
from llm_pipeline.training.merge import export_model, model_card
from llm_pipeline.training.train import FINAL_CONFIG_FILE, FINAL_DIR_NAME, SUMMARY_FILE

MERGED_DIR_NAME = "merged"
# Upstream assets whose data versions the model card lists.
CARD_ASSETS = ("splits", "base_model", "tokenized", "checkpoint")
UNKNOWN = "unknown"


@dg.asset(
    group_name=TRAINING_GROUP,
    kinds={"huggingface", "pytorch"},
    deps=["checkpoint"],
    code_version=code_fingerprint("llm_pipeline.training.merge", libraries=("transformers", "peft"))[:16],
    description="The fine-tuned model in one folder: a LoRA/QLoRA adapter merged into its base "
    "(merge_and_unload), or the full fine-tune; with a model card listing data versions, config and metrics.",
)
def merged_model(context: dg.AssetExecutionContext, data_dir: DataDirResource) -> dg.MaterializeResult:
    from transformers import AutoTokenizer

    # The checkpoint's lock too: no trainer may swap final/ while it is read.
    with data_dir.writing(context, CHECKPOINT_DIR_NAME, MERGED_DIR_NAME) as layout:
        final = layout.models / CHECKPOINT_DIR_NAME / FINAL_DIR_NAME
        if not (final / SUMMARY_FILE).is_file():
            raise dg.Failure(f"{final} holds no finished training run: materialize the checkpoint asset first")
        # The config published with the model, not the run's latest: a later run that failed wrote its own.
        training = TrainingConfig.from_json(final / FINAL_CONFIG_FILE)
        summary = json.loads((final / SUMMARY_FILE).read_text())
        versions = data_versions(context.instance)
        require_recorded_checkpoint(final, summary, versions["checkpoint"], context.log.warning)
        # The template the model's own tokenizer carries: the one a user of the merged model gets.
        tokenizer = AutoTokenizer.from_pretrained(final, trust_remote_code=training.trust_remote_code)
        template = own_template(tokenizer)
        card = model_card(
            base_model=training.base_model,
            method=training.method,
            how="merged adapter" if training.method != "full" else "full fine-tune",
            data_versions=versions,
            training_config={k: v for k, v in training.to_dict().items() if k not in ("tokenized_path", "output_dir")},
            summary=summary,
            diagnosis=diagnose([CurvePoint.from_dict(point) for point in summary["learning_curve"]]).verdict,
            chat_template=template,
            chat_example=rendered_example(tokenizer) if template else "",
            learn=recorded_settings(layout).learned,
        )
        target = layout.models / MERGED_DIR_NAME
        context.log.info(f"exporting the {training.method} run from {final} to {target}")
        how = export_model(final, training.base_model, target, card, training.trust_remote_code)
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(target)),
            "method": dg.MetadataValue.text(training.method),
            "export": dg.MetadataValue.text(how),
            "data_versions": dg.MetadataValue.json(versions),
            "final_eval_loss": dg.MetadataValue.float(float(summary["final_eval_loss"])),
            "model_card": dg.MetadataValue.md(card),
        }
    )


def require_recorded_checkpoint(final, summary: dict, recorded: str, warn) -> None:
    """Refuse a model in final/ that is not the checkpoint this instance recorded (its data version
    is the run fingerprint's start): another pipeline sharing the data directory trained it."""
    found = str(summary.get("run_fingerprint", ""))[: len(recorded)]
    if recorded == UNKNOWN:
        warn(f"no checkpoint materialization is recorded here: {final} is exported as it is, unverified")
    elif found != recorded:
        raise dg.Failure(
            f"{final} holds run {found or 'without a fingerprint'}, not run {recorded} that the last checkpoint "
            "materialization recorded: another pipeline sharing this data directory replaced it. Materialize "
            "checkpoint again, then merged_model",
            allow_retries=False,
        )


def data_versions(instance: dg.DagsterInstance, names: Iterable[str] = CARD_ASSETS) -> dict[str, str]:
    """The latest data version of each asset `names` (by default those the model came from;
    "unknown" where none is recorded)."""
    versions = {}
    for name in names:
        record = instance.get_latest_data_version_record(dg.AssetKey(name))
        tags = record.asset_materialization.tags if record is not None and record.asset_materialization else {}
        versions[name] = (tags or {}).get("dagster/data_version", UNKNOWN)
    return versions
