"""A model scored on tokenized rows (the exact per-token loss) and asked for greedy answers."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from llm_pipeline.training.collate import PackedCollator, PadCollator
from llm_pipeline.training.exact_eval import learned_tokens


@dataclass(frozen=True)
class TokenLoss:
    summed: float
    tokens: int

    @property
    def mean(self) -> float:
        return self.summed / self.tokens if self.tokens else math.nan

    @property
    def perplexity(self) -> float:
        return math.exp(self.mean) if self.tokens and self.mean < 700 else math.inf


def token_loss(model, rows, pad_token_id: int, batch_size: int) -> TokenLoss:
    """Summed loss over the learned tokens of `rows` (a tokenized split), divided once: the same
    number whatever the batch size, for any two models on the same rows."""
    import torch

    packed = "position_ids" in rows.column_names
    columns = ["input_ids", "position_ids" if packed else "attention_mask", "labels"]
    collate = (PackedCollator if packed else PadCollator)(pad_token_id)
    device = next(model.parameters()).device
    summed, tokens = 0.0, 0
    model.eval()
    with torch.no_grad():
        for start in range(0, len(rows), batch_size):
            part = rows.select_columns(columns).select(range(start, min(start + batch_size, len(rows))))
            batch = {name: tensor.to(device) for name, tensor in collate(part.to_list()).items()}
            count = int(learned_tokens(batch["labels"]))
            if count:
                summed += float(model(**batch).loss) * count  # the model's loss: the mean over these tokens
                tokens += count
    return TokenLoss(summed, tokens)


def greedy_answers(model, tokenizer, prompts: Sequence[Sequence[int]], max_new_tokens: int) -> list[str]:
    """Each prompt's (token ids') continuation by greedy decoding, without the prompt."""
    import torch

    device = next(model.parameters()).device
    answers = []
    model.eval()
    with torch.no_grad():
        for ids in prompts:
            prompt = torch.tensor([list(ids)], device=device)
            generated = model.generate(
                input_ids=prompt,
                attention_mask=torch.ones_like(prompt),
                max_new_tokens=max_new_tokens,
                do_sample=False,
                pad_token_id=tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id,
            )
            answers.append(tokenizer.decode(generated[0, prompt.shape[1] :], skip_special_tokens=True))
    return answers
