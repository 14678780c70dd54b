"""The merged (tuned) model against its base on the validation split: the stage's work.

Both models see the same tokenized validation rows, and the loss of each is the exact per-token
mean (summed over the learned tokens, divided once: `scoring.token_loss`), so the two numbers
compare and do not move with the batch size. Both answer the same prompts by greedy decoding:
a few validation prompts with their reference answers, any configured ones, and the prompts of
the user's eval file, scored against its expected answers (exact match, token F1); every prompt
is written through the tuned model's chat template (`prompting`). One model is in memory at a time. The report
and the generations are written to `evaluation/` whole or not at all.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path

from llm_pipeline.stages.base_model.reference import model_ref_trusts_code, read_model_ref
from llm_pipeline.stages.evaluation.answer_scores import AnswerScores, score_answers
from llm_pipeline.stages.evaluation.eval_file import EvalFile, read_eval_file
from llm_pipeline.stages.evaluation.prompting import Prompt, record_prompt, user_prompt
from llm_pipeline.stages.evaluation.scoring import TokenLoss, greedy_answers, token_loss
from llm_pipeline.stages.evaluation.settings import EvaluationSettings
from llm_pipeline.stages.splits.assign import VALIDATION
from llm_pipeline.storage.atomic import atomic_dir
from llm_pipeline.storage.fingerprint import weights_digest
from llm_pipeline.storage.layout import DataLayout
from llm_pipeline.storage.stage_output import iter_records, load_records

STAGE = "evaluation"
TUNED_DIR = "merged"
"""The folder under models/ that holds the tuned model (merged_model's output)."""
PROMOTED_DIR = "promoted"
"""The folder under models/ that holds the promoted model (promoted_model's output)."""
# The files that make two tokenizers the same one: the same ids for the same text.
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "tokenizer.model")
REPORT_FILE = "evaluation.json"
GENERATIONS_FILE = "generations.jsonl"
PROMOTION_FILE = "promotion.json"
"""In models/promoted/: the evaluation report the promotion rests on."""
# An unsupervised validation text is cut into a prompt and the text that follows it.


@dataclass(frozen=True)
class Generation:
    prompt: str
    reference: str
    base: str
    tuned: str


@dataclass
class EvaluationResult:
    output: Path
    base_model: str
    tuned_model: str
    base: TokenLoss
    tuned: TokenLoss
    rows: int
    generations: list[Generation]
    promoted: TokenLoss | None = None  # the promoted model on the same rows, when its tokenizer is the same
    promoted_skipped: str = ""  # why the promoted model was not scored, when one exists
    tuned_weights: str = ""  # digest of the scored model's weight files
    eval_file: EvalFile | None = None  # the user's eval file, when one is configured
    answer_scores: AnswerScores | None = None  # its items, answered by both models and scored
    data_versions: Mapping[str, str] = field(default_factory=dict)  # of the inputs evaluated

    @property
    def improvement(self) -> float:
        """How much lower the tuned per-token loss is, as a share of the base one."""
        return (self.base.mean - self.tuned.mean) / self.base.mean if self.base.mean else 0.0


def run(
    layout: DataLayout,
    settings: EvaluationSettings | None = None,
    log: Callable[[str], None] = lambda message: None,
    data_versions: Mapping[str, str] | None = None,
) -> EvaluationResult:
    """`data_versions`: of the inputs (splits, tokenized, merged_model), recorded in the report."""
    import datasets
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    settings = settings or EvaluationSettings()
    base_name, trust = read_model_ref(layout.models), model_ref_trusts_code(layout.models)
    tuned_dir = layout.models / TUNED_DIR
    if not (tuned_dir / "config.json").is_file():
        raise FileNotFoundError(f"{tuned_dir} holds no model: materialize merged_model first")
    tokenizer = AutoTokenizer.from_pretrained(tuned_dir, trust_remote_code=trust)
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    rows = datasets.load_from_disk(str(layout.stage("tokenized")))[VALIDATION]
    if settings.max_rows:
        rows = rows.select(range(min(settings.max_rows, len(rows))))
    prompts = prompts_to_answer(layout, settings, tokenizer)
    # Read before any model is loaded: a bad setting fails in a second, not after the loss.
    eval_file = read_eval_file(layout, settings.eval_file) if settings.eval_file else None
    asked = [prompt.ids for prompt in prompts]
    asked += [user_prompt(tokenizer, item.prompt).ids for item in (eval_file.items if eval_file else [])]
    if eval_file:
        bad = "".join(f"; line {b.line}: {b.reason}" for b in eval_file.bad_lines)
        log(f"eval file {eval_file.path}: {len(eval_file.items)} items, {len(eval_file.bad_lines)} bad lines{bad}")
    device = "cuda" if torch.cuda.is_available() else "cpu"

    promoted_dir = layout.models / PROMOTED_DIR
    promoted_skipped = ""
    candidates = [("base", base_name), ("tuned", str(tuned_dir))]
    tuned_weights = weights_digest(tuned_dir)
    if (promoted_dir / "config.json").is_file():
        if promoted_weights(promoted_dir) == tuned_weights:  # a run over unchanged inputs: nothing to beat
            promoted_skipped = f"the merged model is the one promoted in {promoted_dir}"
        elif same_tokenizer(promoted_dir, tuned_dir):
            candidates.append(("promoted", str(promoted_dir)))
        else:  # other token ids: a loss on these rows would not mean the same
            promoted_skipped = f"{promoted_dir} has another tokenizer: its loss on these tokens says nothing"
        if promoted_skipped:
            log(promoted_skipped)

    scored: dict[str, tuple[TokenLoss, list[str]]] = {}
    for role, name in candidates:
        model = AutoModelForCausalLM.from_pretrained(name, dtype="auto", trust_remote_code=trust).to(device)
        loss = token_loss(model, rows, pad_id, settings.batch_size)
        log(f"{role} model {name}: per-token validation loss {loss.mean:.4f} over {loss.tokens:,} tokens")
        scored[role] = (
            loss,
            [] if role == "promoted" else greedy_answers(model, tokenizer, asked, settings.max_new_tokens),
        )
        del model  # one model in memory at a time

    # The answers to `prompts` first, then the eval file's.
    (base_answers, base_eval), (tuned_answers, tuned_eval) = (
        (scored[role][1][: len(prompts)], scored[role][1][len(prompts) :]) for role in ("base", "tuned")
    )
    generations = [
        Generation(prompt.shown, prompt.reference, base, tuned)
        for prompt, base, tuned in zip(prompts, base_answers, tuned_answers, strict=True)
    ]
    answer_scores = score_answers(eval_file.items, base_eval, tuned_eval) if eval_file else None
    result = EvaluationResult(
        layout.stage(STAGE),
        base_name,
        str(tuned_dir),
        scored["base"][0],
        scored["tuned"][0],
        len(rows),
        generations,
        promoted=scored["promoted"][0] if "promoted" in scored else None,
        promoted_skipped=promoted_skipped,
        tuned_weights=tuned_weights,
        eval_file=eval_file,
        answer_scores=answer_scores,
        data_versions=dict(data_versions or {}),
    )
    with atomic_dir(result.output) as staging:
        report = {**report_of(result), "min_improvement": settings.min_improvement}
        (staging / REPORT_FILE).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        with (staging / GENERATIONS_FILE).open("w", encoding="utf-8") as handle:
            handle.writelines(json.dumps(asdict(generation)) + "\n" for generation in generations)
    return result


def prompts_to_answer(layout: DataLayout, settings: EvaluationSettings, tokenizer) -> list[Prompt]:
    """The first validation records as prompts with their references, then the configured prompts,
    written through the tuned model's chat template (`prompting`)."""
    prompts = []
    if settings.validation_prompts:
        for record in iter_records(load_records(layout.stage("splits") / VALIDATION)):
            if len(prompts) == settings.validation_prompts:
                break
            prompts.append(record_prompt(tokenizer, record))
    return prompts + [user_prompt(tokenizer, prompt) for prompt in settings.prompts]


def promoted_weights(promoted_dir: Path) -> str:
    """The weights digest the promoted model was evaluated with (in its promotion report)."""
    try:
        return str(json.loads((promoted_dir / PROMOTION_FILE).read_text(encoding="utf-8"))["tuned_weights"])
    except (OSError, ValueError, KeyError):
        return ""


def same_tokenizer(first: Path, second: Path) -> bool:
    """Whether two model folders hold the same tokenizer files (byte for byte)."""
    for name in TOKENIZER_FILES:
        one, other = first / name, second / name
        if one.is_file() != other.is_file() or (one.is_file() and one.read_bytes() != other.read_bytes()):
            return False
    return True


def report_of(result: EvaluationResult) -> dict:
    return {
        "base_model": result.base_model,
        "tuned_model": result.tuned_model,
        "rows": result.rows,
        "tokens": result.tuned.tokens,
        "base_loss": result.base.mean,
        "tuned_loss": result.tuned.mean,
        "base_perplexity": result.base.perplexity,
        "tuned_perplexity": result.tuned.perplexity,
        "improvement": result.improvement,
        "tuned_weights": result.tuned_weights,  # what promotion checks it copies
        "promoted_loss": result.promoted.mean if result.promoted else None,
        "promoted_skipped": result.promoted_skipped,
        "data_versions": dict(result.data_versions),
        "eval_file": eval_file_report(result.eval_file, result.answer_scores),
    }


def eval_file_report(eval_file: EvalFile | None, scores: AnswerScores | None) -> dict | None:
    """The eval file's version, its bad lines, the means and deltas, and every item's answers and scores."""
    if eval_file is None or scores is None:
        return None
    return {
        "name": eval_file.name,
        "path": str(eval_file.path),
        "sha256": eval_file.sha256,
        "items": len(scores.answers),
        "bad_lines": [asdict(bad) for bad in eval_file.bad_lines],
        **scores.summary(),
        "answers": [
            {
                "line": answer.line,
                "prompt": answer.prompt,
                "expected": answer.expected,
                "base": answer.base,
                "tuned": answer.tuned,
                "base_score": asdict(answer.base_score),
                "tuned_score": asdict(answer.tuned_score),
            }
            for answer in scores.answers
        ],
    }
