"""The evaluation's answers as markdown tables: for the asset's metadata and for the model card."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

CELL_CHARS = 160
"""Characters of a cell before it is cut (with an ellipsis): a table stays readable."""


def cell(text: str, chars: int = CELL_CHARS) -> str:
    """One line, cut at `chars`, pipes escaped; an empty text says so."""
    text = " ".join(text.split())
    return (text[:chars] + "…" if len(text) > chars else text).replace("|", "\\|") or "_(empty)_"


def generations_markdown(generations: Iterable, chars: int = CELL_CHARS) -> str:
    """Prompt, reference, base and tuned answers side by side (`run.Generation`)."""
    rows = [
        f"| {cell(g.prompt, chars)} | {cell(g.reference, chars)} | {cell(g.base, chars)} | {cell(g.tuned, chars)} |"
        for g in generations
    ]
    return "\n".join(["| prompt | reference | base | tuned |", "|---|---|---|---|", *rows]) if rows else "_none_"


def answers_markdown(answers: Sequence, limit: int = 20, chars: int = 120) -> str:
    """The first `limit` eval-file items (`answer_scores.ScoredAnswer`): prompt, expected, both answers,
    and each answer's token F1 (exact match shown as a check mark)."""

    def score(value) -> str:
        return f"{value.f1:.2f}{' ✓' if value.exact_match else ''}"

    rows = [
        f"| {a.line} | {cell(a.prompt, chars)} | {cell(a.expected, chars)} | {cell(a.base, chars)} | "
        f"{cell(a.tuned, chars)} | {score(a.base_score)} | {score(a.tuned_score)} |"
        for a in answers[:limit]
    ]
    table = [
        "| line | prompt | expected | base | tuned | base F1 | tuned F1 |",
        "|---:|---|---|---|---|---:|---:|",
        *rows,
    ]
    if len(answers) > limit:
        table.append(f"\n_The first {limit} of {len(answers)} items._")
    return "\n".join(table)
