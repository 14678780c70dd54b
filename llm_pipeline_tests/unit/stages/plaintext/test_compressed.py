"""Compressed raw files read as their text in every format, told by their bytes, not their name;
what cannot be read as one text file is quarantined with the reason."""

from __future__ import annotations

import bz2
import gzip
import io
import json
import lzma
import tarfile

import pyarrow as pa
import pytest

from llm_pipeline.records import Record
from llm_pipeline.stages.plaintext import compressed
from llm_pipeline.stages.plaintext.read import read_raw_file
from llm_pipeline.stages.plaintext.report import IngestReport
from llm_pipeline.stages.plaintext.settings import PlaintextSettings

JSONL = "".join(json.dumps({"text": f"Line {n}: turn the compost heap every week."}) + "\n" for n in range(50)).encode()
CSV = b"question;answer\nWhy turn the heap?;So that air reaches the middle and it stays warm.\n"
SQL = b"CREATE TABLE notes (id int, body text);\nINSERT INTO notes VALUES (1, 'Brown leaves balance green scraps.');\n"
HTML = (
    b"<html><body><article><p>Compost needs air, water and a mix of green and brown matter.</p></article></body></html>"
)


def zstd(data: bytes) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.CompressedOutputStream(sink, "zstd") as stream:
        stream.write(data)
    return sink.getvalue().to_pybytes()


COMPRESSORS = {"gzip": gzip.compress, "bz2": bz2.compress, "xz": lzma.compress, "zstd": zstd}
SUFFIX = {"gzip": ".gz", "bz2": ".bz2", "xz": ".xz", "zstd": ".zst"}


def read(path, fmt: str) -> list:
    return list(read_raw_file(path, f"{fmt}/{path.name}", fmt, PlaintextSettings(), IngestReport()))


def texts(items) -> list[str]:
    return [item.content for item in items if isinstance(item, Record)]


@pytest.mark.parametrize("kind", sorted(COMPRESSORS))
@pytest.mark.parametrize(("fmt", "content"), [("jsonl", JSONL), ("csv", CSV), ("sql", SQL), ("html", HTML)])
def test_every_format_reads_the_same_records_compressed(tmp_path, kind, fmt, content):
    plain = tmp_path / f"notes.{fmt}"
    plain.write_bytes(content)
    packed = tmp_path / f"notes.{fmt}{SUFFIX[kind]}"
    packed.write_bytes(COMPRESSORS[kind](content))
    expected = texts(read(plain, fmt))
    assert expected and texts(read(packed, fmt)) == expected
    assert all(item.source.startswith(f"{fmt}/notes.{fmt}{SUFFIX[kind]}") for item in read(packed, fmt))


def test_the_bytes_decide_not_the_name(tmp_path):
    disguised = tmp_path / "export.csv"  # gzip bytes under a plain name: the sniffers must see the text
    disguised.write_bytes(gzip.compress(CSV))
    assert texts(read(disguised, "csv")) == ["Why turn the heap?\nSo that air reaches the middle and it stays warm."]


def test_a_stream_cut_short_an_archive_and_a_bomb_are_quarantined(tmp_path, monkeypatch):
    cut = tmp_path / "cut.jsonl.gz"
    cut.write_bytes(gzip.compress(JSONL)[:-40])
    archive = tmp_path / "bundle.jsonl.tar.gz"
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        info = tarfile.TarInfo("a.jsonl")
        info.size = len(JSONL)
        tar.addfile(info, io.BytesIO(JSONL))
    archive.write_bytes(buffer.getvalue())
    bomb = tmp_path / "bomb.jsonl.gz"
    bomb.write_bytes(gzip.compress(b" " * (8 << 20)))  # 8 MiB of spaces in about 8 KB
    monkeypatch.setattr(compressed, "FREE_BYTES", 1 << 20)  # the real floor is 1 GiB: too slow to reach here

    reasons = {path.name: [(item.reason, item.detail) for item in read(path, "jsonl")] for path in (cut, archive, bomb)}
    assert [reason for reason, _ in reasons["cut.jsonl.gz"]] == ["bad_compressed_file"]
    assert reasons["bundle.jsonl.tar.gz"] == [
        ("archive_not_supported", "a tar archive (gzip-compressed): unpack its files into raw/<format>/")
    ]
    ((reason, detail),) = reasons["bomb.jsonl.gz"]
    assert reason == "decompression_bomb" and f"{compressed.MAX_RATIO}x" in detail
