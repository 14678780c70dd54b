"""What is under raw/: files to read, and every other entry refused or ignored with its reason;
nothing read from outside the data directory, nothing but regular files opened."""

from __future__ import annotations

import os

from llm_pipeline.storage.raw_files import (
    DANGLING_LINK,
    FOLDER_READ_ELSEWHERE,
    HIDDEN,
    LINK_LOOP,
    LINK_OUTSIDE,
    NOT_A_FORMAT_FOLDER,
    NOT_A_REGULAR_FILE,
    folder_digests,
    scan_raw,
)

FORMATS = ("html", "csv", "jsonl")


def reasons(entries) -> dict[str, str]:
    return {entry.name: entry.reason for entry in entries}


def test_links_are_followed_inside_the_data_directory_and_refused_outside(tmp_path):
    data, outside = tmp_path / "data", tmp_path / "outside"
    (data / "raw" / "jsonl").mkdir(parents=True)
    outside.mkdir()
    (outside / "secret.jsonl").write_text('{"text": "a file outside the data directory"}\n')
    (outside / "folder").mkdir()
    (outside / "folder" / "more.jsonl").write_text('{"text": "also outside"}\n')
    (data / "shared.jsonl").write_text('{"text": "inside the data directory"}\n')
    jsonl = data / "raw" / "jsonl"
    (jsonl / "own.jsonl").write_text('{"text": "a plain file"}\n')
    (jsonl / "to_secret.jsonl").symlink_to(outside / "secret.jsonl")
    (jsonl / "to_folder").symlink_to(outside / "folder")
    (jsonl / "to_shared.jsonl").symlink_to(data / "shared.jsonl")
    (jsonl / "relative_escape.jsonl").symlink_to("../../../outside/secret.jsonl")

    listing = scan_raw(data / "raw", FORMATS, data)

    assert [name for _, name in listing.files] == ["jsonl/own.jsonl", "jsonl/to_shared.jsonl"]
    assert reasons(listing.refused) == {
        "jsonl/relative_escape.jsonl": LINK_OUTSIDE,
        "jsonl/to_folder": LINK_OUTSIDE,
        "jsonl/to_secret.jsonl": LINK_OUTSIDE,
    }
    assert all(str(outside / "secret.jsonl") in e.detail for e in listing.refused if "secret" in e.name)
    # The sensor's digests never read the outside files either.
    assert set(folder_digests(jsonl, data, data / "raw")) == {"own.jsonl", "to_shared.jsonl"}


def test_dangling_links_loops_and_special_files_are_refused_never_opened(tmp_path):
    data = tmp_path / "data"
    csv = data / "raw" / "csv"
    (csv / "sub").mkdir(parents=True)
    (csv / "sub" / "rows.csv").write_text("a,b\n1,2\n")
    (csv / "gone.csv").symlink_to(csv / "deleted.csv")
    (csv / "sub" / "again").symlink_to(csv)  # a folder link back up: walked once
    (csv / "self.csv").symlink_to(csv / "self.csv")
    os.mkfifo(csv / "pipe.csv")  # opening it would block the run for good

    listing = scan_raw(data / "raw", FORMATS, data)

    assert [name for _, name in listing.files] == ["csv/sub/rows.csv"]
    assert reasons(listing.refused) == {
        "csv/gone.csv": DANGLING_LINK,
        "csv/self.csv": LINK_LOOP,
        "csv/pipe.csv": NOT_A_REGULAR_FILE,
    }
    assert "FIFO" in next(e.detail for e in listing.refused if e.name == "csv/pipe.csv")
    assert reasons(listing.ignored) == {"csv/sub/again": FOLDER_READ_ELSEWHERE}


def test_hidden_entries_and_entries_outside_the_format_folders_are_listed_as_ignored(tmp_path):
    data = tmp_path / "data"
    (data / "raw" / "html" / ".cache").mkdir(parents=True)
    (data / "raw" / "html" / ".gitkeep").write_text("")
    (data / "raw" / "html" / "page.html").write_text("<p>hi</p>")
    (data / "raw" / "tsv").mkdir()
    (data / "raw" / "tsv" / "table.tsv").write_text("a\tb\n")
    (data / "raw" / "notes.jsonl").write_text("{}\n")

    listing = scan_raw(data / "raw", FORMATS, data)

    assert [name for _, name in listing.files] == ["html/page.html"]
    assert reasons(listing.ignored) == {
        "html/.cache": HIDDEN,
        "html/.gitkeep": HIDDEN,
        "notes.jsonl": NOT_A_FORMAT_FOLDER,
        "tsv": NOT_A_FORMAT_FOLDER,
    }
    assert "formats: html, csv, jsonl" in next(e.detail for e in listing.ignored if e.name == "tsv")


def test_a_file_name_that_is_not_utf8_is_read_under_a_printable_name(tmp_path):
    data = tmp_path / "data"
    (data / "raw" / "jsonl").mkdir(parents=True)
    raw_name = os.fsencode(data / "raw" / "jsonl") + b"/caf\xe9.jsonl"  # Latin-1 bytes, not UTF-8
    with open(raw_name, "w") as handle:
        handle.write('{"text": "x"}\n')

    ((path, name),) = scan_raw(data / "raw", FORMATS, data).files
    assert name == "jsonl/caf\\xe9.jsonl" and name.encode("utf-8")
    assert path.read_text().startswith('{"text"')  # the path still opens the file
    assert list(folder_digests(data / "raw" / "jsonl", data)) == ["caf\\xe9.jsonl"]


def test_raw_linked_to_another_volume_is_still_raw(tmp_path):
    volume, data = tmp_path / "volume", tmp_path / "data"
    (volume / "jsonl").mkdir(parents=True)
    (volume / "jsonl" / "a.jsonl").write_text("{}\n")
    (volume / "jsonl" / "b.jsonl").symlink_to(volume / "jsonl" / "a.jsonl")
    data.mkdir()
    (data / "raw").symlink_to(volume)

    listing = scan_raw(data / "raw", FORMATS, data)
    assert [name for _, name in listing.files] == ["jsonl/a.jsonl", "jsonl/b.jsonl"] and not listing.refused
