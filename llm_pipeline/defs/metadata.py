"""Metadata a person reads in the UI: counts that balance, previews, samples per reason."""

from collections import Counter
from collections.abc import Iterable, Mapping

import dagster as dg

from llm_pipeline.records import Rejection


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
        cells = (" ".join(str(row.get(column) or "").split())[:80].replace("|", "\\|") for column in columns)
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
