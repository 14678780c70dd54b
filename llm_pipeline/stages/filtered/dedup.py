"""Duplicate detection across all sources: the first record of a group is the one kept.

Records arrive in a fixed order (sources sorted, then rows in file order), so the kept
representative of every group is the same on every run. A group is named after its kept
record's id, which every dropped member carries in its rejection detail.
"""

from __future__ import annotations

import hashlib
import zlib
from dataclasses import dataclass

import numpy as np

from llm_pipeline.records import CHAT_TAG, Record
from llm_pipeline.setting import setting
from llm_pipeline.text import normalize, shingles


@dataclass(frozen=True)
class Match:
    """The kept record that a later one duplicates, and how alike they are (1.0 for exact)."""

    kept_id: str
    kept_source: str
    similarity: float = 1.0

    @property
    def group(self) -> str:
        return f"{self.kept_id} ({self.kept_source})"

    def describe(self, kind: str) -> str:
        alike = "" if self.similarity >= 1.0 else f", estimated Jaccard {self.similarity:.2f}"
        return f"{kind} of {self.kept_id} ({self.kept_source}); group {self.kept_id}{alike}"


def normalized_key(record: Record) -> str:
    """Hash of the record's content with case and whitespace folded.

    Two records that differ only in spacing or capitalisation teach the model the same thing. A
    conversation's key holds each turn's role beside its content, after a tag: normalizing folds
    the separators (control characters are whitespace), so no text or pair can take it.
    """
    if record.is_chat:
        turns = (f"{turn['role']}\x1e{normalize(turn['content'])}" for turn in record.messages)  # type: ignore[union-attr]
        folded = "\x1f".join((CHAT_TAG, *turns))
    else:
        parts = (record.text,) if record.text is not None else (record.input, record.output)
        folded = "\x1f".join(normalize(part or "") for part in parts)
    return hashlib.sha256(folded.encode("utf-8")).hexdigest()


class ExactDeduplicator:
    """Remembers one 32-byte key per distinct content and the kept record it stands for."""

    def __init__(self) -> None:
        self._kept: dict[bytes, Match] = {}

    def original_of(self, record: Record, key: bytes | None = None) -> Match | None:
        """The kept record with this record's normalized content (`key`, when already computed), or None."""
        return self._kept.get(key or bytes.fromhex(normalized_key(record)))

    def remember(self, record: Record, kept: Match, key: bytes | None = None) -> None:
        """Later copies of `record`'s content are duplicates of `kept` (itself, or what it nearly duplicates)."""
        self._kept.setdefault(key or bytes.fromhex(normalized_key(record)), kept)


@dataclass(frozen=True)
class NearDuplicateSettings:
    """MinHash LSH (datasketch) near-duplicate search."""

    # Jaccard 0.8 on character 5-grams of the normalized text. Word 5-grams, the usual choice for
    # web pages, barely see a one-word edit in a 20-60 word answer (the edit touches 5 of ~30
    # shingles); character 5-grams do, while two different answers stay far apart.
    threshold: float = setting(
        0.8,
        "Estimated Jaccard similarity of character shingles that makes a near-duplicate (prompt and response each).",
    )
    num_perm: int = setting(128, "MinHash permutations: more estimate the similarity more precisely, slower.")
    shingle_chars: int = setting(5, "Length of the character shingles compared (on case-folded words).")
    seed: int = setting(1, "Seed of the MinHash permutations.")


class MinHasher:
    """MinHash signatures (datasketch) of texts' character shingles: `num_perm` uint32 values each."""

    def __init__(self, settings: NearDuplicateSettings) -> None:
        from datasketch import MinHash

        self.settings = settings
        # CRC-32 hashes a shingle 3-4x faster than the default SHA-1; datasketch mixes every input
        # hash (MurmurHash3 finalizer) before its permutations, so a fast base hash loses nothing.
        self._template = MinHash(num_perm=settings.num_perm, seed=settings.seed, hashfunc=zlib.crc32)

    def signature(self, text: str) -> np.ndarray | None:
        """The signature, or None for a text without shingles (only punctuation)."""
        return self.signature_of(shingles(text, self.settings.shingle_chars))

    def signature_of(self, units: set[bytes]) -> np.ndarray | None:
        """The signature of a set of shingles made by the caller, or None for an empty set."""
        if not units:
            return None
        minhash = self._template.copy()
        minhash.update_batch(units)
        return minhash.hashvalues.astype(np.uint32)  # values are below 2**32: half the bytes to cache

    def signatures(self, record: Record) -> Signatures:
        """Response and prompt signatures; both None when a side has no shingles (exact check only).

        A conversation's sides are all its assistant turns and all its user turns (the system
        turn, often one text for a whole dataset, would make different conversations alike).
        """
        if record.is_chat:
            response = self.signature("\n\n".join(record.responses))
            prompt = self.signature("\n\n".join(record.turns("user")))
        else:
            response = self.signature(record.response)
            prompt = self.signature(record.prompt) if record.is_supervised else None
        if response is None or (record.is_supervised and prompt is None):
            return Signatures(None, None)
        return Signatures(response, prompt)


@dataclass(frozen=True)
class Signatures:
    response: np.ndarray | None
    prompt: np.ndarray | None  # None for an unsupervised text


class NearDeduplicator:
    """MinHash LSH over the response; a candidate counts only if it is alike on both sides.

    A supervised record is a near-duplicate of a kept one when its response and its prompt each
    reach the Jaccard threshold: two different tasks over one long passage, or one short answer
    ("Yes.") to two different questions, are different training examples. Texts, pairs and
    conversations are compared only with their own kind, as exact duplicates are.
    """

    def __init__(self, settings: NearDuplicateSettings) -> None:
        if not 0.0 < settings.threshold <= 1.0:
            raise ValueError(f"near-duplicate threshold must be in (0, 1], got {settings.threshold}")
        self.settings = settings
        self.hasher = MinHasher(settings)
        # The index only proposes candidates; each is confirmed on the signatures below. Banded at
        # the threshold itself, LSH would propose only 40% of the pairs that sit exactly at 0.8;
        # banded 0.2 lower, 99% (and datasketch cannot band above 0.9 at all).
        self._index = BandIndex(settings.num_perm, min(0.9, max(0.1, settings.threshold - 0.2)))
        # Per kept record: its match description, whether it is a conversation, its response and
        # prompt signatures (num_perm uint32 each: 1 KB a record at 128 permutations, plus the
        # index's band keys).
        self._kept: list[tuple[Match, bool, np.ndarray, np.ndarray | None]] = []

    def original_of(self, record: Record, signatures: Signatures | None = None) -> Match | None:
        """The earlier kept record this one nearly duplicates, or None (and it joins the index).

        `signatures` are the record's own, when already computed (see `MinHasher.signatures`).
        """
        signatures = signatures or self.hasher.signatures(record)
        response, prompt = signatures.response, signatures.prompt
        if response is None:  # only punctuation: the exact check alone applies
            return None
        best: Match | None = None
        band_keys = self._index.band_keys(response)
        for key in self._index.candidates(response, band_keys):  # ascending: the earliest kept record wins a tie
            kept, kept_chat, kept_response, kept_prompt = self._kept[key]
            if (prompt is None) != (kept_prompt is None) or record.is_chat != kept_chat:  # of another kind
                continue
            similarity = _agreement(response, kept_response)
            if prompt is not None:
                similarity = min(similarity, _agreement(prompt, kept_prompt))
            if similarity >= self.settings.threshold and (best is None or similarity > best.similarity):
                best = Match(kept.kept_id, kept.kept_source, similarity)
        if best is None:
            self._index.insert(len(self._kept), response, band_keys)
            self._kept.append((Match(record.id, record.source), record.is_chat, response, prompt))
        return best


class BandIndex:
    """LSH banding of MinHash signatures: signatures sharing one whole band are candidates.

    The bands and rows per band are datasketch's choice for the threshold (least weighted
    false-positive and false-negative probability). Each band is hashed to one 64-bit integer,
    salted by its band number, and all bands share one dict whose value is the first key, or a
    list once a band value repeats (a collision only proposes a candidate, which its caller
    confirms on the signatures).
    """

    def __init__(self, num_perm: int, threshold: float) -> None:
        from datasketch import MinHashLSH

        lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
        self._bands, self._rows = lsh.b, lsh.r
        rng = np.random.default_rng(0)
        self._multipliers = rng.integers(1, 2**63, size=self._rows, dtype=np.uint64) | np.uint64(1)
        self._salts = rng.integers(0, 2**63, size=self._bands, dtype=np.uint64)
        self._table: dict[int, int | list[int]] = {}

    def band_keys(self, signature: np.ndarray) -> list[int]:
        bands = signature[: self._bands * self._rows].astype(np.uint64).reshape(self._bands, self._rows)
        # Wrapping uint64 arithmetic is the hash (numpy arrays wrap silently; only scalars warn).
        return ((bands * self._multipliers).sum(axis=1, dtype=np.uint64) ^ self._salts).tolist()

    def insert(self, key: int, signature: np.ndarray, band_keys: list[int] | None = None) -> None:
        table = self._table
        for band_key in band_keys or self.band_keys(signature):
            present = table.get(band_key)
            if present is None:
                table[band_key] = key
            elif type(present) is list:
                present.append(key)
            else:
                table[band_key] = [present, key]

    def candidates(self, signature: np.ndarray, band_keys: list[int] | None = None) -> list[int]:
        found: set[int] = set()
        table = self._table
        for band_key in band_keys or self.band_keys(signature):
            present = table.get(band_key)
            if present is None:
                continue
            if type(present) is list:
                found.update(present)
            else:
                found.add(present)
        return sorted(found)


def _agreement(one: np.ndarray, other: np.ndarray) -> float:
    """Share of equal MinHash slots: the estimate of the Jaccard similarity of the two sets."""
    return float(np.count_nonzero(one == other)) / len(one)
