"""Bad HTML pages."""

from __future__ import annotations

import base64
import gzip
import random

from llm_pipeline_tests.support.bad_inputs.common import ARTICLE, BadInput, page

NESTING_DEPTH = 50_000
RUSSIAN = (
    "Компост любит воздух, воду и смесь зелёных кухонных остатков с бурыми листьями. "
    "Переворачивайте кучу каждую неделю, чтобы середина оставалась тёплой."
)
AFTER_THE_IMAGE = "Sieve the finished compost before you spread it on the beds in spring."


def _nested_divs() -> bytes:
    return (
        "<html><body>" + "<div>" * NESTING_DEPTH + f"<p>{ARTICLE}</p>" + "</div>" * NESTING_DEPTH + "</body></html>"
    ).encode()


def _giant_inline_image() -> bytes:
    """An article with an 11 MB base64 `data:` image inside: past libxml2's 10 MB node limit."""
    image = base64.b64encode(random.Random(0).randbytes(8_250_000)).decode()
    return page(
        f'<article><h1>Compost</h1><p>{ARTICLE}</p><img src="data:image/png;base64,{image}"><p>{AFTER_THE_IMAGE}</p></article>'
    ).encode()


HTML_INPUTS: list[BadInput] = [
    BadInput(
        "truncated HTML (cut inside a tag)",
        "html/truncated.html",
        lambda: page(f"<article><p>{ARTICLE}</p><p>Turn the he").encode()[:-40] + b"<p cla",
        keeps="Compost needs air",
    ),
    BadInput(
        "gzip-compressed page named .html (read as its text)",
        "html/gzipped.html",
        lambda: gzip.compress(page(ARTICLE).encode()),
        keeps="Compost needs air",
    ),
    BadInput(
        "binary file named .html (random bytes)",
        "html/random.html",
        lambda: bytes((i * 7919 + 13) % 256 for i in range(8192)),
        reasons=("not_html",),
    ),
    BadInput(
        "HTML declaring ISO-8859-1, encoded in UTF-8",
        "html/lying_latin1.html",
        lambda: page(
            "<p>Caf\u00e9 cr\u00e8me: steam the milk to about sixty degrees, never hotter, or it scalds.</p>",
            '<meta charset="iso-8859-1">',
        ).encode("utf-8"),
        keeps="Caf\u00e9 cr\u00e8me",
    ),
    BadInput(
        "HTML declaring UTF-8, encoded in cp1252",
        "html/lying_utf8.html",
        lambda: page(
            "<p>Cr\u00e8me br\u00fbl\u00e9e needs a hot grill \u2013 a torch is better.</p>", '<meta charset="utf-8">'
        ).encode("cp1252"),
        keeps="Cr\u00e8me br\u00fbl\u00e9e",
    ),
    BadInput(
        f"{NESTING_DEPTH:,} nested <div>s", "html/nested.html", _nested_divs, keeps="Compost needs air", on_its_own=True
    ),
    BadInput("zero-byte HTML", "html/zero.html", lambda: b"", reasons=("empty_file",)),
    BadInput("whitespace-only HTML", "html/blank.html", lambda: b" \n\t\n", reasons=("empty_file",)),
    BadInput(
        "HTML with no visible text",
        "html/scripts_only.html",
        lambda: page("<script>var a = 1;</script><style>p {}</style>").encode(),
        reasons=("empty_text",),
    ),
    BadInput(
        "HTML in UTF-16 without a BOM",
        "html/utf16.html",
        lambda: page(f"<p>{ARTICLE}</p>").encode("utf-16-le"),
        keeps="Compost needs air",
    ),
    BadInput(
        "HTML declaring a byte transform as its charset (rot13)",
        "html/charset_rot13.html",
        lambda: page(f"<p>{ARTICLE}</p>", '<meta charset="rot13">').encode(),
        keeps="Compost needs air",
    ),
    BadInput(
        "HTML whose XML declaration names a compression codec (zlib)",
        "html/charset_zlib.html",
        lambda: ('<?xml version="1.0" encoding="zlib"?>' + page(f"<p>Caf\u00e9 compost: {ARTICLE}</p>")).encode(
            "cp1252"
        ),
        keeps="Caf\u00e9 compost",
    ),
    BadInput(
        "HTML declaring unicode_escape, with backslashes in its text",
        "html/charset_unicode_escape.html",
        lambda: page(
            "<p>Keep the compost log in C:\\new\\x41.txt and update it every week.</p>",
            '<meta http-equiv="Content-Type" content="text/html; charset=unicode_escape">',
        ).encode(),
        keeps="C:\\new\\x41.txt",
    ),
    BadInput(
        "HTML in cp1251 declaring koi8-r",
        "html/lying_koi8r.html",
        lambda: page(f"<p>{RUSSIAN}</p>", '<meta charset="koi8-r">').encode("cp1251"),
        keeps="Компост любит воздух",
    ),
    BadInput(
        "HTML in cp1251 declaring ISO-8859-1",
        "html/lying_latin1_cyrillic.html",
        lambda: page(f"<p>{RUSSIAN}</p>", '<meta charset="iso-8859-1">').encode("cp1251"),
        keeps="Компост любит воздух",
        never_keeps="\u00ca\u00ee\u00ec",  # "Êîì": the start of "Компост" read as Latin-1
    ),
    BadInput(
        "HTML with an 11 MB inline data: image inside the article",
        "html/giant_inline_image.html",
        _giant_inline_image,
        keeps=AFTER_THE_IMAGE,
    ),
]
