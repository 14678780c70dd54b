"""base_model and tokenized: the model to fine-tune, and the splits in its tokens."""


from collections import Counter

import dagster as dg
from pydantic import Field

from llm_pipeline.defs.assets.plaintext import DATASET_GROUP
from llm_pipeline.defs.assets.splits import splits
from llm_pipeline.defs.metadata import balance_metadata, counts_markdown
from llm_pipeline.defs.resources import DataDirResource
from llm_pipeline.document import Rejection
from llm_pipeline.model_ref import read_model_ref, write_model_ref
from llm_pipeline.split import TRAIN
from llm_pipeline.stage_store import iter_records, load_records, save_dataset, save_rejections

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
def base_model(context: dg.AssetExecutionContext, config: BaseModelConfig, data_dir: DataDirResource) -> dg.MaterializeResult:
    layout = data_dir.layout
    if config.model_name_or_path:
        from transformers import AutoConfig, AutoTokenizer

        model_config = AutoConfig.from_pretrained(config.model_name_or_path)
        tokenizer = AutoTokenizer.from_pretrained(config.model_name_or_path)
        write_model_ref(layout.models, config.model_name_or_path, origin="configured")
        return dg.MaterializeResult(
            metadata={
                "model": dg.MetadataValue.text(config.model_name_or_path),
                "origin": dg.MetadataValue.text("configured"),
                "architecture": dg.MetadataValue.text(", ".join(model_config.architectures or [model_config.model_type])),
                "vocab_size": dg.MetadataValue.int(len(tokenizer)),
            }
        )

    from llm_pipeline.training.tiny_model import build_tiny_base_model

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
        metadata={
            "model": dg.MetadataValue.path(str(target)),
            "origin": dg.MetadataValue.text("tiny Llama built locally from the training split"),
            "vocab_size": dg.MetadataValue.int(len(AutoTokenizer.from_pretrained(target))),
            "hidden_size": dg.MetadataValue.int(model_config.hidden_size),
            "layers": dg.MetadataValue.int(model_config.num_hidden_layers),
        }
    )


class TokenizeConfig(dg.Config):
    max_length: int = Field(default=512, description="Tokens per record at most; longer records are truncated (and counted).")
    train_on_source: bool = Field(default=False, description="Also compute the loss on the prompt of supervised records.")
    prompt_template: str = Field(
        default="### Instruction:\n{input}\n\n### Response:\n",
        description="How a supervised record's input is shown to the model; `{input}` is replaced by the prompt.",
    )
    num_proc: int = Field(default=1, description="Worker processes for tokenization (datasets.map num_proc).")


@dg.asset(
    group_name=MODEL_GROUP,
    kinds={"huggingface", "arrow"},
    deps=[splits, base_model],
    description="Both splits as `input_ids`, `attention_mask`, `labels` (-100 on masked prompt tokens), EOS-terminated.",
)
def tokenized(context: dg.AssetExecutionContext, config: TokenizeConfig, data_dir: DataDirResource) -> dg.MaterializeResult:
    import datasets
    from transformers import AutoTokenizer

    from llm_pipeline.tokenize import TokenizeSettings, tokenize_splits

    layout = data_dir.layout
    source = datasets.load_from_disk(str(layout.stage("splits")))
    tokenizer = AutoTokenizer.from_pretrained(read_model_ref(layout.models))
    settings = TokenizeSettings(
        max_length=config.max_length,
        train_on_source=config.train_on_source,
        prompt_template=config.prompt_template,
        num_proc=config.num_proc,
    )
    result, report = tokenize_splits(source, tokenizer, settings)
    save_dataset(result, layout.stage(TOKENIZED_STAGE))
    dropped = [
        Rejection(stage=TOKENIZED_STAGE, reason=item.reason, source=item.source, record_id=item.id, detail=f"split {item.split}")
        for item in report.dropped
    ]
    save_rejections(dropped, layout.rejected(TOKENIZED_STAGE))
    records_in = sum(len(split) for split in source.values())
    kept = sum(len(split) for split in result.values())
    context.log.info(f"tokenized {kept} records; dropped {len(dropped)}")
    return dg.MaterializeResult(
        metadata={
            **balance_metadata(records_in, kept, len(dropped), 0),
            "path": dg.MetadataValue.path(str(layout.stage(TOKENIZED_STAGE))),
            "token_lengths": dg.MetadataValue.md(token_stats_markdown(report)),
            "dropped_by_reason": dg.MetadataValue.md(counts_markdown(Counter(r.reason for r in dropped))),
            "dagster/row_count": dg.MetadataValue.int(kept),
        }
    )


def token_stats_markdown(report) -> str:
    lines = ["| split | in | kept | truncated | dropped | min | mean | p95 | max |", "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for name, stats in report.splits.items():
        lines.append(
            f"| {name} | {stats.records_in} | {stats.kept} | {stats.truncated} | {stats.dropped_no_target} | "
            f"{stats.min_tokens} | {stats.mean_tokens:.1f} | {stats.p95_tokens:.0f} | {stats.max_tokens} |"
        )
    return "\n".join(lines)
