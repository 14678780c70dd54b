"""Metadata a person reads in the UI: counts that balance, previews, samples per reason."""

import json
from collections import Counter
from collections.abc import Iterable, Mapping

import dagster as dg

from llm_pipeline.records import Rejection
from llm_pipeline.training.curve import CurvePoint
from llm_pipeline.training.diagnosis import diagnose
from llm_pipeline.training.plot import png_markdown, render_curve_png


def counts_markdown(counts: Mapping[str, int], key: str = "reason", value: str = "count") -> str:
    if not counts:
        return "_none_"
    rows = [f"| {key} | {value} |", "|---|---:|"]
    rows += [f"| {name} | {count} |" for name, count in sorted(counts.items(), key=lambda item: (-item[1], item[0]))]
    return "\n".join(rows)


def balance_metadata(records_in: int, kept: int, dropped: int, rejected: int) -> dict[str, dg.MetadataValue]:
    """The conservation line every stage shows: in = kept + dropped + rejected."""
    if records_in != kept + dropped + rejected:
        raise RuntimeError(
            f"counts do not balance: in {records_in} != kept {kept} + dropped {dropped} + rejected {rejected}"
        )
    return {
        "records_in": dg.MetadataValue.int(records_in),
        "records_kept": dg.MetadataValue.int(kept),
        "records_dropped": dg.MetadataValue.int(dropped),
        "records_rejected": dg.MetadataValue.int(rejected),
        "balance": dg.MetadataValue.text(f"in {records_in} = kept {kept} + dropped {dropped} + rejected {rejected}"),
    }


def samples_by_reason_markdown(rejections: Iterable[Rejection], per_reason: int = 2, with_detail: bool = False) -> str:
    """The first `per_reason` rejections of every reason; `with_detail` adds what the filter measured."""
    seen: Counter = Counter()
    header = ["reason", "source", *(["detail"] if with_detail else []), "preview"]
    rows = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for rejection in rejections:
        reason = rejection.reason.split(":")[0]
        if seen[reason] >= per_reason:
            continue
        seen[reason] += 1
        preview = " ".join(rejection.preview.split())[:100]
        cells = [rejection.reason, rejection.source, *([rejection.detail] if with_detail else []), preview]
        rows.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    return "\n".join(rows) if seen else "_none_"


def preview_markdown(rows: Iterable[Mapping[str, object]], columns: Iterable[str], limit: int = 5) -> str:
    columns = list(columns)
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for index, row in enumerate(rows):
        if index >= limit:
            break
        cells = (" ".join(_cell_text(row.get(column)).split())[:80].replace("|", "\\|") for column in columns)
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _cell_text(value: object) -> str:
    """A value as a table cell shows it: a conversation's turns as `role: content`, one after another."""
    if isinstance(value, list) and all(isinstance(turn, dict) and "role" in turn for turn in value):
        return " / ".join(f"{turn['role']}: {turn.get('content', '')}" for turn in value)
    return str(value or "")


# --- training (checkpoint) ------------------------------------------------------------------


def memory_markdown(metadata: Mapping[str, dg.MetadataValue]) -> str:
    """The preflight estimate, part by part, next to the measured peak."""
    estimate = metadata["memory_estimate"].value if "memory_estimate" in metadata else {}
    peak = metadata["peak_memory_mb"].value if "peak_memory_mb" in metadata else float("nan")
    rows = ["| part | MiB |", "|---|---:|"]
    rows += [f"| estimate: {name} | {value:,.1f} |" for name, value in estimate.items()]
    rows.append(f"| measured peak | {peak:,.1f} |")
    return "\n".join(rows)


def curve_metadata(points: list[dict], method: str) -> dict[str, dg.MetadataValue]:
    """The learning curve as a table and a plot, and the fit diagnosis in words."""
    curve = [CurvePoint.from_dict(point) for point in points]
    diagnosis = diagnose(curve)
    schema = dg.TableSchema(
        columns=[
            dg.TableColumn("step", "int"),
            dg.TableColumn("train_loss", "float"),
            dg.TableColumn("validation_loss", "float"),
            dg.TableColumn("learning_rate", "float"),
        ]
    )
    rows = [
        dg.TableRecord(
            {
                "step": point.step,
                "train_loss": point.train_loss,
                "validation_loss": point.eval_loss,
                "learning_rate": point.learning_rate,
            }
        )
        for point in curve
    ]
    png = render_curve_png(curve, title=f"{method} fine-tune: {diagnosis.verdict}")
    return {
        "learning_curve_table": dg.MetadataValue.table(rows, schema=schema),
        "learning_curve_plot": dg.MetadataValue.md(png_markdown(png)),
        "diagnosis": dg.MetadataValue.text(diagnosis.verdict),
        "diagnosis_reasons": dg.MetadataValue.md("\n".join(f"- {reason}" for reason in diagnosis.reasons)),
        "best_step": dg.MetadataValue.int(diagnosis.best_step)
        if diagnosis.best_step is not None
        else dg.MetadataValue.text("n/a"),
        "best_eval_loss": _float_or_na(diagnosis.best_eval_loss),
        "generalization_gap": _float_or_na(diagnosis.gap),
        "learning_curve": dg.MetadataValue.json(json.loads(json.dumps(points))),
    }


def _float_or_na(value: float | None) -> dg.MetadataValue:
    return dg.MetadataValue.float(float(value)) if value is not None else dg.MetadataValue.text("n/a")


# --- plaintext -----------------------------------------------------------------------------------


def mappings_markdown(mappings: Mapping[str, str]) -> str:
    """The column mapping every file, SQL table or database used, as a table (key: `file`)."""
    rows = ["| file | mapping |", "|---|---|"]
    rows += [f"| {name} | {mapping} |" for name, mapping in sorted(mappings.items())]
    return "\n".join(rows)


def names_markdown(names: Iterable[str], empty: str = "_none_") -> str:
    """A bullet list of names (files, say) in code style; `empty` when there is none."""
    return "\n".join(f"- `{name}`" for name in names) or empty


def entries_markdown(entries: Iterable, empty: str = "_none: every entry was read_") -> str:
    """A table of raw entries not read (`storage.raw_files.RawEntry`): name, reason, detail."""
    rows = [f"| `{entry.name}` | {entry.reason} | {entry.detail} |" for entry in entries]
    return "\n".join(["| entry | reason | detail |", "|---|---|---|", *rows]) if rows else empty


# --- clustered -----------------------------------------------------------------------------------


def summaries_markdown(summaries: Iterable) -> str:
    """One row per cluster (`stages.clustered.clustering.ClusterSummary`): size, top terms, examples."""
    lines = ["| cluster | size | top terms | examples |", "|---:|---:|---|---|"]
    for summary in summaries:
        examples = "<br>".join(f"{index + 1}. {text}" for index, text in enumerate(summary.examples)).replace(
            "|", "\\|"
        )
        lines.append(f"| {summary.cluster} | {summary.size} | {', '.join(summary.top_terms)} | {examples} |")
    return "\n".join(lines)


def silhouettes_markdown(candidates: Mapping[int, float], chosen: int) -> str:
    """The silhouette of every candidate k, the chosen one in bold."""
    if not candidates:
        return "_k was set, not searched_"
    lines = ["| k | silhouette |", "|---:|---:|"]
    lines += [
        f"| {'**' + str(k) + '**' if k == chosen else k} | {score:.4f} |" for k, score in sorted(candidates.items())
    ]
    return "\n".join(lines)


# --- tokenized -----------------------------------------------------------------------------------


def token_stats_markdown(stats: Mapping[str, dict]) -> str:
    """Per split (`stages.tokenized.stats.SplitStats` as dicts): records in, kept, cut, dropped; rows, tokens."""
    lines = [
        "| split | in | kept | truncated | dropped (too long) | dropped (no target) | rows | tokens | target tokens "
        "| pad at max_length | min | mean | p95 | max |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, s in stats.items():
        lines.append(
            f"| {name} | {s['records_in']} | {s['kept']} | {s['truncated']} | {s['dropped_too_long']} | "
            f"{s['dropped_no_target']} | {s['rows']} | {s['tokens']} | {s['target_tokens']} | {s['pad_fraction']:.1%} | "
            f"{s['min_tokens']} | {s['mean_tokens']:.1f} | {s['p95_tokens']:.0f} | {s['max_tokens']} |"
        )
    return "\n".join(lines)


def length_histogram_markdown(stats: Mapping[str, dict]) -> str:
    """Records per length bucket (tokens before any cut), one column per split."""
    names = list(stats)
    buckets = list(dict.fromkeys(bucket for s in stats.values() for bucket, _ in s["length_histogram"]))
    counts = {name: dict((bucket, count) for bucket, count in stats[name]["length_histogram"]) for name in names}
    lines = ["| tokens | " + " | ".join(names) + " |", "|---:|" + "---:|" * len(names)]
    for bucket in buckets:
        lines.append(f"| {bucket} | " + " | ".join(str(counts[name].get(bucket, 0)) for name in names) + " |")
    return "\n".join(lines)


# --- filtered ------------------------------------------------------------------------------------


def filtered_metadata(result, settings) -> dict[str, dg.MetadataValue]:
    """What a filtered run (`stages.filtered.run.FilterResult`) did under `settings` (a `FilterSettings`):
    the balance, drops by reason with samples, the filters that ran, duplicate groups, redactions."""
    report = result.report
    groups = report.duplicate_groups.most_common(10)
    languages = settings.language.languages
    return {
        **balance_metadata(result.records_in, report.kept, len(result.dropped), 0),
        "path": dg.MetadataValue.path(str(result.output)),
        "rejected_path": dg.MetadataValue.path(str(result.rejected_path)),
        "dropped_by_reason": dg.MetadataValue.md(counts_markdown(report.dropped)),
        "dropped_samples": dg.MetadataValue.md(samples_by_reason_markdown(result.dropped, with_detail=True)),
        "phrases": dg.MetadataValue.text(f"{settings.phrases.list}: {len(settings.phrases.phrases)} phrases"),
        "languages_kept": dg.MetadataValue.text(", ".join(languages) if languages else "all (language filter off)"),
        "duplicate_groups": dg.MetadataValue.int(len(report.duplicate_groups)),
        "largest_duplicate_groups": dg.MetadataValue.md(
            counts_markdown(dict(groups), key="group (kept record)", value="dropped members")
        ),
        "pii_redactions": dg.MetadataValue.md(
            counts_markdown(report.redactions, key="kind", value="replaced") if settings.redact_pii else "_off_"
        ),
        "records_redacted": dg.MetadataValue.int(report.records_redacted),
        "records_analysed": dg.MetadataValue.int(result.analysed),
        "analyses_from_cache": dg.MetadataValue.int(result.from_cache),
        "dagster/row_count": dg.MetadataValue.int(report.kept),
    }
