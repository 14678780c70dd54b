"""The "## Evaluation" section of the promoted model's card (README.md), from the evaluation report.

The card itself is merge's (`training.merge.model_card`); promotion only adds, or replaces, this one
section: base against tuned per-token loss and perplexity, the improvement, the eval file's scores
when one was configured, the data versions evaluated and a few generations.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from llm_pipeline.stages.evaluation.answer_scores import AnswerScore, ScoredAnswer
from llm_pipeline.stages.evaluation.run import Generation
from llm_pipeline.stages.evaluation.tables import answers_markdown, generations_markdown

HEADING = "## Evaluation"
CARD_GENERATIONS = 3
CARD_ANSWERS = 5
_SECTION = re.compile(rf"^{re.escape(HEADING)}\n.*?(?=^## |\Z)", re.MULTILINE | re.DOTALL)


def with_evaluation(card: str, section: str) -> str:
    """`card` with its evaluation section replaced by `section`, or `section` appended."""
    if _SECTION.search(card):
        return _SECTION.sub(lambda _: section.rstrip("\n") + "\n\n", card, count=1)
    return card.rstrip("\n") + "\n\n" + section.rstrip("\n") + "\n"


def evaluation_section(report: Mapping[str, Any], generations: Sequence[Mapping[str, str]]) -> str:
    """The section for `report` (evaluation.json) and its generations (generations.jsonl rows)."""
    base, tuned = report["base_loss"], report["tuned_loss"]
    rows = [
        "| | base | tuned | tuned − base |",
        "|---|---:|---:|---:|",
        f"| per-token validation loss | {base:.4f} | {tuned:.4f} | {tuned - base:+.4f} |",
        f"| perplexity | {report['base_perplexity']:.2f} | {report['tuned_perplexity']:.2f} | "
        f"{report['tuned_perplexity'] - report['base_perplexity']:+.2f} |",
    ]
    scores = report.get("eval_file")
    if scores:
        for metric, name in (("exact_match", "exact match"), ("f1", "token F1")):
            rows.append(
                f"| {name} (eval file) | {scores['base'][metric]:.3f} | {scores['tuned'][metric]:.3f} | "
                f"{scores['delta'][metric]:+.3f} |"
            )
    lines = [
        HEADING,
        "",
        f"Scored by `llm_pipeline` against the base model `{report['base_model']}` on the same "
        f"{report['rows']:,} validation rows ({report['tokens']:,} learned tokens; the loss is the exact "
        f"per-token mean). The tuned model's loss is **{report['improvement']:.1%} lower**.",
        "",
        *rows,
        "",
    ]
    if report.get("promoted_loss") is not None:
        lines += [f"It replaced a promoted model whose loss on the same tokens was {report['promoted_loss']:.4f}.", ""]
    if scores:
        bad = len(scores["bad_lines"])
        lines += [
            f"Eval file `{scores['name']}` (sha256 `{scores['sha256'][:16]}`): {scores['items']} items"
            + (f", {bad} bad line{'s' if bad != 1 else ''} not scored" if bad else "")
            + "; exact match after stripping, case folding, collapsing whitespace and dropping punctuation at "
            "either end; token F1 over the bag of words (SQuAD-style).",
            "",
            answers_markdown([_scored(answer) for answer in scores["answers"]], limit=CARD_ANSWERS),
            "",
        ]
    versions = report.get("data_versions") or {}
    lines += [
        "### Data versions evaluated",
        "",
        "| asset | data version |",
        "|---|---|",
        *[f"| {name} | `{version}` |" for name, version in versions.items()],
        *([f"| eval file | `sha256:{scores['sha256']}` |"] if scores else []),
        "",
        "### Generations",
        "",
        "Greedy answers of both models to the same prompts:",
        "",
        generations_markdown([Generation(**row) for row in generations[:CARD_GENERATIONS]]),
        "",
    ]
    return "\n".join(lines)


def _scored(answer: Mapping[str, Any]) -> ScoredAnswer:
    return ScoredAnswer(
        answer["line"],
        answer["prompt"],
        answer["expected"],
        answer["base"],
        answer["tuned"],
        AnswerScore(**answer["base_score"]),
        AnswerScore(**answer["tuned_score"]),
    )
