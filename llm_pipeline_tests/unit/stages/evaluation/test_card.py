"""The model card's Evaluation section: written from the report, added once, replaced on the next promotion."""

from llm_pipeline.stages.evaluation.card import evaluation_section, with_evaluation
from llm_pipeline.training.merge import model_card

GENERATIONS = [
    {"prompt": f"Question {i}?", "reference": f"Answer {i}.", "base": "noise", "tuned": f"Answer {i}."}
    for i in range(5)
]


def report(tuned_loss=6.0, eval_file=True) -> dict:
    scored = {
        "name": "eval/mine.jsonl",
        "path": "/data/eval/mine.jsonl",
        "sha256": "ab" * 32,
        "items": 2,
        "bad_lines": [{"line": 3, "reason": "query is empty"}],
        "base": {"exact_match": 0.0, "f1": 0.25},
        "tuned": {"exact_match": 0.5, "f1": 0.75},
        "delta": {"exact_match": 0.5, "f1": 0.5},
        "answers": [
            {
                "line": 1,
                "prompt": "Capital of France?",
                "expected": "Paris",
                "base": "London",
                "tuned": "Paris.",
                "base_score": {"exact_match": 0.0, "f1": 0.0},
                "tuned_score": {"exact_match": 1.0, "f1": 1.0},
            }
        ],
    }
    return {
        "base_model": "org/base",
        "rows": 12,
        "tokens": 345,
        "base_loss": 8.0,
        "tuned_loss": tuned_loss,
        "base_perplexity": 2980.96,
        "tuned_perplexity": 403.43,
        "improvement": (8.0 - tuned_loss) / 8.0,
        "promoted_loss": None,
        "data_versions": {"splits": "s1", "tokenized": "t1", "merged_model": "m1"},
        "eval_file": scored if eval_file else None,
    }


def card() -> str:
    return model_card(
        base_model="org/base", method="lora", how="merged adapter", data_versions={"checkpoint": "c1"},
        training_config={"method": "lora"}, summary={"final_eval_loss": 6.0}, diagnosis="well-fit",
    )  # fmt: skip


def test_the_section_holds_losses_scores_data_versions_and_a_few_generations():
    section = evaluation_section(report(), GENERATIONS)
    assert section.startswith("## Evaluation\n")
    assert "| per-token validation loss | 8.0000 | 6.0000 | -2.0000 |" in section
    assert "| perplexity | 2980.96 | 403.43 | -2577.53 |" in section
    assert "**25.0% lower**" in section
    assert "| exact match (eval file) | 0.000 | 0.500 | +0.500 |" in section
    assert "| token F1 (eval file) | 0.250 | 0.750 | +0.500 |" in section
    assert (
        "Eval file `eval/mine.jsonl`" in section
        and "2 items, 1 bad line not scored" in section
        and "| 1 | Capital of France? | Paris | London | Paris. |" in section
    )
    assert "| splits | `s1` |" in section and "| merged_model | `m1` |" in section
    assert f"| eval file | `sha256:{'ab' * 32}` |" in section
    assert "| Question 2? |" in section and "Question 3?" not in section  # three generations
    assert "eval file" not in evaluation_section(report(eval_file=False), GENERATIONS)


def test_the_section_is_added_to_merges_card_once_and_replaced_in_place():
    original = card()
    first = with_evaluation(original, evaluation_section(report(), GENERATIONS))
    assert first.startswith(original.rstrip("\n")) and first.count("## Evaluation") == 1
    again = with_evaluation(first, evaluation_section(report(tuned_loss=5.0), GENERATIONS))
    assert again.count("## Evaluation") == 1 and "| 8.0000 | 5.0000 |" in again and "| 8.0000 | 6.0000 |" not in again
    # A section in the middle of a card is replaced where it stands; what follows it stays.
    middle = "# Card\n\n## Evaluation\n\nold\n\n## Use\n\nload it\n"
    replaced = with_evaluation(middle, "## Evaluation\n\nnew\n")
    assert replaced == "# Card\n\n## Evaluation\n\nnew\n\n## Use\n\nload it\n"
