"""HTML page -> its main text; no file I/O.

Decoding is always ours (`decode_html`): a BOM, valid UTF-8, the declared charset only when
it is one browsers accept (`encodings`) and the bytes agree with it, then detection.
Extraction has three modes:

- "main" (default): trafilatura's main-content extraction. On the readability test pages it
  scored a higher macro word F1 than our own rules and ran faster (`benchmarks/ingest.py`).
  When it finds no content (very short or unusual pages), the "bs4" extraction answers.
- "bs4": BeautifulSoup over lxml: prune what is not the page's own text (`_prune`), render
  the rest as paragraphs (`_render`). Pruning follows what pages say about themselves
  (semantic tags, ARIA roles, class/id words) rather than scoring text density: predictable.
- "full": all text of the body.
A `selector=` (CSS) names the content element instead, for sites the user knows.
"""

from __future__ import annotations

import codecs
import re
from typing import Literal, get_args

from bs4 import BeautifulSoup, NavigableString, Tag
from bs4.element import PreformattedString

from llm_pipeline.parse.encodings import SINGLE_BYTE_CODECS, likeliest_encoding, python_codec
from llm_pipeline.parse.errors import ParseError

Mode = Literal["main", "bs4", "full"]
MODES: tuple[str, ...] = get_args(Mode)

# Elements whose text is never shown as page text.
_NON_TEXT_TAGS = ("head", "script", "style", "noscript", "template", "svg", "iframe", "object", "embed", "canvas")
_BOILERPLATE_TAGS = frozenset({"nav", "header", "footer", "aside", "form", "dialog", "menu", "button"})
_BOILERPLATE_ROLES = frozenset(
    {"navigation", "banner", "contentinfo", "complementary", "search", "menu", "menubar", "dialog"}
)
# Words in a class or id that mark a block as site chrome rather than the article.
_BOILERPLATE_WORDS = frozenset(
    {
        "nav",
        "navbar",
        "navigation",
        "menu",
        "menubar",
        "sidebar",
        "footer",
        "breadcrumb",
        "breadcrumbs",
        "cookie",
        "cookies",
        "consent",
        "share",
        "sharing",
        "social",
        "comment",
        "comments",
        "related",
        "newsletter",
        "subscribe",
        "promo",
        "advert",
        "advertisement",
        "ads",
        "skip",
    }
)
# A block holding more than this share of the text being pruned is the content, not chrome.
_MAX_BOILERPLATE_SHARE = 0.5

_LINE, _PARAGRAPH = 1, 2
_LINE_TAGS = frozenset({"br", "li", "tr", "dt", "dd", "option", "caption", "figcaption", "summary", "legend"})
_PARAGRAPH_TAGS = frozenset(
    {
        "address",
        "article",
        "aside",
        "blockquote",
        "center",
        "details",
        "dialog",
        "div",
        "dl",
        "fieldset",
        "figure",
        "footer",
        "form",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "header",
        "hgroup",
        "hr",
        "main",
        "nav",
        "ol",
        "p",
        "section",
        "table",
        "ul",
    }
)
_CELL_TAGS = frozenset({"td", "th"})
# libxml2 stops parsing at an attribute value, text node or comment longer than this, unless
# the parser is told to accept huge input.
_LIBXML2_MAX_NODE_BYTES = 10_000_000
_NOT_XML_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")

# --- decoding ---------------------------------------------------------------------------

_PRESCAN_BYTES = 16 * 1024
_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),  # before UTF-16 LE: its BOM starts the same way
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_META_CHARSET = re.compile(rb"""<meta\b[^>]*?charset\s*=\s*["']?\s*([-\w.:]+)""", re.I)
_XML_ENCODING = re.compile(rb"""^\s*<\?xml\b[^>]*?encoding\s*=\s*["']([-\w.:]+)""", re.I)
# A declared single-byte charset is overruled when the page read with it is this much worse
# than read with charset_normalizer's best guess: more chaos (odd mixes of letters, case and
# symbols) or less coherence (letter frequencies unlike those of any language).
_MAX_EXTRA_CHAOS = 0.1
_MAX_LOST_COHERENCE = 0.3
_MAGIC_NUMBERS = {
    b"\x89PNG": "a PNG image",
    b"\x1f\x8b": "gzip data",
    b"GIF8": "a GIF image",
    b"\xff\xd8\xff": "a JPEG image",
    b"PK\x03\x04": "a zip archive",
    b"%PDF": "a PDF document",
    b"BZh": "bzip2 data",
    b"\xfd7zXZ": "xz data",
    b"\x28\xb5\x2f\xfd": "zstd data",
    b"\x7fELF": "an executable",
}
_CONTROL_BYTES = frozenset(range(32)) - {9, 10, 11, 12, 13, 27}  # ESC is used by ISO-2022 text
_MAX_CONTROL_SHARE = 0.02


def decode_html(page: bytes) -> str:
    """The text of an HTML page given as bytes.

    Order of evidence: a BOM; then the bytes themselves when they are valid UTF-8 with
    non-ASCII characters (a page can declare one charset and be encoded in another, and
    UTF-8 is practically never valid by accident); then the charset declared in `<meta>` or
    the XML declaration, if browsers accept its label, the bytes decode with it and, for a
    single-byte charset (where any bytes decode), the text reads about as well as with
    charset_normalizer's guess; then charset_normalizer's detection.
    Raises `ParseError` (a ValueError) for bytes that are not text.
    """
    if not page:
        return ""
    for bom, encoding in _BOMS:
        if page.startswith(bom):
            return page[len(bom) :].decode(encoding, errors="replace")
    if page[:2] in (b"<\x00", b"\x00<"):  # UTF-16 without a BOM: every other byte is NUL
        return page.decode("utf-16-le" if page[0] else "utf-16-be", errors="replace")
    _reject_binary(page[:_PRESCAN_BYTES])
    declared = _declared_encoding(page[:_PRESCAN_BYTES])
    if page.isascii():
        # ASCII reads the same in every ASCII-based charset; the declaration still matters
        # for 7-bit encodings such as ISO-2022-JP.
        return page.decode(declared or "ascii", errors="replace")
    try:
        return page.decode("utf-8")
    except UnicodeDecodeError:
        pass
    if declared and declared != "utf-8":
        try:
            text = page.decode(declared)
        except UnicodeDecodeError:
            text = None  # the declaration is wrong; detect instead
        if text is not None and (declared not in SINGLE_BYTE_CODECS or _reads_plausibly(page, declared)):
            return text
    detected = _detect(page)
    return detected if detected is not None else page.decode("utf-8", errors="replace")


def _detect(page: bytes) -> str | None:
    """The page decoded with the likeliest encoding, or None when detection has no guess."""
    encoding = likeliest_encoding(page)
    return None if encoding is None else page.decode(encoding)


def _reads_plausibly(page: bytes, encoding: str) -> bool:
    """Whether the page read as the single-byte `encoding` is about as good as the best guess.

    Every byte decodes in a single-byte charset, so a decode that succeeds proves nothing:
    cp1251 Russian declared as ISO-8859-1 reads as accented Latin gibberish.
    """
    from charset_normalizer import from_bytes

    detected = from_bytes(page).best()
    if detected is None or encoding in detected.could_be_from_charset:
        return True
    declared = from_bytes(page, cp_isolation=[encoding]).best()  # None: past the chaos threshold
    return (
        declared is not None
        and declared.chaos <= detected.chaos + _MAX_EXTRA_CHAOS
        and declared.coherence >= detected.coherence - _MAX_LOST_COHERENCE
    )


def _declared_encoding(head: bytes) -> str | None:
    """Python's codec for the charset the page declares; None when it declares none or a label
    browsers do not accept (those are ignored, as browsers ignore them)."""
    match = _XML_ENCODING.search(head) or _META_CHARSET.search(head)
    return python_codec(match.group(1).decode("ascii")) if match else None


def _reject_binary(sample: bytes | str) -> None:
    """Raise for input that is not text: a known file signature, or many control bytes."""
    if isinstance(sample, bytes):
        for magic, what in _MAGIC_NUMBERS.items():
            if sample.startswith(magic):
                raise ParseError(f"not HTML text: the input is {what}")
        controls = sum(1 for byte in sample if byte in _CONTROL_BYTES)
    else:
        controls = sum(1 for char in sample if ord(char) in _CONTROL_BYTES)
    if controls > _MAX_CONTROL_SHARE * len(sample):
        raise ParseError(f"not HTML text: {controls} control bytes in the first {len(sample)}, looks binary")


# --- extraction -------------------------------------------------------------------------


def extract_text(page: bytes | str, mode: Mode = "main", *, selector: str | None = None) -> str:
    """The text of a page.

    mode="main" (default): the article or main content as trafilatura extracts it (one
    paragraph per line), or the "bs4" extraction when trafilatura finds none. mode="bs4": the
    article or main content without navigation, headers, footers, sidebars, cookie banners,
    share and comment blocks, by our own rules (paragraphs separated by a blank line).
    mode="full": all text of the body. `selector`: the text of the elements matching this CSS
    selector (overrides `mode`), for sites where the user knows which element holds the content.
    Raises `ParseError` (a ValueError) for input that is not HTML text; "" for empty input.
    """
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}: expected one of {', '.join(MODES)}")
    compiled = _compile_selector(selector) if selector is not None else None
    text = decode_html(page) if isinstance(page, bytes) else page.lstrip("\ufeff")
    _reject_binary(text[:_PRESCAN_BYTES])
    if not text.strip():
        return ""
    if mode == "main" and compiled is None:
        found = _trafilatura_text(text)
        if found:
            return found
    soup = BeautifulSoup(text, "lxml", huge_tree=True)  # see _huge_page_tree
    for element in soup.find_all(_NON_TEXT_TAGS):
        element.decompose()
    if compiled is not None:
        return "\n\n".join(_render(element) for element in _outermost(compiled.select(soup)))
    root = soup.body or soup
    if mode != "full":
        root = _main_content(root)
        _prune(root)
    return _render(root)


def _trafilatura_text(text: str) -> str:
    """trafilatura's main text of a decoded page ("" when it finds none).

    Readers' comments are left out, as in "bs4" mode: they are not the page's own text.
    `fast=True` skips only the comparison with trafilatura's readability and jusText ports
    (its own extractor, baseline rescue and recall retry still run): on the benchmark pages
    the F1 was the same and extraction about 1.4x faster, which keeps it as fast as the
    seed's plain get_text().
    """
    import trafilatura

    # A page under a quarter of libxml2's node limit in characters cannot hold a node over it
    # (a character is at most 4 bytes); such pages keep trafilatura's own loading and repairs.
    page = _huge_page_tree(text) if len(text) > _LIBXML2_MAX_NODE_BYTES // 4 else text
    if page is None:
        return ""
    return (trafilatura.extract(page, fast=True, include_comments=False, include_tables=True) or "").strip()


def _huge_page_tree(text: str):
    """The lxml tree of a page that may hold a node over libxml2's limit; None if it has no element.

    trafilatura's parser keeps that limit, and past it libxml2 drops the rest of the page
    without an error: an inline `data:` image of 10 MB would cut off the article after it.
    The options are those of trafilatura's parser, plus `huge_tree`; characters XML does not
    allow are removed first, as trafilatura does (its XML output cannot hold them).
    """
    from lxml import etree, html

    parser = html.HTMLParser(
        huge_tree=True,
        collect_ids=False,
        default_doctype=False,
        remove_comments=True,
        remove_pis=True,
        encoding="utf-8",
    )
    markup = _NOT_XML_CHARS.sub("", text).encode("utf-8", errors="replace")  # "replace": lone surrogates
    try:
        return html.fromstring(markup, parser=parser)
    except etree.ParserError:  # "Document is empty"
        return None


def _compile_selector(selector: str):
    import soupsieve

    try:
        return soupsieve.compile(selector)
    except soupsieve.SelectorSyntaxError as error:
        raise ValueError(f"invalid CSS selector {selector!r}: {error}") from error


def _outermost(elements: list[Tag]) -> list[Tag]:
    """Matches minus those inside another match, so no text is output twice."""
    chosen = set(map(id, elements))
    return [e for e in elements if not any(id(parent) in chosen for parent in e.parents)]


def _prune(root: Tag) -> None:
    """Remove navigation and other site chrome below `root`, never the bulk of its text.

    A block holding most of the text is the content, whatever its tag or classes say
    (`<form>` around a whole ASP.NET page, `class="has-sidebar"` on the layout wrapper).
    """
    root_chars = len(root.get_text())
    for element in root.find_all(True):
        # Read the flag from the instance: `element.decomposed` on a never-decomposed Tag falls
        # through to a subtree search (Tag.__getattr__), quadratic in the nesting depth.
        if vars(element).get("_decomposed", False) or not _is_boilerplate(element):
            continue
        if len(element.get_text()) > _MAX_BOILERPLATE_SHARE * root_chars:
            continue
        element.decompose()


def _is_boilerplate(element: Tag) -> bool:
    if element.name in _BOILERPLATE_TAGS:
        # An article's own <header> holds its headline and byline.
        return not (element.name == "header" and element.find_parent("article"))
    if element.get("role") in _BOILERPLATE_ROLES:
        return True
    if element.has_attr("hidden") or element.get("aria-hidden") == "true":
        return True
    if "display:none" in element.get("style", "").replace(" ", ""):
        return True
    return not _BOILERPLATE_WORDS.isdisjoint(_class_id_words(element))


def _class_id_words(element: Tag) -> set[str]:
    """Lower-case words of the class and id: "site-nav", "mainMenu" -> {site, nav, main, menu}."""
    classes = element.get("class") or []
    raw = " ".join([*classes, element.get("id") or ""])
    return {word.lower() for word in re.findall(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])", raw)}


def _main_content(root: Tag) -> Tag:
    """The element holding the page's own text: the largest article, else main, else root.

    Chosen before pruning, so that teaser <article>s in a sidebar cannot shield the sidebar.
    A page of teasers has many small <article>s; one that holds under a quarter of the text
    of the enclosing main content is a teaser, not the article.
    """
    outer = max(root.select("main, [role=main]"), key=_text_length, default=root)
    articles = outer.select("article, [itemprop=articleBody]")
    if articles:
        article = max(articles, key=_text_length)
        if _text_length(article) >= 0.25 * _text_length(outer):
            return article
    return outer


def _text_length(element: Tag) -> int:
    return len(" ".join(element.get_text(" ").split()))


def _render(root: Tag) -> str:
    """Text of the tree: inline text joined, line-level blocks on their own line, paragraph
    blocks separated by a blank line, whitespace collapsed except inside <pre>."""
    pieces: list[str | int] = []  # text, or a break level
    stack: list[tuple[object, bool]] = [(root, False)]  # an explicit stack: pages nest deeply
    while stack:
        node, closing = stack.pop()
        if closing:
            pieces.append(node)  # the break level pushed below
            continue
        if isinstance(node, NavigableString):
            if not isinstance(node, PreformattedString):  # comments, doctype, CDATA
                pieces.append(str(node))
            continue
        if not isinstance(node, Tag):
            continue
        if node.name == "pre":
            pieces += [_PARAGRAPH, _Preformatted(node.get_text()), _PARAGRAPH]
            continue
        level = _PARAGRAPH if node.name in _PARAGRAPH_TAGS else _LINE if node.name in _LINE_TAGS else 0
        if node.name in _CELL_TAGS:
            pieces.append(" ")
        elif level:
            pieces.append(level)
            stack.append((level, True))
        stack.extend((child, False) for child in reversed(node.contents))
    return _join(pieces)


class _Preformatted(str):
    """Text whose line breaks and spacing are kept as written."""


def _join(pieces: list[str | int]) -> str:
    blocks: list[tuple[int, str]] = []  # (break level before it, text)
    pending, run = 0, []

    def flush() -> None:
        nonlocal pending
        text = " ".join("".join(run).split())
        if text:
            blocks.append((pending, text))
            pending = 0
        run.clear()

    for piece in pieces:
        if isinstance(piece, int):
            flush()
            pending = max(pending, piece)
        elif isinstance(piece, _Preformatted):
            flush()
            text = "\n".join(line.rstrip() for line in piece.strip("\n").splitlines())
            if text.strip():
                blocks.append((pending, text))
                pending = 0
        else:
            run.append(piece)
    flush()
    out = []
    for i, (level, text) in enumerate(blocks):
        if i:
            out.append("\n\n" if level == _PARAGRAPH else "\n")
        out.append(text)
    return "".join(out)
