"""Learning curves: merging the Trainer log, the diagnosis on synthetic curves, the plot."""

from __future__ import annotations

import base64
import math
from collections import Counter

import pytest

from llm_pipeline.training.curve import CurvePoint, curve_from_log_history
from llm_pipeline.training.diagnosis import DIVERGED, INSUFFICIENT, OVERFIT, UNDERFIT, UNSTABLE, WELL_FIT, diagnose
from llm_pipeline.training.finite import NonFiniteTrainingError, non_finite_parameters, require_finite_parameters
from llm_pipeline.training.plot import png_markdown, render_curve_png
from llm_pipeline_tests.support.curves import KINDS

STEPS = list(range(10, 310, 10))  # 30 logging steps


def make_curve(train_fn, eval_fn, eval_every: int = 3) -> list[CurvePoint]:
    return [
        CurvePoint(step, train_fn(step), eval_fn(step) if i % eval_every == eval_every - 1 else None)
        for i, step in enumerate(STEPS)
    ]


def test_log_history_is_merged_by_step_and_the_summary_skipped():
    history = [
        {"loss": 3.0, "grad_norm": 1.0, "learning_rate": 1e-4, "epoch": 0.1, "step": 5},
        {"loss": 2.5, "step": 10},
        {"eval_loss": 2.7, "eval_runtime": 0.1, "step": 10},
        {"eval_loss": 2.6, "step": 12},
        {"train_runtime": 1.0, "train_loss": 2.8, "step": 12},
    ]
    assert curve_from_log_history(history) == [
        CurvePoint(5, 3.0, None, learning_rate=1e-4),
        CurvePoint(10, 2.5, 2.7),
        CurvePoint(12, None, 2.6),
    ]


def test_converged_curve_with_close_validation_is_well_fit():
    curve = make_curve(lambda s: 1.0 + 3.0 * math.exp(-s / 30), lambda s: 1.08 + 3.0 * math.exp(-s / 30))
    result = diagnose(curve)
    assert result.verdict == WELL_FIT, result.reasons
    assert result.final_train_loss == pytest.approx(curve[-1].train_loss)
    assert result.gap == pytest.approx(result.final_eval_loss - result.final_train_loss)


def test_validation_turning_up_is_overfit_with_the_best_step():
    # validation falls to a minimum at step 120, then climbs back by far more than 3%
    curve = make_curve(lambda s: 3.0 * math.exp(-s / 60) + 0.2, lambda s: 1.5 + ((s - 120) / 100) ** 2)
    result = diagnose(curve)
    assert result.verdict == OVERFIT, result.reasons
    assert result.best_step == 120
    assert result.best_eval_loss == pytest.approx(1.5)
    assert "step 120" in result.reasons[0]


def test_flat_training_loss_is_underfit():
    curve = make_curve(lambda s: 5.0 - 0.0005 * s, lambda s: 5.1 - 0.0005 * s)
    result = diagnose(curve)
    assert result.verdict == UNDERFIT, result.reasons
    assert "barely moved" in result.reasons[0]


def test_rising_training_loss_is_reported_as_divergence():
    curve = make_curve(lambda s: 3.0 + 0.01 * s, lambda s: 3.1 + 0.01 * s)
    result = diagnose(curve)
    assert result.verdict == UNDERFIT
    assert "diverged" in result.reasons[0]


def test_training_loss_still_falling_at_the_end_is_underfit():
    curve = make_curve(lambda s: 6.0 - 0.012 * s, lambda s: 6.1 - 0.012 * s)
    result = diagnose(curve)
    assert result.verdict == UNDERFIT, result.reasons
    assert "still falling" in result.reasons[0]


def test_settled_curves_with_a_wide_gap_are_overfit():
    curve = make_curve(lambda s: 0.5 + 3.0 * math.exp(-s / 30), lambda s: 1.2 + 2.0 * math.exp(-s / 30))
    result = diagnose(curve)
    assert result.verdict == OVERFIT, result.reasons
    assert result.gap == pytest.approx(0.7, abs=0.05)


@pytest.mark.parametrize(
    "curve",
    [
        [],
        [CurvePoint(1, 3.0, 3.1), CurvePoint(2, 2.9, 3.0)],
        [CurvePoint(s, 3.0 - s / 10, None) for s in range(1, 10)],
    ],
)
def test_too_few_points_are_insufficient_data(curve):
    result = diagnose(curve)
    assert result.verdict == INSUFFICIENT
    assert result.reasons


def test_plot_is_a_png_and_embeds_as_markdown():
    curve = make_curve(lambda s: 1.0 + 3.0 * math.exp(-s / 30), lambda s: 1.1 + 3.0 * math.exp(-s / 30))
    png = render_curve_png(curve, "tiny run")
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 1000
    with_rates = [CurvePoint(p.step, p.train_loss, p.eval_loss, 1e-3 * (1 - p.step / 400)) for p in curve]
    assert render_curve_png(with_rates, "tiny run") != png  # the learning rate drawn on its own axis
    markdown = png_markdown(png)
    assert markdown.startswith("![learning curve](data:image/png;base64,")
    assert base64.b64decode(markdown.split(",", 1)[1].rstrip(")")) == png
    assert render_curve_png([], "empty").startswith(b"\x89PNG")


@pytest.mark.parametrize("bad", [math.nan, math.inf])
def test_a_curve_with_a_non_finite_loss_is_diverged_never_well_fit(bad):
    curve = [CurvePoint(step, 2.0 - step / 100, 2.1 - step / 100 if step % 2 == 0 else None) for step in range(1, 40)]
    curve[20] = CurvePoint(21, bad, None)
    diagnosis = diagnose(curve)
    assert diagnosis.verdict == DIVERGED
    assert f"the training loss is {bad} at step 21" in diagnosis.reasons[0]


def test_non_finite_weights_are_named():
    import torch

    model = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Linear(2, 1))
    assert non_finite_parameters(model) == []
    with torch.no_grad():
        model[1].bias[0] = math.nan
    assert non_finite_parameters(model) == ["1.bias"]
    with pytest.raises(NonFiniteTrainingError, match="the final model: non-finite weights in 1.bias"):
        require_finite_parameters(model, "the final model")


# --- judged on 200 seeds of noisy synthetic curves (support/curves.py; the table: benchmarks/diagnosis.py)


def verdicts(kind: str, noise: float) -> Counter:
    return Counter(diagnose(KINDS[kind](seed, noise)).verdict for seed in range(200))


@pytest.mark.parametrize(("noise", "at_least"), [(0.02, 195), (0.04, 190)])
def test_noise_on_the_validation_loss_is_not_read_as_overfitting(noise, at_least):
    assert verdicts("well-fit", noise)[WELL_FIT] >= at_least


@pytest.mark.parametrize("noise", [0.02, 0.04])
def test_training_loss_racing_to_zero_beside_a_flat_validation_loss_is_memorised(noise):
    # Not "underfit, train more steps": its training loss still halves over the last third.
    assert verdicts("memorised", noise)[OVERFIT] >= 195
    reasons = diagnose(KINDS["memorised"](0, noise)).reasons
    assert "memorises" in reasons[0] and "more or more varied data" in reasons[1]


def test_swings_of_thirty_percent_are_unstable_and_say_lower_the_learning_rate():
    assert verdicts("unstable", 0.02)[UNSTABLE] >= 195
    assert "lower the learning rate" in diagnose(KINDS["unstable"](0)).reasons[1]


@pytest.mark.parametrize("kind, verdict", [("overfit", OVERFIT), ("underfit (flat)", UNDERFIT),
                                           ("underfit (still falling)", UNDERFIT)])  # fmt: skip
def test_the_other_shapes_keep_their_verdicts_under_noise(kind, verdict):
    assert verdicts(kind, 0.04)[verdict] >= 190


def test_two_evaluations_are_not_smoothed_away():
    curve = [CurvePoint(step, 3.0 * math.exp(-step / 20) + 0.5, None) for step in range(10, 100, 10)]
    curve[3] = CurvePoint(40, curve[3].train_loss, 1.0)
    curve[-1] = CurvePoint(90, curve[-1].train_loss, 1.5)
    assert diagnose(curve).verdict == OVERFIT
