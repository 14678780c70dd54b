"""What is under raw/: the files to read, and every other entry with the reason it is not read.

Every entry ends somewhere a person can see: a file to parse, a refused entry (quarantined by
the plaintext stage with its reason), or an ignored one (listed in the metadata). Nothing is
read from outside the data directory: a link is followed only when its target lies inside it,
and nothing but a regular file is ever opened (a FIFO would block the run for good). The
sensor, the raw observations and the plaintext stage all list through here, so they agree.
"""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from llm_pipeline.storage.fingerprint import file_digest

HIDDEN = "hidden"
NOT_A_FORMAT_FOLDER = "not_a_format_folder"
LINK_OUTSIDE = "link_outside_data_dir"
DANGLING_LINK = "dangling_link"
LINK_LOOP = "link_loop"
NOT_A_REGULAR_FILE = "not_a_regular_file"
FOLDER_READ_ELSEWHERE = "folder_read_elsewhere"


@dataclass(frozen=True)
class RawEntry:
    """Something under raw/ that is not read, and why."""

    name: str  # relative to the listed folder, printable
    reason: str
    detail: str = ""


@dataclass
class RawListing:
    files: list[tuple[Path, str]] = field(default_factory=list)  # (path to open, printable name), sorted
    refused: list[RawEntry] = field(default_factory=list)  # quarantined: links out, dangling, loops, FIFOs
    ignored: list[RawEntry] = field(default_factory=list)  # not read by design: hidden files, other folders

    def extend(self, other: RawListing, prefix: str = "") -> None:
        self.files += [(path, prefix + name) for path, name in other.files]
        self.refused += [RawEntry(prefix + e.name, e.reason, e.detail) for e in other.refused]
        self.ignored += [RawEntry(prefix + e.name, e.reason, e.detail) for e in other.ignored]


def printable_name(relative: str) -> str:
    """A file name as text that always encodes: bytes that are not UTF-8 become `\\xNN`."""
    return os.fsencode(relative).decode("utf-8", errors="backslashreplace")


def scan_folder(folder: Path, *boundaries: Path) -> RawListing:
    """Every entry below `folder`: regular files to read, the rest refused or ignored with a reason.

    Links are followed (folders too) only to targets inside `boundaries` (the data directory and
    raw/, which may be linked to another volume) or inside `folder` itself; each real folder is
    walked once, so a loop of folder links ends. Dot-files (.gitkeep, .DS_Store) and dot-folders
    are ignored. An entry removed while the folder is listed is simply not there.
    """
    listing = RawListing()
    if not folder.is_dir():
        return listing
    inside = tuple(path.resolve() for path in (*boundaries, folder))
    visited = {folder.resolve()}
    pending = [(folder, "")]
    while pending:
        directory, prefix = pending.pop()
        try:
            entries = sorted(os.scandir(directory), key=lambda entry: os.fsencode(entry.name))
        except OSError as error:
            listing.refused.append(RawEntry(printable_name(prefix.rstrip("/")) or ".", NOT_A_REGULAR_FILE, str(error)))
            continue
        for entry in entries:
            name = printable_name(prefix + entry.name)
            if entry.name.startswith("."):
                listing.ignored.append(RawEntry(name, HIDDEN, "dot-files and dot-folders are not read"))
                continue
            path = Path(entry.path)
            target, problem = _target(path, inside) if entry.is_symlink() else (path, None)
            if problem is not None:
                listing.refused.append(RawEntry(name, *problem))
                continue
            try:
                mode = target.stat().st_mode
            except FileNotFoundError:
                continue
            if stat.S_ISDIR(mode):
                real = target.resolve()
                if real in visited:  # a link back up, or a second way to one folder: its files are read once
                    listing.ignored.append(
                        RawEntry(name, FOLDER_READ_ELSEWHERE, f"links to {printable_name(str(real))}")
                    )
                else:
                    visited.add(real)
                    pending.append((path, prefix + entry.name + "/"))
            elif stat.S_ISREG(mode):
                listing.files.append((path, name))
            else:
                listing.refused.append(
                    RawEntry(name, NOT_A_REGULAR_FILE, f"a {_kind(mode)}: only regular files are read")
                )
    listing.files.sort(key=lambda item: os.fsencode(str(item[0])))
    return listing


def _target(link: Path, inside: tuple[Path, ...]) -> tuple[Path, tuple[str, str] | None]:
    """Where a link leads, or why it is not followed."""
    try:
        target = link.resolve(strict=True)
    except RuntimeError:  # Python 3.11 reports a loop so
        return link, (LINK_LOOP, "the link leads back to itself")
    except FileNotFoundError:
        return link, (DANGLING_LINK, f"links to {os.readlink(link)}, which does not exist")
    except OSError as error:  # ELOOP on newer Pythons, permissions
        return link, (LINK_LOOP if "loop" in str(error).lower() else DANGLING_LINK, str(error))
    if not any(target.is_relative_to(folder) for folder in inside):
        return link, (LINK_OUTSIDE, f"links to {printable_name(str(target))}, outside the data directory {inside[0]}")
    return target, None


def _kind(mode: int) -> str:
    for test, kind in ((stat.S_ISFIFO, "FIFO"), (stat.S_ISSOCK, "socket"), (stat.S_ISCHR, "character device")):
        if test(mode):
            return kind
    return "block device" if stat.S_ISBLK(mode) else "special file"


def scan_raw(raw: Path, formats: tuple[str, ...], boundary: Path) -> RawListing:
    """Everything under raw/, names relative to raw/ (`csv/a.csv`): each format folder's files, and
    every entry outside the format folders ignored with the reason."""
    listing = RawListing()
    if not raw.is_dir():
        return listing
    for fmt in formats:
        listing.extend(scan_folder(raw / fmt, boundary, raw), prefix=f"{fmt}/")
    for entry in sorted(os.scandir(raw), key=lambda entry: os.fsencode(entry.name)):
        if entry.name in formats:
            continue
        name = printable_name(entry.name)
        if entry.name.startswith("."):
            listing.ignored.append(RawEntry(name, HIDDEN, "dot-files and dot-folders are not read"))
        else:
            where = "folder" if entry.is_dir() else "file"
            listing.ignored.append(
                RawEntry(name, NOT_A_FORMAT_FOLDER, f"a {where} outside raw/<format>/ (formats: {', '.join(formats)})")
            )
    return listing


def folder_digests(folder: Path, *boundaries: Path) -> dict[str, str]:
    """{printable name relative to folder: sha256 of content} for every raw file below `folder`
    (links followed as `scan_folder` does)."""
    return listing_digests(scan_folder(folder, *boundaries))


def listing_digests(listing: RawListing) -> dict[str, str]:
    """{name: sha256 of content} of a listing's files. A file that vanishes between listing and
    reading is left out: the next look sees it gone."""
    digests = {}
    for path, name in listing.files:
        try:
            digests[name] = file_digest(path)
        except FileNotFoundError:
            continue
    return digests


def combined_digest(digests: dict[str, str]) -> str:
    """One hash of a set of files: changes when a file is added, removed, renamed or edited."""
    digest = hashlib.sha256()
    for name in sorted(digests):
        digest.update(name.encode("utf-8") + b"\0" + digests[name].encode("ascii") + b"\n")
    return digest.hexdigest()[:16]
