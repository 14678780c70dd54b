"""The learning curve as a PNG, and as markdown that the Dagster UI renders inline."""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence

from llm_pipeline.training.curve import CurvePoint


def render_curve_png(curve: Sequence[CurvePoint], title: str) -> bytes:
    """Training and validation loss against the optimizer step, the best validation step marked, and
    the learning rate on a second axis (a diverging or unstable run reads against its schedule)."""
    # The object API with the Agg canvas draws off-screen and touches no global pyplot state,
    # so it is safe in a headless worker and in threads.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(7, 4), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot(1, 1, 1)
    train = [(p.step, p.train_loss) for p in curve if p.train_loss is not None]
    evals = [(p.step, p.eval_loss) for p in curve if p.eval_loss is not None]
    if train:
        axes.plot(*zip(*train, strict=False), label="train loss", color="tab:blue", linewidth=1.5)
    if evals:
        axes.plot(
            *zip(*evals, strict=False),
            label="validation loss",
            color="tab:orange",
            marker="o",
            markersize=3,
            linewidth=1.5,
        )
        best_step, best_loss = min(evals, key=lambda point: point[1])
        axes.axvline(best_step, color="tab:green", linestyle="--", linewidth=1)
        axes.plot(
            [best_step],
            [best_loss],
            marker="*",
            markersize=12,
            color="tab:green",
            linestyle="none",
            label=f"best validation (step {best_step}: {best_loss:.3f})",
        )
    rates = [(p.step, p.learning_rate) for p in curve if p.learning_rate is not None]
    if rates:
        rate_axes = axes.twinx()
        rate_axes.plot(
            *zip(*rates, strict=False), color="tab:gray", linestyle=":", linewidth=1.2, label="learning rate"
        )
        rate_axes.set_ylabel("learning rate", color="tab:gray")
        rate_axes.tick_params(axis="y", labelcolor="tab:gray")
        rate_axes.ticklabel_format(axis="y", style="sci", scilimits=(-3, 3))
        rate_axes.legend(loc="upper center")
    if not (train or evals):
        axes.text(0.5, 0.5, "no loss logged", ha="center", va="center", transform=axes.transAxes)
    axes.set_title(title)
    axes.set_xlabel("optimizer step")
    axes.set_ylabel("loss")
    axes.grid(True, alpha=0.3)
    if train or evals:
        axes.legend(loc="upper right")
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def png_markdown(png: bytes) -> str:
    """Markdown image with the PNG inlined as a data URI."""
    return f"![learning curve](data:image/png;base64,{base64.b64encode(png).decode('ascii')})"
