"""Small helpers for readers: names and text of already parsed lxml elements, and text clean-up.

Pure functions: no parsing of bytes here (``harvesters.xml`` does that, hardened), no I/O.
"""

from __future__ import annotations

import html
import re
import unicodedata
from functools import lru_cache

from lxml import etree

XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"

# Markup a description may carry once its HTML has been unescaped.  Only real HTML tag
# names are removed, so that "x<y and y>z" in a formula survives.
_HTML_TAG = re.compile(
    r"</?(?:a|abbr|b|big|blockquote|br|center|cite|code|dd|del|div|dl|dt|em|font|h[1-6]|hr"
    r"|i|img|ins|li|ol|p|pre|q|s|section|small|span|strike|strong|sub|sup|table|tbody|td"
    r"|th|thead|tr|u|ul)(?:\s[^<>]*)?/?>",
    re.IGNORECASE,
)
_HTML_BLOCK = re.compile(r"</?(?:p|div|br|li|tr|h[1-6]|blockquote|ul|ol|table)\b[^<>]*>", re.I)
_HTML_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_ENTITY = re.compile(r"&(?:#[0-9]+|#x[0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]{1,31});")
_C1 = re.compile("[\x80-\x9f]")
_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")
# Either of the above: one search tells whether non-ASCII text needs those two passes.
_TO_FIX = re.compile("[\x80-\x9f\u200b\u200c\u200d\u2060\ufeff\u00ad]")


@lru_cache(maxsize=4096)
def split_tag(tag: str) -> tuple[str | None, str]:
    """(namespace or None, local name) of an lxml tag such as ``{ns}name``.

    Tags repeat from record to record, so the split is memoised.
    """
    if tag[:1] == "{":
        ns, _, local = tag[1:].partition("}")
        return ns, local
    return None, tag


def local_name(element: etree._Element) -> str:
    """The element's name without namespace (``""`` for comments and PIs)."""
    tag = element.tag
    if not isinstance(tag, str):
        return ""
    return split_tag(tag)[1]


def namespace(element: etree._Element) -> str | None:
    tag = element.tag
    if not isinstance(tag, str):
        return None
    return split_tag(tag)[0]


def child_elements(element: etree._Element) -> list[etree._Element]:
    """Element children only (comments and processing instructions skipped)."""
    return [child for child in element if isinstance(child.tag, str)]


def text_of(element: etree._Element) -> str:
    """All text inside the element, markup removed, as written (not cleaned)."""
    if not len(element):  # no children (the usual leaf): its text is all there is
        return element.text or ""
    return "".join(t for t in element.itertext() if isinstance(t, str))


def xml_lang(element: etree._Element) -> str | None:
    """The ``xml:lang`` in force on the element (inherited from ancestors), if any."""
    node: etree._Element | None = element
    while node is not None:
        value = node.get(XML_LANG)
        if value:
            return value.strip() or None
        node = node.getparent()
    return None


def collapse_whitespace(text: str) -> str:
    # str.split() and the regex ``\s`` agree on what whitespace is (str.isspace).
    return " ".join(text.split())


def clean_text(text: str) -> str:
    """Normalise a short string: invisible characters out, C1 codes fixed, NFC, one space."""
    if text.isascii():  # the common case: nothing to remove, fix or compose
        return " ".join(text.split())
    if _TO_FIX.search(text):
        text = _fix_c1(_INVISIBLE.sub("", text))
    if not unicodedata.is_normalized("NFC", text):
        text = unicodedata.normalize("NFC", text)
    return " ".join(text.split())


def clean_html_text(text: str) -> str:
    """Clean a description that may hold HTML, even HTML escaped twice.

    ``&amp;lt;p&amp;gt;A&amp;lt;/p&amp;gt;`` arrives from the parser as
    ``&lt;p&gt;A&lt;/p&gt;``: it is unescaped (at most twice) and its tags removed,
    block tags becoming spaces.  The result is NFC with whitespace collapsed.
    """
    for _ in range(2):
        if not _ENTITY.search(text):
            break
        text = html.unescape(text)
    text = _HTML_COMMENT.sub(" ", text)
    text = _HTML_BLOCK.sub(" ", text)
    text = _HTML_TAG.sub("", text)
    if _ENTITY.search(text):  # entities that were inside the markup, e.g. &nbsp;
        text = html.unescape(text)
    return clean_text(text)


def _fix_c1(text: str) -> str:
    """C1 control codes are almost always Windows-1252 bytes decoded as Latin-1.

    ``\\x96`` becomes an en dash, ``\\x92`` an apostrophe; the five codes cp1252 leaves
    undefined are dropped.
    """
    if not _C1.search(text):
        return text
    return _C1.sub(lambda m: bytes([ord(m.group())]).decode("cp1252", errors="ignore"), text)
