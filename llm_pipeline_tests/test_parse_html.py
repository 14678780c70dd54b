"""HTML -> main text: boilerplate dropped, paragraphs kept, any charset decoded, binary refused."""

from __future__ import annotations

import gzip

import pytest

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


def test_article_text_is_kept_and_boilerplate_dropped():
    text = extract_text(ARTICLE_PAGE)
    assert text == (
        "Rivers are rising\n\nBy A. Writer\n\nThe first paragraph of the story.\n\n"
        "The second paragraph, with a link and bold text.\n\n  indented\n    code"
    )


@pytest.mark.parametrize(
    "boilerplate",
    ["SCRIPT TEXT", "color", "Home", "Logo", "cookies", "Share on", "Most read", "First comment", "Copyright", "Enable JavaScript"],
)
def test_boilerplate_is_gone(boilerplate):
    assert boilerplate not in extract_text(ARTICLE_PAGE)


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
    assert extract_text(page) == "Title\n\nBody text here.\n\nLine one\nline two"


def test_teaser_articles_do_not_replace_the_main_content():
    story = "<p>" + "Long story sentence. " * 40 + "</p>"
    page = f"<main><h1>Story</h1>{story}<article><a>Related: short teaser</a></article></main>"
    text = extract_text(page)
    assert text.startswith("Story\n\nLong story sentence.")


def test_sidebar_of_teaser_articles_is_dropped_around_a_plain_div_story():
    story = "<div class='story'><h1>Story</h1><p>" + "Long story sentence. " * 40 + "</p></div>"
    teasers = "".join(f"<article><a>Teaser {i}</a></article>" for i in range(3))
    text = extract_text(f"<body>{story}<aside>{teasers}</aside></body>")
    assert text.startswith("Story\n\nLong story sentence.") and "Teaser" not in text


def test_lists_and_tables_become_lines():
    page = "<main><ul><li>one</li><li>two</li></ul><table><tr><td>a</td><td>b</td></tr><tr><td>c</td><td>d</td></tr></table></main>"
    assert extract_text(page) == "one\ntwo\n\na b\nc d"


@pytest.mark.parametrize(
    ("charset", "text"),
    [
        ("shift_jis", "日本語の記事です。東京は晴れ。"),
        ("gbk", "中文文章，北京今天天气晴朗。"),
        ("euc-kr", "한국어 기사입니다. 서울은 맑음."),
        ("iso-8859-1", "Café crème brûlée"),
    ],
)
def test_declared_charsets_decode(charset, text):
    page = f'<html><head><meta charset="{charset}"></head><body><p>{text}</p></body></html>'
    assert extract_text(page.encode(charset)) == text


def test_utf8_page_whose_meta_says_latin1_still_decodes():
    page = '<html><head><meta http-equiv="Content-Type" content="text/html; charset=iso-8859-1"></head>'
    page += "<body><p>Grüße aus Köln — naïve café</p></body></html>"
    assert extract_text(page.encode("utf-8")) == "Grüße aus Köln — naïve café"


def test_legacy_page_whose_meta_says_utf8_is_detected():
    page = '<html><head><meta charset="utf-8"></head><body><p>Crème brûlée à la française</p></body></html>'
    assert extract_text(page.encode("cp1252")) == "Crème brûlée à la française"


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
