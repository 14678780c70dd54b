"""Exact match and token F1 of an answer against the expected one, and their means."""

import pytest

from llm_pipeline.stages.evaluation.answer_scores import normalize_answer, score_answers, token_f1
from llm_pipeline.stages.evaluation.eval_file import EvalItem


@pytest.mark.parametrize(
    ("text", "normalized"),
    [
        ("  Paris.  ", "paris"),
        ("PARIS", "paris"),
        ("«Paris»!", "paris"),
        ("Paris,\n  France", "paris, france"),  # punctuation inside stays
        ("3.14", "3.14"),
        ("...", ""),
    ],
)
def test_an_answer_is_normalized_by_strip_casefold_whitespace_and_edge_punctuation(text, normalized):
    assert normalize_answer(text) == normalized


def test_token_f1_is_the_bag_of_words_overlap():
    assert token_f1("Paris is the capital", "the capital is Paris.") == 1.0
    # 2 shared words of 3 predicted and 4 expected: precision 2/3, recall 1/2.
    assert token_f1("bees make honey", "bees and wasps make") == pytest.approx(2 * (2 / 3) * (1 / 2) / (2 / 3 + 1 / 2))
    assert token_f1("honey honey honey", "honey") == pytest.approx(0.5)  # a word counts as often as both hold it
    assert token_f1("nothing shared", "at all") == 0.0
    assert token_f1("", "") == 1.0 and token_f1("", "Paris") == 0.0


def test_answers_are_scored_per_item_and_averaged_with_deltas():
    items = [EvalItem(1, "Capital of France?", "Paris"), EvalItem(3, "Bees make?", "honey and wax")]
    scores = score_answers(items, base=["London", "honey"], tuned=["Paris.", "Honey and wax"])
    assert [a.tuned_score.exact_match for a in scores.answers] == [1.0, 1.0]
    assert [a.base_score.exact_match for a in scores.answers] == [0.0, 0.0]
    summary = scores.summary()
    assert summary["tuned"] == {"exact_match": 1.0, "f1": 1.0}
    assert summary["base"]["f1"] == pytest.approx((0.0 + 0.5) / 2)  # "honey" against three words: P 1, R 1/3
    assert summary["delta"]["exact_match"] == 1.0 and summary["delta"]["f1"] == pytest.approx(0.75)
