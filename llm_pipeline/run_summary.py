"""What a person reads after a run of the pipeline: rows in and out of each stage, the training
result, and where every output is. Built from the materializations' metadata as plain values."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

# Stage assets whose metadata carries the record balance (defs/metadata.balance_metadata).
BALANCE_COLUMNS = ("records_in", "records_kept", "records_dropped", "records_rejected")


def summary_text(
    run_id: str,
    succeeded: bool,
    stages: Sequence[tuple[str, Mapping[str, Any] | None]],
    checks: Sequence[tuple[str, bool, str]],
    data_dir: str,
) -> str:
    """The summary: `stages` as (asset, metadata or None when not built in this run) in graph
    order, `checks` as (name, passed, severity)."""
    lines = [f"run {run_id}: {'succeeded' if succeeded else 'FAILED'}", ""]
    table = [("stage", "in", "kept", "dropped", "rejected", "output")]
    notes = []
    for asset, metadata in stages:
        if metadata is None:
            table.append((asset, "", "", "", "", "not built in this run"))
            continue
        if any(column in metadata for column in BALANCE_COLUMNS):
            counts = [_count(metadata.get(column)) for column in BALANCE_COLUMNS]
            table.append((asset, *counts, str(metadata.get("path", ""))))
        else:
            table.append((asset, "", "", "", "", _output_of(metadata)))
        if asset == "checkpoint":
            notes.append(_training_line(metadata))
        if asset == "evaluation":
            notes.append(_evaluation_line(metadata))
    lines += _aligned(table)
    if notes:
        lines += ["", *notes]
    if checks:
        failed = [name for name, passed, severity in checks if not passed and severity == "ERROR"]
        warned = [name for name, passed, severity in checks if not passed and severity != "ERROR"]
        passed = sum(1 for _, ok, _ in checks if ok)
        line = f"checks: {passed} passed, {len(failed)} failed, {len(warned)} warned"
        if failed:
            line += f" (failed: {', '.join(failed)})"
        if warned:
            line += f" (warned: {', '.join(warned)})"
        lines += ["", line]
    lines += [
        "",
        f"data directory: {data_dir}",
        f"quarantined records, each with its reason and source: {data_dir}/rejected/<stage>/",
    ]
    return "\n".join(lines)


def _training_line(metadata: Mapping[str, Any]) -> str:
    how = "reused a finished run" if metadata.get("reused") else f"trained {metadata.get('global_steps', '?')} steps"
    return (
        f"training: {metadata.get('method', '?')}, {how}; final train loss {_loss(metadata.get('final_train_loss'))}, "
        f"validation loss {_loss(metadata.get('final_eval_loss'))}; diagnosis: {metadata.get('diagnosis', 'n/a')}"
    )


def _evaluation_line(metadata: Mapping[str, Any]) -> str:
    improvement = metadata.get("improvement")
    share = f" ({improvement:.1%} lower)" if isinstance(improvement, float) and improvement > 0 else ""
    return (
        f"evaluation: per-token validation loss, base {_loss(metadata.get('base_per_token_loss'))}, "
        f"tuned {_loss(metadata.get('tuned_per_token_loss'))}{share}; answers side by side in its metadata"
    )


def _output_of(metadata: Mapping[str, Any]) -> str:
    for key in ("path", "model_path", "model"):
        if metadata.get(key):
            return str(metadata[key])
    return ""


def _count(value: Any) -> str:
    return f"{value:,}" if isinstance(value, int) else ""


def _loss(value: Any) -> str:
    return f"{value:.4f}" if isinstance(value, (int, float)) else "n/a"


def _aligned(rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    numeric = {1, 2, 3, 4}
    return [
        "  ".join(
            cell.rjust(widths[column]) if column in numeric else cell.ljust(widths[column])
            for column, cell in enumerate(row)
        ).rstrip()
        for row in rows
    ]
