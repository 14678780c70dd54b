"""What the tokenized stage writes and the trainer reads: columns, the ignored label, the version stamp.

Both sides import this module and nothing of each other, so training never reaches into the
data code.
"""

from __future__ import annotations

IGNORE_INDEX = -100
"""Label value that the cross-entropy loss of Hugging Face models skips."""


TOKENIZED_COLUMNS = ("id", "source", "input_ids", "attention_mask", "labels")


PACKED_COLUMNS = (*TOKENIZED_COLUMNS, "position_ids")
"""Packed rows also carry `position_ids`, which restart at 0 where a record (piece) begins."""


# Separators of the record ids and sources that share a packed row.
ROW_ID_SEPARATOR = "+"


ROW_SOURCE_SEPARATOR = " | "


DATA_VERSION_FILE = "data_version.txt"
"""Written into the saved tokenized splits: `tokenized_data_version` of what made them."""


TOKENIZER_DIR = "tokenizer"
"""Saved inside the tokenized splits: the tokenizer they were made with, its chat template set to the
one that rendered them. The trainer loads it, and saves it with every checkpoint and the final model."""


CONTENT_DIGEST_FILE = "content_digest.txt"
"""Written into the saved tokenized splits: `storage.fingerprint.saved_dataset_digest` of their Arrow
files as written, which the trainer recomputes before it trusts them (same-size corruption shows)."""


def record_ids_of_rows(row_ids) -> list[str]:
    """The ids of the records in tokenized rows, each once, in order of first appearance.

    A packed row's `id` joins the ids of its records with `ROW_ID_SEPARATOR`, and a text that
    continues over several rows appears in each of them; an unpacked row's `id` is its record's.
    """
    return list(dict.fromkeys(part for row_id in row_ids for part in row_id.split(ROW_ID_SEPARATOR)))
