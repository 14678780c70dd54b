"""Export: one standalone model folder a user can load without peft, with a model card.

A LoRA or QLoRA run saves an adapter; here it is merged into the base weights
(`merge_and_unload`) and saved with `save_pretrained`. A QLoRA adapter is merged into the base
in its original precision, not into the 4-bit copy it was trained against: the usual practice,
and the only way to get a model without bitsandbytes layers. A full fine-tune already is a
model; its files are linked (or copied across file systems) into the export folder.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from llm_pipeline.storage.atomic import atomic_dir

ADAPTER_CONFIG = "adapter_config.json"
MODEL_CARD = "README.md"
# Metrics of the training summary that the card shows, in this order.
CARD_METRICS = (
    "final_train_loss",
    "final_eval_loss",
    "global_steps",
    "trainable_params",
    "total_params",
    "peak_memory_mb",
)


def export_model(final_dir: Path, base_model: str, out_dir: Path, card: str, trust_remote_code: bool = False) -> str:
    """Write the merged (or linked) model, its tokenizer and `card` as README.md to `out_dir`, atomically.

    Returns how the model was produced: "merged adapter" or "full fine-tune".
    """
    final_dir, out_dir = Path(final_dir), Path(out_dir)
    with atomic_dir(out_dir) as staging:
        if (final_dir / ADAPTER_CONFIG).is_file():
            _merge_adapter(final_dir, base_model, staging, trust_remote_code)
            how = "merged adapter"
        else:
            link_tree(final_dir, staging)
            how = "full fine-tune"
        (staging / MODEL_CARD).unlink(
            missing_ok=True
        )  # a link to the checkpoint's own file must not be written through
        (staging / MODEL_CARD).write_text(card, encoding="utf-8")
    return how


def _merge_adapter(adapter_dir: Path, base_model: str, out_dir: Path, trust_remote_code: bool) -> None:
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from llm_pipeline.training.finite import require_finite_parameters

    base = AutoModelForCausalLM.from_pretrained(base_model, dtype="auto", trust_remote_code=trust_remote_code)
    merged = PeftModel.from_pretrained(base, str(adapter_dir)).merge_and_unload()
    require_finite_parameters(merged, "the merged model")
    merged.config.use_cache = True  # training turned the KV cache off; generation wants it
    merged.save_pretrained(str(out_dir))
    AutoTokenizer.from_pretrained(str(adapter_dir), trust_remote_code=trust_remote_code).save_pretrained(str(out_dir))


def link_tree(source: Path, target: Path) -> None:
    """Hard-link every file of `source` into `target` (no copy of the weights); copy where links fail."""
    for path in source.rglob("*"):
        destination = target / path.relative_to(source)
        if path.is_dir():
            destination.mkdir(parents=True, exist_ok=True)
            continue
        destination.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(path, destination)
        except OSError:
            shutil.copy2(path, destination)


def model_card(
    *,
    base_model: str,
    method: str,
    how: str,
    data_versions: Mapping[str, str],
    training_config: Mapping[str, Any],
    summary: Mapping[str, Any],
    diagnosis: str,
    chat_template: str | None = None,
    chat_example: str = "",
    learn: str = "",
) -> str:
    """A README.md that says what the model is, what it was trained on (data versions), how to
    prompt it as training did (the chat template, an example rendered through it, the masking), and
    how well it did."""
    lines = [
        "---",
        "library_name: transformers",
        f"base_model: {base_model}",
        "pipeline_tag: text-generation",
        "---",
        "",
        f"# Fine-tuned {Path(base_model).name}",
        "",
        f"A causal language model fine-tuned by `llm_pipeline` with **{method}** ({how}) from `{base_model}`.",
        "",
        "## Data versions",
        "",
        "| asset | data version |",
        "|---|---|",
        *[f"| {name} | `{version}` |" for name, version in data_versions.items()],
        "",
        "## Final metrics",
        "",
        "| metric | value |",
        "|---|---:|",
        *[f"| {name} | {_format(summary[name])} |" for name in CARD_METRICS if name in summary],
        f"| diagnosis | {diagnosis} |",
        "",
        "## Training config",
        "",
        "```json",
        json.dumps(dict(training_config), indent=2, sort_keys=True),
        "```",
        "",
        *_prompt_format(chat_template, chat_example, learn),
        "## Use",
        "",
        "```python",
        "from transformers import AutoModelForCausalLM, AutoTokenizer",
        "",
        'model = AutoModelForCausalLM.from_pretrained("<this folder>")',
        'tokenizer = AutoTokenizer.from_pretrained("<this folder>")',
        "```",
        "",
    ]
    return "\n".join(lines)


# What each `learn` option of the tokenized stage put into the loss, for the card.
LEARNED = {
    "assistant_turns": "every assistant turn, with its end-of-turn marker, entered the loss; system and user "
    "turns and the template's role headers were masked",
    "last_assistant_turn": "only the last assistant turn of each conversation, with its end-of-turn marker, "
    "entered the loss; everything before it was masked",
    "everything": "every token of the rendered conversation entered the loss, prompts included",
}


def _prompt_format(template: str | None, example: str, learn: str) -> list[str]:
    if template is None:
        return []
    lines = [
        "## Prompt format",
        "",
        "Supervised and chat records were rendered with this chat template, which is saved with the tokenizer: "
        "`tokenizer.apply_chat_template(messages)` gives the tokens training saw, and "
        "`apply_chat_template(messages, add_generation_prompt=True)` the prompt for a reply. Plain texts were "
        "trained as they are, closed by EOS.",
        "",
        "```jinja",
        template,
        "```",
        "",
    ]
    if example:
        lines += ["A conversation as rendered:", "", "```text", example, "```", ""]
    if learn:
        lines += [f"Masking (`learn: {learn}`): {LEARNED.get(learn, learn)}.", ""]
    return lines


def _format(value: Any) -> str:
    return f"{value:.4f}" if isinstance(value, float) else str(value)
