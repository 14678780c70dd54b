"""base_model and tokenized: the model to fine-tune, and the splits in its tokens."""

import json
from collections import Counter

import dagster as dg
from pydantic import Field

from llm_pipeline.defs.assets.splits import splits
from llm_pipeline.defs.metadata import balance_metadata, counts_markdown
from llm_pipeline.defs.resources import DataDirResource
from llm_pipeline.records import Rejection
from llm_pipeline.stages.base_model.reference import model_version, read_model_ref, write_model_ref
from llm_pipeline.stages.splits.assign import TRAIN
from llm_pipeline.stages.tokenized.version import FORMAT_VERSION as TOKENIZE_FORMAT_VERSION
from llm_pipeline.storage.atomic import atomic_dir
from llm_pipeline.storage.stage_output import iter_records, load_records, save_rejections

MODEL_GROUP = "model"
TOKENIZED_STAGE = "tokenized"


class BaseModelConfig(dg.Config):
    model_name_or_path: str = Field(
        default="",
        description="Hugging Face model id (e.g. `meta-llama/Llama-3.2-1B`) or local directory. Empty: a tiny Llama "
        "and a byte-level BPE tokenizer are built locally from the training split (no download, runs on CPU).",
    )
    tiny_vocab_size: int = Field(default=2048, description="Tokenizer vocabulary of the locally built tiny model.")
    tiny_hidden_size: int = Field(default=64, description="Hidden width of the locally built tiny model.")
    tiny_layers: int = Field(default=2, description="Transformer layers of the locally built tiny model.")
    tiny_heads: int = Field(default=4, description="Attention heads of the locally built tiny model.")
    seed: int = Field(default=0, description="Seed of the tiny model's initial weights and tokenizer.")


@dg.asset(
    group_name=MODEL_GROUP,
    kinds={"huggingface", "pytorch"},
    deps=[splits],
    description="The base causal LM and tokenizer: a configured model id / path, or a tiny model built locally.",
)
def base_model(
    context: dg.AssetExecutionContext, config: BaseModelConfig, data_dir: DataDirResource
) -> dg.MaterializeResult:
    layout = data_dir.layout
    if config.model_name_or_path:
        from transformers import AutoConfig, AutoTokenizer

        model_config = AutoConfig.from_pretrained(config.model_name_or_path)
        tokenizer = AutoTokenizer.from_pretrained(config.model_name_or_path)
        write_model_ref(layout.models, config.model_name_or_path, origin="configured")
        version = model_version(config.model_name_or_path, getattr(model_config, "_commit_hash", None) or "")
        return dg.MaterializeResult(
            data_version=dg.DataVersion(version),
            metadata={
                "model": dg.MetadataValue.text(config.model_name_or_path),
                "origin": dg.MetadataValue.text("configured"),
                "architecture": dg.MetadataValue.text(
                    ", ".join(model_config.architectures or [model_config.model_type])
                ),
                "vocab_size": dg.MetadataValue.int(len(tokenizer)),
            },
        )

    from llm_pipeline.stages.base_model.tiny import build_tiny_base_model

    train = load_records(layout.stage("splits") / TRAIN)
    texts = [record.content for record in iter_records(train)]
    target = layout.models / "base"
    context.log.info(f"building a tiny Llama and a BPE tokenizer from {len(texts)} training records")
    build_tiny_base_model(
        texts,
        target,
        vocab_size=config.tiny_vocab_size,
        hidden_size=config.tiny_hidden_size,
        num_layers=config.tiny_layers,
        num_heads=config.tiny_heads,
        seed=config.seed,
    )
    write_model_ref(layout.models, str(target), origin="tiny, built locally")
    from transformers import AutoConfig, AutoTokenizer

    model_config = AutoConfig.from_pretrained(target)
    return dg.MaterializeResult(
        # Same training split and settings, same tiny model: the checkpoint need not follow.
        data_version=dg.DataVersion(model_version(str(target))),
        metadata={
            "model": dg.MetadataValue.path(str(target)),
            "origin": dg.MetadataValue.text("tiny Llama built locally from the training split"),
            "vocab_size": dg.MetadataValue.int(len(AutoTokenizer.from_pretrained(target))),
            "hidden_size": dg.MetadataValue.int(model_config.hidden_size),
            "layers": dg.MetadataValue.int(model_config.num_hidden_layers),
        },
    )


class TokenizeConfig(dg.Config):
    max_length: int = Field(
        default=512,
        description="Tokens per row. Packed: rows hold up to this many tokens of several records. Unpacked: longer "
        "records are truncated or dropped (see `overlength`), and counted.",
    )
    packing: bool = Field(
        default=True,
        description="Pack records into rows of `max_length` tokens (texts concatenated and cut into blocks, "
        "supervised records whole); records never attend to each other. False: one record per row, padded per batch.",
    )
    train_on_source: bool = Field(
        default=False, description="Also compute the loss on the prompt of supervised records."
    )
    prompt_template: str = Field(
        default="### Instruction:\n{input}\n\n### Response:\n",
        description="How a supervised record's input is shown to the model; `{input}` is replaced by the prompt.",
    )
    source_max_len: int = Field(
        default=0,
        description="Most tokens of a supervised prompt (template included); 0 = only `max_length` limits it.",
    )
    target_max_len: int = Field(
        default=0, description="Most tokens of a supervised response, EOS included; 0 = only `max_length` limits it."
    )
    overlength: str = Field(
        default="truncate",
        description="A record over a limit: `truncate` (the prompt keeps its end, the response its beginning; "
        "counted) or `drop` (quarantined with the reason).",
    )
    num_proc: int = Field(default=1, description="Worker processes for tokenization (datasets.map num_proc).")


@dg.asset(
    group_name=MODEL_GROUP,
    kinds={"huggingface", "arrow"},
    deps=[splits, base_model],
    code_version=TOKENIZE_FORMAT_VERSION,
    description="Both splits as `input_ids`, `labels` (-100 on masked prompt tokens) and, packed, `position_ids`; "
    "EOS-terminated. Rebuilt only when the split, the tokenizer or this config changed.",
)
def tokenized(
    context: dg.AssetExecutionContext, config: TokenizeConfig, data_dir: DataDirResource
) -> dg.MaterializeResult:
    import datasets
    from transformers import AutoTokenizer

    from llm_pipeline.stages.tokenized.encode import encoding_cache
    from llm_pipeline.stages.tokenized.run import REPORT_FILE, tokenize_splits
    from llm_pipeline.stages.tokenized.settings import TokenizeSettings
    from llm_pipeline.stages.tokenized.version import tokenized_data_version
    from llm_pipeline.token_rows import DATA_VERSION_FILE

    layout = data_dir.layout
    splits_path = layout.stage("splits")
    target = layout.stage(TOKENIZED_STAGE)
    tokenizer = AutoTokenizer.from_pretrained(read_model_ref(layout.models))
    settings = TokenizeSettings(
        max_length=config.max_length,
        train_on_source=config.train_on_source,
        prompt_template=config.prompt_template,
        num_proc=config.num_proc,
        packing=config.packing,
        source_max_len=config.source_max_len,
        target_max_len=config.target_max_len,
        overlength=config.overlength,
    )
    version = tokenized_data_version(splits_path, tokenizer, settings)
    stamp = target / DATA_VERSION_FILE
    reused = stamp.is_file() and stamp.read_text().strip() == version and (target / REPORT_FILE).is_file()
    encoded, from_cache = 0, 0
    if reused:
        context.log.info(f"split, tokenizer and config unchanged (version {version[:12]}): keeping {target}")
        report = json.loads((target / REPORT_FILE).read_text())
    else:
        source = datasets.load_from_disk(str(splits_path))
        cache = encoding_cache(layout.cache(TOKENIZED_STAGE), tokenizer, settings)
        result, tokenize_report = tokenize_splits(source, tokenizer, settings, cache=cache)  # saves the cache too
        encoded, from_cache = cache.misses, cache.hits
        context.log.info(f"{encoded} records encoded, {from_cache} unchanged ones read from the cache")
        report = tokenize_report.to_dict()
        with atomic_dir(target) as staging:
            result.save_to_disk(str(staging))
            (staging / REPORT_FILE).write_text(json.dumps(report, indent=2) + "\n")
            (staging / DATA_VERSION_FILE).write_text(version + "\n")
        dropped = [
            Rejection(
                stage=TOKENIZED_STAGE,
                reason=item["reason"],
                source=item["source"],
                record_id=item["id"],
                detail=f"split {item['split']}",
            )
            for item in report["dropped"]
        ]
        save_rejections(dropped, layout.rejected(TOKENIZED_STAGE))
    stats = report["splits"]
    records_in = sum(split["records_in"] for split in stats.values())
    kept = sum(split["kept"] for split in stats.values())
    rows = sum(split["rows"] for split in stats.values())
    context.log.info(f"tokenized {kept} records into {rows} rows; dropped {records_in - kept}")
    return dg.MaterializeResult(
        data_version=dg.DataVersion(version),
        metadata={
            **balance_metadata(records_in, kept, records_in - kept, 0),
            "path": dg.MetadataValue.path(str(target)),
            "data_version": dg.MetadataValue.text(version),
            "reused": dg.MetadataValue.bool(reused),
            "records_encoded": dg.MetadataValue.int(encoded),
            "encodings_from_cache": dg.MetadataValue.int(from_cache),
            "packing": dg.MetadataValue.bool(config.packing),
            "rows": dg.MetadataValue.int(rows),
            "pad_fraction": dg.MetadataValue.float(stats["train"]["pad_fraction"] if "train" in stats else 0.0),
            "token_stats": dg.MetadataValue.md(token_stats_markdown(stats)),
            "length_histogram": dg.MetadataValue.md(length_histogram_markdown(stats)),
            "dropped_by_reason": dg.MetadataValue.md(
                counts_markdown(Counter(item["reason"] for item in report["dropped"]))
            ),
            "dagster/row_count": dg.MetadataValue.int(rows),
        },
    )


def token_stats_markdown(stats: dict[str, dict]) -> str:
    lines = [
        "| split | in | kept | truncated | dropped (too long) | dropped (no target) | rows | tokens | target tokens "
        "| pad at max_length | min | mean | p95 | max |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, s in stats.items():
        lines.append(
            f"| {name} | {s['records_in']} | {s['kept']} | {s['truncated']} | {s['dropped_too_long']} | "
            f"{s['dropped_no_target']} | {s['rows']} | {s['tokens']} | {s['target_tokens']} | {s['pad_fraction']:.1%} | "
            f"{s['min_tokens']} | {s['mean_tokens']:.1f} | {s['p95_tokens']:.0f} | {s['max_tokens']} |"
        )
    return "\n".join(lines)


def length_histogram_markdown(stats: dict[str, dict]) -> str:
    """Records per length bucket (tokens before any cut), one column per split."""
    names = list(stats)
    buckets = list(dict.fromkeys(bucket for s in stats.values() for bucket, _ in s["length_histogram"]))
    counts = {name: dict((bucket, count) for bucket, count in stats[name]["length_histogram"]) for name in names}
    lines = ["| tokens | " + " | ".join(names) + " |", "|---:|" + "---:|" * len(names)]
    for bucket in buckets:
        lines.append(f"| {bucket} | " + " | ".join(str(counts[name].get(bucket, 0)) for name in names) + " |")
    return "\n".join(lines)
