"""HTML -> main text: boilerplate dropped, paragraphs kept, any charset decoded, binary refused.

The exact-output tests pin our own "bs4" rules; "main" (trafilatura) is tested on what it must
keep and drop, and every mode on decoding and on pages past the parser's size limits.
"""

from __future__ import annotations

import base64
import gzip
import random

import pytest

from llm_pipeline.parse.encodings import python_codec
from llm_pipeline.parse.html import decode_html, extract_text

ARTICLE_PAGE = """<!doctype html>
<html><head><title>Site</title><style>p { color: red }</style>
<script>var tracking = "SCRIPT TEXT";</script></head>
<body class="has-sidebar">
  <header class="site-header"><a href="/">Logo</a> <nav><a>Home</a> <a>World</a></nav></header>
  <div id="cookie-banner">We use cookies. Accept?</div>
  <div class="layout">
    <article>
      <header><h1>Rivers are rising</h1><p class="byline">By A. Writer</p></header>
      <p>The first   paragraph
         of the story.</p>
      <p>The second paragraph, with <a href="#">a link</a> and <b>bold</b> text.</p>
      <div class="share-buttons">Share on Twitter Share on Facebook</div>
      <pre>  indented
    code</pre>
    </article>
    <aside class="sidebar">Most read: something else</aside>
  </div>
  <section id="comments"><p>First comment!</p></section>
  <footer>Copyright 2024 Example News</footer>
  <noscript>Enable JavaScript</noscript>
</body></html>"""


def test_bs4_mode_keeps_the_article_and_drops_boilerplate():
    text = extract_text(ARTICLE_PAGE, mode="bs4")
    assert text == (
        "Rivers are rising\n\nBy A. Writer\n\nThe first paragraph of the story.\n\n"
        "The second paragraph, with a link and bold text.\n\n  indented\n    code"
    )


@pytest.mark.parametrize(
    "boilerplate",
    [
        "SCRIPT TEXT",
        "color",
        "Home",
        "Logo",
        "cookies",
        "Share on",
        "Most read",
        "First comment",
        "Copyright",
        "Enable JavaScript",
    ],
)
def test_bs4_mode_drops_boilerplate(boilerplate):
    assert boilerplate not in extract_text(ARTICLE_PAGE, mode="bs4")


# A news page as sites serve it: chrome around an article long enough for trafilatura to score.
NEWS_PARAGRAPHS = [
    "The harbour authority opened the new sea wall on Monday after four years of construction work.",
    "Engineers say the wall will protect about two thousand homes from the winter storm surges that flooded the old town twice in the last decade.",
    "The project cost forty million euros, most of it paid by the regional government, and local fishermen were consulted on the design of the new gates.",
    "Residents gathered on the promenade to watch the first high tide roll in against the concrete, and many said they felt safer already.",
]
NEWS_PAGE = f"""<!doctype html><html><head><meta charset="utf-8"><title>Sea wall opens | Coast Gazette</title>
<script>window.ads = "SCRIPT TEXT";</script></head><body>
<header><nav><ul><li><a href="/">Home</a></li><li><a href="/news">News</a></li><li><a href="/sport">Sport</a></li></ul></nav></header>
<main><article><h1>New sea wall opens in the old harbour</h1>
{"".join(f"<p>{paragraph}</p>" for paragraph in NEWS_PARAGRAPHS)}
</article>
<aside class="related"><h2>Most read</h2><ul><li><a href="/a">Ferry timetable changes</a></li><li><a href="/b">Lighthouse tours resume</a></li></ul></aside>
<section class="comments"><div class="comment"><p>Great news for the town, finally!</p></div></section></main>
<footer><p>Copyright 2024 Coast Gazette. All rights reserved.</p><a href="/privacy">Privacy policy</a></footer>
</body></html>"""


@pytest.mark.parametrize("mode", ["main", "bs4"])
def test_main_and_bs4_modes_keep_every_article_paragraph(mode):
    text = extract_text(NEWS_PAGE.encode("utf-8"), mode=mode)
    assert "New sea wall opens in the old harbour" in text
    for paragraph in NEWS_PARAGRAPHS:
        assert paragraph in text


@pytest.mark.parametrize("mode", ["main", "bs4"])
@pytest.mark.parametrize(
    "boilerplate",
    ["SCRIPT TEXT", "Sport", "Most read", "Ferry timetable", "Great news for the town", "Copyright", "Privacy policy"],
)
def test_main_and_bs4_modes_drop_the_chrome_of_a_news_page(mode, boilerplate):
    assert boilerplate not in extract_text(NEWS_PAGE, mode=mode)


def test_main_mode_falls_back_to_bs4_rules_when_trafilatura_finds_nothing():
    # Too little text for trafilatura, which returns nothing; the page's text is still kept.
    assert extract_text("<div><p>x</p></div>") == "x"


def test_full_mode_keeps_navigation_but_not_scripts():
    text = extract_text(ARTICLE_PAGE, mode="full")
    assert "Home" in text and "Copyright 2024" in text and "Rivers are rising" in text
    assert "SCRIPT TEXT" not in text


def test_selector_mode_returns_matches_separated_by_blank_lines():
    page = '<div class="post"><p>one</p></div><div class="ad">buy</div><div class="post">two</div>'
    assert extract_text(page, selector="div.post") == "one\n\ntwo"


def test_invalid_selector_or_mode_is_a_clear_value_error():
    with pytest.raises(ValueError, match="selector"):
        extract_text("<p>x</p>", selector="div[")
    with pytest.raises(ValueError, match="mode"):
        extract_text("<p>x</p>", mode="everything")


def test_page_without_semantic_tags_uses_the_body_minus_class_marked_chrome():
    page = """<body><div id="mainMenu">Home About</div>
    <div class="content"><h2>Title</h2><p>Body text here.</p><p>Line one<br>line two</p></div>
    <div class="site-footer">Imprint</div></body>"""
    assert extract_text(page, mode="bs4") == "Title\n\nBody text here.\n\nLine one\nline two"


def test_teaser_articles_do_not_replace_the_main_content():
    story = "<p>" + "Long story sentence. " * 40 + "</p>"
    page = f"<main><h1>Story</h1>{story}<article><a>Related: short teaser</a></article></main>"
    text = extract_text(page, mode="bs4")
    assert text.startswith("Story\n\nLong story sentence.")


def test_sidebar_of_teaser_articles_is_dropped_around_a_plain_div_story():
    story = "<div class='story'><h1>Story</h1><p>" + "Long story sentence. " * 40 + "</p></div>"
    teasers = "".join(f"<article><a>Teaser {i}</a></article>" for i in range(3))
    text = extract_text(f"<body>{story}<aside>{teasers}</aside></body>", mode="bs4")
    assert text.startswith("Story\n\nLong story sentence.") and "Teaser" not in text


def test_lists_and_tables_become_lines():
    page = "<main><ul><li>one</li><li>two</li></ul><table><tr><td>a</td><td>b</td></tr><tr><td>c</td><td>d</td></tr></table></main>"
    assert extract_text(page, mode="bs4") == "one\ntwo\n\na b\nc d"


@pytest.mark.parametrize("mode", ["main", "bs4", "full"])
@pytest.mark.parametrize(
    ("charset", "text"),
    [
        ("shift_jis", "日本語の記事です。東京は晴れ。"),
        ("gbk", "中文文章，北京今天天气晴朗。"),
        ("euc-kr", "한국어 기사입니다. 서울은 맑음."),
        ("iso-8859-1", "Café crème brûlée"),
    ],
)
def test_declared_charsets_decode(charset, text, mode):
    page = f'<html><head><meta charset="{charset}"></head><body><p>{text}</p></body></html>'
    assert extract_text(page.encode(charset), mode=mode) == text


@pytest.mark.parametrize("mode", ["main", "bs4"])
def test_utf8_page_whose_meta_says_latin1_still_decodes(mode):
    page = '<html><head><meta http-equiv="Content-Type" content="text/html; charset=iso-8859-1"></head>'
    page += "<body><p>Grüße aus Köln — naïve café</p></body></html>"
    assert extract_text(page.encode("utf-8"), mode=mode) == "Grüße aus Köln — naïve café"


@pytest.mark.parametrize("mode", ["main", "bs4"])
def test_legacy_page_whose_meta_says_utf8_is_detected(mode):
    page = '<html><head><meta charset="utf-8"></head><body><p>Crème brûlée à la française</p></body></html>'
    assert extract_text(page.encode("cp1252"), mode=mode) == "Crème brûlée à la française"


def test_bom_wins_over_meta():
    page = '<html><head><meta charset="iso-8859-1"></head><body><p>Ünïcödé</p></body></html>'
    assert decode_html(page.encode("utf-16")).endswith("<p>Ünïcödé</p></body></html>")


@pytest.mark.parametrize(
    "blob",
    [
        b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4,
        gzip.compress(b"<html><body>compressed</body></html>" * 50),
        bytes(range(256)) * 8,
    ],
    ids=["png", "gzip", "control-bytes"],
)
def test_binary_input_raises_value_error(blob):
    with pytest.raises(ValueError, match="not HTML text"):
        extract_text(blob)


def test_empty_input_gives_empty_text():
    assert extract_text(b"") == ""
    assert extract_text("   \n") == ""
    assert decode_html(b"") == ""


# Python codecs that are not how any page is written: byte transforms (rot13 ... quopri),
# escape decoders that would rewrite backslashes, and codecs no browser accepts.
NOT_PAGE_ENCODINGS = [
    "rot13",
    "rot_13",
    "base64",
    "hex",
    "zlib",
    "bz2",
    "uu",
    "quopri",
    "unicode_escape",
    "raw_unicode_escape",
    "utf-7",
    "idna",
    "punycode",
    "undefined",
]
CHARSET_DECLARATIONS = [
    '<html><head><meta charset="{}"></head>',
    '<html><head><meta http-equiv="Content-Type" content="text/html; charset={}"></head>',
    '<?xml version="1.0" encoding="{}"?><html><head></head>',
]


@pytest.mark.parametrize("declaration", CHARSET_DECLARATIONS, ids=["meta", "http-equiv", "xml"])
@pytest.mark.parametrize("label", NOT_PAGE_ENCODINGS)
@pytest.mark.parametrize(
    "body", [r"Path C:\new\x41, caf\u00e9", "Caf\u00e9 cr\u00e8me, path C:\\new"], ids=["ascii", "cp1252"]
)
def test_a_declared_codec_that_is_no_page_encoding_is_ignored(label, declaration, body):
    page = declaration.format(label) + f"<body><p>{body}</p></body></html>"
    assert decode_html(page.encode("cp1252")) == page


@pytest.mark.parametrize("mode", ["main", "bs4"])
def test_an_xml_declaration_of_a_byte_transform_does_not_stop_extraction(mode):
    page = f'<?xml version="1.0" encoding="rot13"?><html><body><article><p>{NEWS_PARAGRAPHS[1]}</p></article></body></html>'
    assert NEWS_PARAGRAPHS[1] in extract_text(page.encode(), mode=mode)


@pytest.mark.parametrize(
    ("label", "codec"),
    [
        ("ISO-8859-1", "cp1252"),
        (" latin1 ", "cp1252"),
        ("us-ascii", "cp1252"),
        ("x-sjis", "cp932"),
        ("gb2312", "gb18030"),
        ("koi8-r", "koi8_r"),
        ("utf-16le", "utf-8"),
        ("iso-2022-kr", None),  # WHATWG "replacement": browsers refuse to decode it
        ("x-user-defined", None),
        ("latin-1", None),  # a Python alias, not a WHATWG label
        ("ebcdic-cp-us", None),
    ],
)
def test_charset_labels_are_read_as_browsers_read_them(label, codec):
    assert python_codec(label) == codec


RUSSIAN = (
    "Компост любит воздух, воду и смесь зелёных кухонных остатков с бурыми листьями. "
    "Переворачивайте кучу каждую неделю, чтобы середина оставалась тёплой."
)
FRENCH = (
    "Le compost a besoin d'air, d'eau et d'un mélange de déchets verts et de feuilles brunes. "
    "Retournez le tas chaque semaine pour que le centre reste chaud."
)


def _declared_page(text: str, label: str) -> str:
    return f'<html><head><meta charset="{label}"><title>Compost</title></head><body><p>{text}</p></body></html>'


@pytest.mark.parametrize(
    ("encoding", "label"), [("cp1251", "iso-8859-1"), ("cp1251", "koi8-r"), ("koi8-r", "windows-1251")]
)
def test_a_single_byte_charset_that_lies_is_overruled(encoding, label):
    page = _declared_page(RUSSIAN, label)
    assert decode_html(page.encode(encoding)) == page


@pytest.mark.parametrize(
    ("text", "encoding", "label"),
    [
        (RUSSIAN, "koi8-r", "koi8-r"),
        (RUSSIAN, "cp1251", "windows-1251"),
        (RUSSIAN, "iso8859-5", "iso-8859-5"),
        (FRENCH, "latin-1", "iso-8859-1"),
        ("Café crème brûlée", "latin-1", "iso-8859-1"),
        ("Zażółć gęślą jaźń, powiedział.", "iso8859-2", "iso-8859-2"),
    ],
)
def test_a_true_single_byte_declaration_is_kept(text, encoding, label):
    page = _declared_page(text, label)
    assert decode_html(page.encode(encoding)) == page


# Past libxml2's 10,000,000-byte limit on one attribute value, text node or comment, lxml
# stops parsing there unless told the input may be huge.
_GIANT = 11_000_000
_GIANT_IMAGE = base64.b64encode(random.Random(0).randbytes(_GIANT * 3 // 4)).decode()


@pytest.mark.parametrize("mode", ["main", "bs4"])
@pytest.mark.parametrize(
    "giant",
    [
        f'<p><img src="data:image/png;base64,{_GIANT_IMAGE}"></p>',
        f"<pre>{_GIANT_IMAGE}</pre>",
        f"<!-- {_GIANT_IMAGE} -->",
    ],
    ids=["attribute", "text", "comment"],
)
def test_the_article_after_a_giant_node_comes_out_whole(giant, mode):
    page = NEWS_PAGE.replace("<main><article>", f"<main><article>{giant}")
    text = extract_text(page.encode(), mode=mode)
    for paragraph in NEWS_PARAGRAPHS:
        assert paragraph in text
    if "<!--" in giant:
        assert _GIANT_IMAGE[:100] not in text
