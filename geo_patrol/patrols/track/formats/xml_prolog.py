"""The safety check of an XML file's prolog: its encoding, then no DOCTYPE before the root.

The encoding is found as the XML specification's Appendix F says (and as libxml2 does): a
byte-order mark, else the first four bytes (UTF-32 and UTF-16 without a mark, EBCDIC, an
ASCII-compatible `<?xm`), then the encoding declaration. Only encodings in which the prolog
reads the same to this check as to libxml2 are accepted: UTF-8 (and ASCII), UTF-16, GB18030
(and its subsets GBK and GB2312), ISO-8859-1 and Windows-1252. UTF-32, EBCDIC, UTF-7 and the
rest are refused with a clear error: in them a DOCTYPE can hide from a byte-level look (a
UTF-32 file without a byte-order mark, or a UTF-7 `+ADw-!DOCTYPE`), and no GPS device or map
application writes them.
"""

from __future__ import annotations

import codecs
import re

from geo_patrol.core.catalog import Message, msg
from geo_patrol.core.errors import ImportFileError

__all__ = ["PROLOG_LIMIT", "check_prolog", "xml_encoding"]

# The prolog (XML declaration, comments, DOCTYPE) must end within this many bytes.
PROLOG_LIMIT = 64 * 1024

# Byte-order marks (Appendix F.1, with a mark): the codec, or None for refused ones.
_MARKS: tuple[tuple[bytes, str | None], ...] = (
    (b"\x00\x00\xfe\xff", None),  # UCS-4 / UTF-32 big-endian
    (b"\xff\xfe\x00\x00", None),  # UTF-32 little-endian
    (b"\x00\x00\xff\xfe", None),  # UCS-4, unusual octet order (2143)
    (b"\xfe\xff\x00\x00", None),  # UCS-4, unusual octet order (3412)
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
)
# The first four bytes of a document without a mark: `<` or `<?` in each family.
_FIRST_BYTES: tuple[tuple[bytes, str | None], ...] = (
    (b"\x00\x00\x00<", None),  # UTF-32 big-endian
    (b"<\x00\x00\x00", None),  # UTF-32 little-endian
    (b"\x00\x00<\x00", None),  # UCS-4 2143
    (b"\x00<\x00\x00", None),  # UCS-4 3412
    (b"\x00<\x00?", "utf-16-be"),
    (b"<\x00?\x00", "utf-16-le"),
    (b"\x4c\x6f\xa7\x94", None),  # EBCDIC "<?xm"
)
# Declared encodings accepted in a document that starts in ASCII: every one keeps ASCII's
# bytes for "<", "!", "?", "-" and ">" and never uses them inside a multi-byte character.
_ASCII_COMPATIBLE = frozenset(
    {
        "utf-8",
        "utf8",
        "us-ascii",
        "ascii",
        "gb18030",
        "gbk",
        "gb2312",
        "euc-cn",
        "cp936",
        "iso-8859-1",
        "iso8859-1",
        "iso_8859-1",
        "latin1",
        "latin-1",
        "windows-1252",
        "cp1252",
    }
)
_UTF16 = frozenset({"utf-16", "utf16", "utf-16le", "utf-16be", "ucs-2", "iso-10646-ucs-2"})
_DECLARATION = re.compile(r"<\?xml[ \t\r\n][^>]*?\?>")
_ENCODING = re.compile(r"""encoding[ \t\r\n]*=[ \t\r\n]*(["'])([^"']*)\1""")


def _refused(filename: str, what: Message) -> ImportFileError:
    """The error for a file in an encoding we do not read."""
    return ImportFileError(
        msg("problem.track.xml_encoding", filename=filename, what=what),
        field="encoding",
        file=filename,
    )


def _family(head: bytes, filename: str) -> tuple[str, int]:
    """(codec the prolog is read with, length of the byte-order mark), by Appendix F."""
    for mark, codec in _MARKS:
        if head.startswith(mark):
            if codec is None:
                raise _refused(filename, msg("problem.track.utf32"))
            return codec, len(mark)
    for first, codec in _FIRST_BYTES:
        if head.startswith(first):
            if codec is None:
                kind = (
                    msg("problem.track.ebcdic")
                    if first[0] == 0x4C
                    else msg("problem.track.utf32_without_mark")
                )
                raise _refused(filename, kind)
            return codec, 0
    return "latin-1", 0  # ASCII-compatible: the declaration (if any) says which one


def xml_encoding(data: bytes, filename: str) -> tuple[str, int]:
    """(Python codec of the prolog, length of the byte-order mark); ImportFileError if refused.

    For an ASCII-compatible document the codec is "latin-1", which reads the prolog's
    markup exactly as every accepted encoding does.
    """
    head = data[:PROLOG_LIMIT]
    codec, skip = _family(head, filename)
    text = head[skip:].decode(codec, errors="replace")
    if codec == "latin-1" and "\x00" in text[:PROLOG_LIMIT]:
        raise _refused(filename, msg("problem.track.holds_nul"))
    declaration = _DECLARATION.match(text)
    encoding = _ENCODING.search(declaration.group()) if declaration else None
    if encoding is None:
        return codec, skip
    declared = encoding.group(2).strip().lower()
    accepted = _UTF16 if codec.startswith("utf-16") else _ASCII_COMPATIBLE
    if skip and codec == "utf-8":  # a UTF-8 mark: the declaration may only confirm it
        accepted = frozenset({"utf-8", "utf8", "us-ascii", "ascii"})
    if declared not in accepted:
        raise _refused(
            filename,
            msg("problem.track.declared_as", declared=encoding.group(2), found=codec.upper()),
        )
    return codec, skip


def check_prolog(data: bytes, filename: str) -> None:
    """Refuse a refused encoding, a DOCTYPE or entity declaration before the root element,
    or a prolog longer than PROLOG_LIMIT."""
    codec, skip = xml_encoding(data, filename)
    text = data[skip:PROLOG_LIMIT].decode(codec, errors="replace")
    pos = 0
    while (start := text.find("<", pos)) >= 0:
        if text.startswith("<?", start):
            end, close = text.find("?>", start + 2), 2
        elif text.startswith("<!--", start):
            end, close = text.find("-->", start + 4), 3
        elif text.startswith("<!", start):
            what = (
                msg("problem.track.entity_declaration")
                if "<!ENTITY" in text.upper()
                else msg("problem.track.doctype")
            )
            raise ImportFileError(
                msg("problem.track.xml_doctype", filename=filename, what=what),
                line=text.count("\n", 0, start) + 1,
                file=filename,
            )
        else:
            return  # the root element starts here
        if end < 0:
            break
        pos = end + close
    if len(data) > PROLOG_LIMIT:
        raise ImportFileError(
            msg("problem.track.xml_no_root", filename=filename, kilobytes=PROLOG_LIMIT // 1024),
            file=filename,
        )
