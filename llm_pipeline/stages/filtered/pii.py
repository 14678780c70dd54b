"""Redaction of personal data a model should not learn: emails, phone numbers, public IP addresses.

Each match is replaced by a placeholder (`<EMAIL>`, `<PHONE>`, `<IP_ADDRESS>`), so the text
keeps its shape and the model learns that an address goes there, not which one. Patterns are
kept strict on purpose: a date, a version number or a price must not turn into `<PHONE>`.
"""

from __future__ import annotations

import ipaddress
import re
from collections import Counter

from llm_pipeline.records import Record

PLACEHOLDERS = {"email": "<EMAIL>", "phone": "<PHONE>", "ip_address": "<IP_ADDRESS>"}

_EMAIL = re.compile(r"(?<![\w.+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}(?![\w-])")
_IPV4 = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?!\w|\.\d)")
# Candidates only; ipaddress decides. Not touching a word character or a colon keeps "std::cout"
# and "10:30:00" out.
_IPV6 = re.compile(r"(?<![\w:])[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?![\w:])")
_PHONE = re.compile(
    r"(?<![\w+])(?:"
    r"\+\d{1,3}(?:[ .-]?\(?\d{1,4}\)?){2,5}"  # international: +44 20 7946 0958, +1 (555) 010-0199
    r"|\(\d{3}\) ?\d{3}[ .-]\d{4}"  # North American: (555) 010-0199
    r"|\d{3}[.-]\d{3}[.-]\d{4}"  # North American: 555-010-0199
    r"|0\d{2,4}[ /-]\d{3,4}[ -]?\d{3,4}"  # national with a trunk 0: 0161 496 0000, 030/1234-5678
    r")(?![\w-])"
)


def _public_ip(candidate: str) -> bool:
    """A valid, globally routable address: a private, loopback or documentation address such as
    192.168.1.1 or ::1 is network know-how ("your router is often at ..."), not someone's data."""
    if not any(character.isalnum() for character in candidate):  # "::" alone is punctuation
        return False
    try:
        return ipaddress.ip_address(candidate).is_global
    except ValueError:
        return False


def _phone_digits_ok(candidate: str) -> bool:
    return 7 <= sum(character.isdigit() for character in candidate) <= 15


def redact(text: str, counts: Counter | None = None) -> str:
    """`text` with personal data replaced by placeholders; `counts` gains one per replacement."""
    counts = counts if counts is not None else Counter()

    def replace(kind: str, valid=lambda candidate: True):
        def substitute(match: re.Match) -> str:
            if not valid(match.group(0)):
                return match.group(0)
            counts[kind] += 1
            return PLACEHOLDERS[kind]

        return substitute

    text = _EMAIL.sub(replace("email"), text)
    text = _IPV4.sub(replace("ip_address", _public_ip), text)
    text = _IPV6.sub(replace("ip_address", _public_ip), text)
    return _PHONE.sub(replace("phone", _phone_digits_ok), text)


TEXT_FIELDS = ("text", "input", "output")


def redacted_fields(record: Record, counts: Counter) -> dict[str, object]:
    """The fields redaction changes, with their new values: text fields, and a conversation's
    turns (every turn's content redacted, roles and order kept)."""
    changed: dict[str, object] = {}
    for name in TEXT_FIELDS:
        value = getattr(record, name)
        if value and (new := redact(value, counts)) != value:
            changed[name] = new
    if record.messages:
        turns = [{"role": turn["role"], "content": redact(turn["content"], counts)} for turn in record.messages]
        if any(new["content"] != old["content"] for new, old in zip(turns, record.messages, strict=True)):
            changed["messages"] = turns
    return changed
