"""Asset checks. The blocking ones stop a run before it trains on data that lost records, shares
prompts between train and validation, lost most of itself to the filters or carries token ids
the model cannot embed. Near-duplicate prompts across the split fail without blocking; the
checkpoint's own check only warns.
"""

import json
from collections import Counter
from pathlib import Path

import dagster as dg
import datasets

from llm_pipeline.defs.config import config_class, to_settings
from llm_pipeline.defs.resources import DataDirResource
from llm_pipeline.stages.base_model.reference import model_ref_trusts_code, read_model_ref
from llm_pipeline.stages.evaluation.run import REPORT_FILE as EVALUATION_REPORT
from llm_pipeline.stages.evaluation.run import STAGE as EVALUATION_STAGE
from llm_pipeline.stages.plaintext.accounting import account
from llm_pipeline.stages.plaintext.formats import format_of, scan_raw_folder
from llm_pipeline.stages.splits.assign import TRAIN, VALIDATION
from llm_pipeline.stages.tokenized.run import STAGE as TOKENIZED_STAGE
from llm_pipeline.storage.layout import DataLayout
from llm_pipeline.storage.stage_output import iter_records
from llm_pipeline.token_rows import record_ids_of_rows
from llm_pipeline.validators import (
    EXAMPLES,
    DroppedShareSettings,
    IdBalance,
    NearDuplicateCheckSettings,
    dropped_share,
    id_balance,
    label_report,
    near_duplicate_prompts,
    prompt_signature_cache,
    records_without_targets,
    shared_prompts,
)

# The stages whose outputs are records, each with the stage it reads from (None: raw files).
RECORD_STAGES = {
    "plaintext": None,
    "filtered": "plaintext",
    "clustered": "filtered",
    "splits": "clustered",
    TOKENIZED_STAGE: "splits",
}
BALANCE_FIELDS = ("records_in", "records_kept", "records_dropped", "records_rejected")


def _load(path) -> datasets.Dataset | datasets.DatasetDict | None:
    return datasets.load_from_disk(str(path)) if path.exists() else None


def _column(data: datasets.Dataset | datasets.DatasetDict | None, name: str) -> list:
    """One column of a dataset, or of every split of a DatasetDict, read from Arrow."""
    if data is None:
        return []
    parts = data.values() if isinstance(data, datasets.DatasetDict) else [data]
    return [value for part in parts for value in part.select_columns([name]).with_format("arrow")[:][name].to_pylist()]


def _latest_metadata(context: dg.AssetCheckExecutionContext, asset: str) -> dict:
    event = context.instance.get_latest_materialization_event(dg.AssetKey(asset))
    if event is None or event.asset_materialization is None:
        return {}
    return {key: value.value for key, value in event.asset_materialization.metadata.items()}


def stage_balance(context: dg.AssetCheckExecutionContext, layout: DataLayout, stage: str) -> dg.AssetCheckResult:
    """Recount a stage from disk: every record that came in left exactly once, kept or quarantined
    with a reason and a source; and the counts the materialization reported are the ones on disk."""
    upstream = RECORD_STAGES[stage]
    output = _load(layout.stage(stage))
    packed = stage == TOKENIZED_STAGE
    if packed:  # a packed row's id names all of its records; a long text spans several rows
        parts = output.values() if output is not None else []
        kept_ids = [record for part in parts for record in record_ids_of_rows(_column(part, "id"))]
    else:
        kept_ids = _column(output, "id")
    quarantine = _load(layout.rejected(stage))
    removed_ids = _column(quarantine, "record_id")
    unexplained = sum(
        1
        for reason, source in zip(_column(quarantine, "reason"), _column(quarantine, "source"), strict=False)
        if not reason or not source
    )
    if upstream is None:
        # Raw files carry no record ids: what came in is what came out, so the metadata is the test.
        balance = IdBalance(records_in=len(kept_ids) + len(removed_ids), kept=len(kept_ids), removed=len(removed_ids))
    else:
        balance = id_balance(_column(_load(layout.stage(upstream)), "id"), kept_ids, removed_ids, kept_once=packed)
    reported = {name: value for name, value in _latest_metadata(context, stage).items() if name in BALANCE_FIELDS}
    # Stages report drops and rejections in separate fields but quarantine both in one folder.
    reported_removed = reported.get("records_dropped", 0) + reported.get("records_rejected", 0)
    metadata_agrees = (
        reported.get("records_in") == balance.records_in
        and reported.get("records_kept") == balance.kept
        and reported_removed == balance.removed
    )
    return dg.AssetCheckResult(
        passed=balance.balanced and metadata_agrees and not unexplained,
        metadata={
            "on_disk": dg.MetadataValue.text(
                f"in {balance.records_in} = kept {balance.kept} + removed {balance.removed}"
            ),
            "reported": dg.MetadataValue.json(reported),
            "metadata_agrees_with_disk": dg.MetadataValue.bool(metadata_agrees),
            "missing_records": dg.MetadataValue.int(len(balance.missing)),
            "unexpected_records": dg.MetadataValue.int(len(balance.unexpected)),
            "quarantined_without_reason_or_source": dg.MetadataValue.int(unexplained),
            "examples": dg.MetadataValue.json(
                {"missing": balance.missing[:EXAMPLES], "unexpected": balance.unexpected[:EXAMPLES]}
            ),
        },
    )


def _balance_check(stage: str) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=stage,
        name=f"{stage}_counts_balance",
        blocking=True,
        description=f"Recounted from disk: every record {stage} read is kept or quarantined once (in = kept + dropped + rejected), as its metadata says.",
    )
    def check(context: dg.AssetCheckExecutionContext, data_dir: DataDirResource) -> dg.AssetCheckResult:
        with data_dir.reading(context, stage) as layout:  # output and quarantine of one run
            return stage_balance(context, layout, stage)

    return check


balance_checks = [_balance_check(stage) for stage in RECORD_STAGES]


@dg.asset_check(
    asset="plaintext",
    blocking=True,
    description="Each raw file counted by a second reader (JSONL lines, CSV rows by Python's csv module, JSON "
    "elements, Parquet footer rows, one document per page, the rows of a SQL dump's INSERTs and COPY blocks by a "
    "scanner of its own) equals its records plus quarantine entries (and a SQL dump's rows of tables with no text "
    "column), unless an entry names the whole file.",
)
def plaintext_accounts_for_raw_files(
    context: dg.AssetCheckExecutionContext, data_dir: DataDirResource
) -> dg.AssetCheckResult:
    with data_dir.reading(context, "plaintext") as layout:
        listing = scan_raw_folder(layout.raw(), layout.root)
        accounts = account(
            [(path, name, format_of(name)) for path, name in listing.files],
            _column(_load(layout.stage("plaintext")), "source"),
            _column(_load(layout.rejected("plaintext")), "source"),
            _unmapped_table_rows(context),
        )
    mismatched = [entry for entry in accounts if not entry.balanced]
    counted = [entry for entry in accounts if entry.raw_count is not None and not entry.whole_file_entries]
    rows = [f"| `{e.name}` | {e.raw_count} | {e.items} |" for e in mismatched[:50]]
    return dg.AssetCheckResult(
        passed=not mismatched,
        metadata={
            "files_counted": len(counted),
            "files_balanced": len(counted) - len(mismatched),
            "files_quarantined_whole_or_in_part": sum(1 for e in accounts if e.whole_file_entries),
            "files_not_counted": dg.MetadataValue.json(
                dict(Counter(e.fmt for e in accounts if e.raw_count is None and not e.whole_file_entries))
            ),
            "rows_counted": sum(e.raw_count for e in counted),
            "mismatches": dg.MetadataValue.md(
                "\n".join(["| file | raw count | records + quarantined |", "|---|---:|---:|", *rows])
                if rows
                else "_none_"
            ),
        },
    )


def _unmapped_table_rows(context: dg.AssetCheckExecutionContext) -> dict[str, int]:
    """The rows of SQL tables with no text column that the plaintext run listed in its metadata."""
    event = context.instance.get_latest_materialization_event(dg.AssetKey("plaintext"))
    metadata = event.asset_materialization.metadata if event and event.asset_materialization else {}
    entry = metadata.get("sql_tables_not_mapped")
    return dict(entry.value) if entry is not None and isinstance(entry.value, dict) else {}


def _vocab_size(layout: DataLayout) -> int:
    """The base model's vocabulary size: read from its config.json when it is a local folder
    (importing transformers was most of this check's time), else through AutoConfig."""
    reference = read_model_ref(layout.models)
    config_file = Path(reference) / "config.json"
    if config_file.is_file():
        config = json.loads(config_file.read_text(encoding="utf-8"))
        text_config = config.get("text_config") if isinstance(config.get("text_config"), dict) else config
        if isinstance(text_config.get("vocab_size"), int):
            return text_config["vocab_size"]
    from transformers import AutoConfig

    model_config = AutoConfig.from_pretrained(reference, trust_remote_code=model_ref_trusts_code(layout.models))
    return model_config.get_text_config().vocab_size


def _split_records(layout: DataLayout) -> tuple[list, list]:
    parts = datasets.load_from_disk(str(layout.stage("splits")))
    return list(iter_records(parts[TRAIN])), list(iter_records(parts[VALIDATION]))


@dg.asset_check(asset="splits", blocking=True, description="No normalized prompt sits on both sides of the split.")
def splits_share_no_prompt(data_dir: DataDirResource) -> dg.AssetCheckResult:
    train, validation = _split_records(data_dir.layout)
    shared = shared_prompts(train, validation)
    return dg.AssetCheckResult(
        passed=not shared,
        metadata={"shared_prompts": len(shared), "examples": dg.MetadataValue.json(shared[:EXAMPLES])},
    )


NearDuplicateConfig = config_class(NearDuplicateCheckSettings, "NearDuplicateConfig")


# Not blocking: the hash split keeps equal prompts together, so an exact leak is a bug worth
# stopping for, but it cannot see near duplicates ("... (variant 1)" / "... (variant 2)"), which
# are common in real data. A leak makes validation loss optimistic; the check names the pairs.
@dg.asset_check(
    asset="splits",
    description="No validation prompt is a near duplicate of a training prompt (MinHash LSH, confirmed by exact Jaccard).",
)
def splits_share_no_near_duplicate(
    config: NearDuplicateConfig,  # type: ignore[valid-type]
    data_dir: DataDirResource,
) -> dg.AssetCheckResult:
    settings = to_settings(config, NearDuplicateCheckSettings)
    train, validation = _split_records(data_dir.layout)
    cache = prompt_signature_cache(data_dir.layout.cache("splits_near_duplicates"), settings.num_perm)
    pairs = near_duplicate_prompts(
        train, validation, threshold=settings.threshold, num_perm=settings.num_perm, cache=cache
    )
    cache.save()
    return dg.AssetCheckResult(
        passed=not pairs,
        metadata={
            "near_duplicate_validation_records": len(pairs),
            "validation_records": len(validation),
            "threshold": dg.MetadataValue.float(settings.threshold),
            "examples": dg.MetadataValue.json(
                [
                    {
                        "similarity": pair.similarity,
                        "validation": pair.validation_prompt[:200],
                        "train": pair.train_prompt[:200],
                    }
                    for pair in pairs[:EXAMPLES]
                ]
            ),
        },
    )


DroppedShareConfig = config_class(DroppedShareSettings, "DroppedShareConfig")


@dg.asset_check(
    asset="filtered",
    blocking=True,
    description="The filters dropped no more than `max_dropped_share` of the records, duplicates aside (recounted from disk).",
)
def filtered_dropped_share_bounded(
    config: DroppedShareConfig,  # type: ignore[valid-type]
    data_dir: DataDirResource,
) -> dg.AssetCheckResult:
    settings = to_settings(config, DroppedShareSettings)
    layout = data_dir.layout
    records_in = len(_column(_load(layout.stage("plaintext")), "id"))
    reasons = _column(_load(layout.rejected("filtered")), "reason")
    share = dropped_share(records_in, reasons, settings.count_duplicates)
    return dg.AssetCheckResult(
        passed=share <= settings.max_dropped_share,
        metadata={
            "dropped_share": dg.MetadataValue.float(round(share, 4)),
            "max_dropped_share": dg.MetadataValue.float(settings.max_dropped_share),
            "duplicates_counted": settings.count_duplicates,
            "dropped_share_with_duplicates": dg.MetadataValue.float(round(dropped_share(records_in, reasons, True), 4)),
            "records_in": records_in,
            "dropped_by_reason": dg.MetadataValue.json(dict(Counter(reason.split(":")[0] for reason in reasons))),
        },
    )


@dg.asset_check(
    asset="tokenized",
    blocking=True,
    description="Every tokenized record has at least one label that enters the loss (counted per record, also inside packed rows).",
)
def tokenized_has_targets(data_dir: DataDirResource) -> dg.AssetCheckResult:
    parts = datasets.load_from_disk(str(data_dir.layout.stage("tokenized")))
    empty = {name: records_without_targets(split) for name, split in parts.items()}
    count = sum(len(ids) for ids in empty.values())
    return dg.AssetCheckResult(
        passed=count == 0,
        metadata={
            "records_without_targets": count,
            "examples": dg.MetadataValue.json({k: v[:EXAMPLES] for k, v in empty.items()}),
        },
    )


@dg.asset_check(
    asset="tokenized",
    blocking=True,
    description="input_ids, attention_mask and labels have equal lengths; ids and labels (or -100) fit the model's vocabulary; the mask is 0/1.",
)
def tokenized_labels_valid(data_dir: DataDirResource) -> dg.AssetCheckResult:
    layout = data_dir.layout
    vocab_size = _vocab_size(layout)
    parts = datasets.load_from_disk(str(layout.stage("tokenized")))
    reports = {name: label_report(split, vocab_size) for name, split in parts.items()}
    faults = {name: {kind: len(ids) for kind, ids in report.faults.items()} for name, report in reports.items()}
    return dg.AssetCheckResult(
        passed=all(report.sane for report in reports.values()),
        metadata={
            "vocab_size": vocab_size,
            "rows_checked": sum(report.rows for report in reports.values()),
            "faulty_rows": dg.MetadataValue.json(faults),
            "examples": dg.MetadataValue.json(
                {
                    name: {kind: ids[:EXAMPLES] for kind, ids in report.faults.items() if ids}
                    for name, report in reports.items()
                }
            ),
        },
    )


@dg.asset_check(
    asset="checkpoint",
    description="Warns unless the learning curve reads well-fit; carries the diagnosis and its reasons.",
)
def checkpoint_is_well_fit(context: dg.AssetCheckExecutionContext) -> dg.AssetCheckResult:
    metadata = _latest_metadata(context, "checkpoint")
    verdict = metadata.get("diagnosis", "missing: no diagnosis in the checkpoint's metadata")
    return dg.AssetCheckResult(
        passed=verdict == "well-fit",
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "diagnosis": dg.MetadataValue.text(verdict),
            "diagnosis_reasons": dg.MetadataValue.md(metadata.get("diagnosis_reasons", "")),
            "best_step": dg.MetadataValue.text(str(metadata.get("best_step", "n/a"))),
        },
    )


@dg.asset_check(
    asset="evaluation",
    blocking=True,
    description="The tuned model's per-token validation loss is below its base model's, and below the promoted "
    "model's (scored on the same tokens when it has the same tokenizer), each by more than `min_improvement` "
    "(an evaluation setting) of it: only a better model goes on to promoted_model.",
)
def tuned_model_beats_base_and_promoted(data_dir: DataDirResource) -> dg.AssetCheckResult:
    report = json.loads((data_dir.layout.stage(EVALUATION_STAGE) / EVALUATION_REPORT).read_text(encoding="utf-8"))
    tuned, margin = report["tuned_loss"], report["min_improvement"]
    rivals = {"base": report["base_loss"]}
    if report.get("promoted_loss") is not None:
        rivals["promoted"] = report["promoted_loss"]
    lower_by = {name: (loss - tuned) / loss if loss else 0.0 for name, loss in rivals.items()}
    short = [name for name, share in lower_by.items() if not share > margin]
    verdict = "; ".join(f"{lower_by[name]:+.1%} against the {name} model ({rivals[name]:.4f})" for name in rivals) + (
        f": not more than {margin:.1%} lower than the {', '.join(short)} model" if short else ": better"
    )
    if report.get("promoted_skipped"):
        verdict += f" ({report['promoted_skipped']})"
    return dg.AssetCheckResult(
        passed=not short,
        metadata={
            "tuned_per_token_loss": dg.MetadataValue.float(tuned),
            "base_per_token_loss": dg.MetadataValue.float(report["base_loss"]),
            "promoted_per_token_loss": dg.MetadataValue.float(report["promoted_loss"])
            if report.get("promoted_loss") is not None
            else dg.MetadataValue.text("no promoted model scored"),
            "min_improvement": dg.MetadataValue.float(margin),
            "verdict": dg.MetadataValue.text(f"tuned {tuned:.4f}: {verdict}"),
        },
    )


asset_checks = [
    *balance_checks,
    plaintext_accounts_for_raw_files,
    splits_share_no_prompt,
    splits_share_no_near_duplicate,
    filtered_dropped_share_bounded,
    tokenized_has_targets,
    tokenized_labels_valid,
    checkpoint_is_well_fit,
    tuned_model_beats_base_and_promoted,
]
