"""Bad HTML pages."""

from __future__ import annotations

import gzip

from llm_pipeline_tests.support.bad_inputs.common import ARTICLE, BadInput, page

NESTING_DEPTH = 50_000


def _nested_divs() -> bytes:
    return (
        "<html><body>" + "<div>" * NESTING_DEPTH + f"<p>{ARTICLE}</p>" + "</div>" * NESTING_DEPTH + "</body></html>"
    ).encode()


HTML_INPUTS: list[BadInput] = [
    BadInput(
        "truncated HTML (cut inside a tag)",
        "html/truncated.html",
        lambda: page(f"<article><p>{ARTICLE}</p><p>Turn the he").encode()[:-40] + b"<p cla",
        keeps="Compost needs air",
    ),
    BadInput(
        "binary file named .html (gzip)",
        "html/gzipped.html",
        lambda: gzip.compress(page(ARTICLE).encode()),
        reasons=("not_html",),
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
]
