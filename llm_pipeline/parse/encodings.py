"""Charset labels a web page may declare -> Python's codec for them; no I/O.

The labels are those of the WHATWG Encoding Standard (https://encoding.spec.whatwg.org/),
which is what browsers accept in `<meta charset>`: a label outside it is one no browser
would honour, so a page declaring it was never shown with it. Python's own codec names are
no guide: `codecs.lookup` also knows rot13, base64, zlib or unicode_escape, which are not
text encodings, and utf-7 or idna, which no page is written in.
"""

from __future__ import annotations

# Python's codec -> the WHATWG labels read with it; where WHATWG decodes a label as a superset
# of what it names (as browsers do), the codec is that superset's.
_SINGLE_BYTE_LABELS: dict[str, tuple[str, ...]] = {
    "cp866": ("866", "cp866", "csibm866", "ibm866"),
    "iso8859_2": (
        "csisolatin2",
        "iso-8859-2",
        "iso-ir-101",
        "iso8859-2",
        "iso88592",
        "iso_8859-2",
        "iso_8859-2:1987",
        "l2",
        "latin2",
    ),
    "iso8859_3": (
        "csisolatin3",
        "iso-8859-3",
        "iso-ir-109",
        "iso8859-3",
        "iso88593",
        "iso_8859-3",
        "iso_8859-3:1988",
        "l3",
        "latin3",
    ),
    "iso8859_4": (
        "csisolatin4",
        "iso-8859-4",
        "iso-ir-110",
        "iso8859-4",
        "iso88594",
        "iso_8859-4",
        "iso_8859-4:1988",
        "l4",
        "latin4",
    ),
    "iso8859_5": (
        "csisolatincyrillic",
        "cyrillic",
        "iso-8859-5",
        "iso-ir-144",
        "iso8859-5",
        "iso88595",
        "iso_8859-5",
        "iso_8859-5:1988",
    ),
    "iso8859_6": (
        "arabic",
        "asmo-708",
        "csiso88596e",
        "csiso88596i",
        "csisolatinarabic",
        "ecma-114",
        "iso-8859-6",
        "iso-8859-6-e",
        "iso-8859-6-i",
        "iso-ir-127",
        "iso8859-6",
        "iso88596",
        "iso_8859-6",
        "iso_8859-6:1987",
    ),
    "iso8859_7": (
        "csisolatingreek",
        "ecma-118",
        "elot_928",
        "greek",
        "greek8",
        "iso-8859-7",
        "iso-ir-126",
        "iso8859-7",
        "iso88597",
        "iso_8859-7",
        "iso_8859-7:1987",
        "sun_eu_greek",
    ),
    # ISO-8859-8 (visual order) and ISO-8859-8-I (logical order) share their bytes.
    "iso8859_8": (
        "csiso88598e",
        "csisolatinhebrew",
        "hebrew",
        "iso-8859-8",
        "iso-8859-8-e",
        "iso-ir-138",
        "iso8859-8",
        "iso88598",
        "iso_8859-8",
        "iso_8859-8:1988",
        "visual",
        "csiso88598i",
        "iso-8859-8-i",
        "logical",
    ),
    "iso8859_10": ("csisolatin6", "iso-8859-10", "iso-ir-157", "iso8859-10", "iso885910", "l6", "latin6"),
    "iso8859_13": ("iso-8859-13", "iso8859-13", "iso885913"),
    "iso8859_14": ("iso-8859-14", "iso8859-14", "iso885914"),
    "iso8859_15": ("csisolatin9", "iso-8859-15", "iso8859-15", "iso885915", "iso_8859-15", "l9"),
    "iso8859_16": ("iso-8859-16",),
    "koi8_r": ("cskoi8r", "koi", "koi8", "koi8-r", "koi8_r"),
    "koi8_u": ("koi8-ru", "koi8-u"),
    "mac_roman": ("csmacintosh", "mac", "macintosh", "x-mac-roman"),
    # windows-874 is a superset of TIS-620 and ISO-8859-11.
    "cp874": ("dos-874", "iso-8859-11", "iso8859-11", "iso885911", "tis-620", "windows-874"),
    "cp1250": ("cp1250", "windows-1250", "x-cp1250"),
    "cp1251": ("cp1251", "windows-1251", "x-cp1251"),
    # Browsers read ASCII and Latin-1 as windows-1252, its superset; so do we.
    "cp1252": (
        "ansi_x3.4-1968",
        "ascii",
        "cp1252",
        "cp819",
        "csisolatin1",
        "ibm819",
        "iso-8859-1",
        "iso-ir-100",
        "iso8859-1",
        "iso88591",
        "iso_8859-1",
        "iso_8859-1:1987",
        "l1",
        "latin1",
        "us-ascii",
        "windows-1252",
        "x-cp1252",
    ),
    "cp1253": ("cp1253", "windows-1253", "x-cp1253"),
    # windows-1254 is a superset of ISO-8859-9 (Latin-5).
    "cp1254": (
        "cp1254",
        "csisolatin5",
        "iso-8859-9",
        "iso-ir-148",
        "iso8859-9",
        "iso88599",
        "iso_8859-9",
        "iso_8859-9:1989",
        "l5",
        "latin5",
        "windows-1254",
        "x-cp1254",
    ),
    "cp1255": ("cp1255", "windows-1255", "x-cp1255"),
    "cp1256": ("cp1256", "windows-1256", "x-cp1256"),
    "cp1257": ("cp1257", "windows-1257", "x-cp1257"),
    "cp1258": ("cp1258", "windows-1258", "x-cp1258"),
    "mac_cyrillic": ("x-mac-cyrillic", "x-mac-ukrainian"),
}
_MULTI_BYTE_LABELS: dict[str, tuple[str, ...]] = {
    # WHATWG decodes GBK (and GB2312) with its gb18030 decoder: gb18030 is their superset.
    "gb18030": (
        "chinese",
        "csgb2312",
        "csiso58gb231280",
        "gb2312",
        "gb_2312",
        "gb_2312-80",
        "gbk",
        "iso-ir-58",
        "x-gbk",
        "gb18030",
    ),
    # WHATWG's Big5 is Big5-HKSCS.
    "big5hkscs": ("big5", "big5-hkscs", "cn-big5", "csbig5", "x-x-big5"),
    "euc_jp": ("cseucpkdfmtjapanese", "euc-jp", "x-euc-jp"),
    "iso2022_jp": ("csiso2022jp", "iso-2022-jp"),
    # WHATWG's Shift_JIS is Microsoft's code page 932.
    "cp932": ("csshiftjis", "ms932", "ms_kanji", "shift-jis", "shift_jis", "sjis", "windows-31j", "x-sjis"),
    # WHATWG's EUC-KR is Microsoft's code page 949 (Unified Hangul Code).
    "cp949": (
        "cseuckr",
        "csksc56011987",
        "euc-kr",
        "iso-ir-149",
        "korean",
        "ks_c_5601-1987",
        "ks_c_5601-1989",
        "ksc5601",
        "ksc_5601",
        "windows-949",
    ),
    # A page readable enough for us to find this label in it is not UTF-16: WHATWG's prescan
    # reads a UTF-16 label as UTF-8.
    "utf-8": (
        "unicode-1-1-utf-8",
        "unicode11utf8",
        "unicode20utf8",
        "utf-8",
        "utf8",
        "x-unicode20utf8",
        "csunicode",
        "iso-10646-ucs-2",
        "ucs-2",
        "unicode",
        "unicodefeff",
        "unicodefffe",
        "utf-16",
        "utf-16be",
        "utf-16le",
    ),
}
# Not listed, so ignored like any unknown label: WHATWG's "replacement" labels (iso-2022-kr,
# iso-2022-cn, hz-gb-2312: browsers refuse to decode these at all) and x-user-defined (no
# Python codec).
_CODEC_OF_LABEL = {
    label: codec
    for table in (_SINGLE_BYTE_LABELS, _MULTI_BYTE_LABELS)
    for codec, labels in table.items()
    for label in labels
}
SINGLE_BYTE_CODECS = frozenset(_SINGLE_BYTE_LABELS)


def python_codec(label: str) -> str | None:
    """Python's codec for a declared charset label, or None for a label browsers do not accept."""
    return _CODEC_OF_LABEL.get(label.strip().lower())


def likeliest_encoding(payload: bytes) -> str | None:
    """charset_normalizer's best guess for `payload`, or None when it has none. On little text it
    cannot tell the Latin code pages apart (several guesses, one score: cp1250 reads "crème" as
    "crčme"); among the equally good ones, windows-1252 is by far the most common."""
    from charset_normalizer import from_bytes

    matches = list(from_bytes(payload))
    if not matches:
        return None
    tied = [match for match in matches if match.chaos <= matches[0].chaos]
    return "cp1252" if any("cp1252" in match.could_be_from_charset for match in tied) else matches[0].encoding
