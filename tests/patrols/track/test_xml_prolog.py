"""The XML prolog check reads the encoding as the XML specification (Appendix F) says.

A DOCTYPE must be refused in every encoding libxml2 reads, and encodings in which a byte-level
look could miss it (UTF-32 with or without a byte-order mark, EBCDIC, UTF-7) are refused
outright. What libxml2 itself would do with each file is checked here too, so the test shows
the hole each case would be.
"""

from __future__ import annotations

import pytest
from lxml import etree

from geo_patrol.core.errors import ImportFileError
from geo_patrol.patrols.track.formats.xml_prolog import xml_encoding
from geo_patrol.patrols.track.read import parse_track

ENTITIES = (
    '<?xml version="1.0" encoding="{enc}"?>\n'
    '<!DOCTYPE gpx [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>\n'
    '<gpx version="1.1"><trk><name>&b;</name><trkseg>'
    '<trkpt lat="30.9" lon="120.7"/><trkpt lat="30.91" lon="120.71"/></trkseg></trk></gpx>'
)
PLAIN = (
    '<?xml version="1.0" encoding="{enc}"?>\n<gpx version="1.1"><trk><name>巡河</name><trkseg>'
    '<trkpt lat="30.9" lon="120.7"/><trkpt lat="30.91" lon="120.71"/></trkseg></trk></gpx>'
)


def _refusal(data: bytes, name: str = "x.gpx") -> ImportFileError:
    """The ImportFileError parse_track raises."""
    with pytest.raises(ImportFileError) as info:
        parse_track(data, filename=name)
    return info.value


def _libxml2_reads(data: bytes) -> bool:
    """Whether lxml, configured as our parsers are, reads the document without error."""
    parser = etree.XMLParser(resolve_entities=False, load_dtd=False, no_network=True)
    try:
        etree.fromstring(data, parser)
    except etree.XMLSyntaxError:
        return False
    return True


@pytest.mark.parametrize("codec", ["utf-32-le", "utf-32-be"])
def test_utf32_without_byte_order_mark_with_entities_is_refused(codec: str) -> None:
    data = ENTITIES.format(enc="UTF-32").encode(codec)
    assert not data.startswith((b"\xff\xfe", b"\x00\x00\xfe\xff"))  # no mark
    assert _libxml2_reads(data)  # libxml2 reads it: only our check stands in the way
    error = _refusal(data)
    assert "UTF-32" in error.detail
    assert error.extra["field"] == "encoding"


@pytest.mark.parametrize("kml", [False, True])
def test_utf32_with_byte_order_mark_is_refused(kml: bool) -> None:
    text = ENTITIES.format(enc="UTF-32")
    if kml:
        text = text.replace("gpx", "kml")
    error = _refusal(text.encode("utf-32"), "x.kml" if kml else "x.gpx")
    assert "UTF-32" in error.detail


def test_utf7_declaration_cannot_hide_a_doctype() -> None:
    # In UTF-7, "+ADw-" is "<": libxml2 switches to UTF-7 after the declaration and reads it.
    data = (
        b'<?xml version="1.0" encoding="UTF-7"?>\n+ADw-+ACE-DOCTYPE gpx +AFs-+ADw-+ACE-ENTITY a '
        b'+ACI-b+ACI-+AD4-+AF0-+AD4-\n<gpx version="1.1"/>'
    )
    error = _refusal(data)
    assert "'UTF-7'" in error.detail and "accepted encodings" in error.detail


def test_ebcdic_is_refused() -> None:
    data = '<?xml version="1.0" encoding="IBM037"?><gpx/>'.encode("cp037")
    assert "EBCDIC" in _refusal(data).detail


def test_ascii_start_declared_utf16_is_refused() -> None:
    # libxml2 switches to UTF-16 after such a declaration: what follows would be read otherwise.
    data = b'<?xml version="1.0" encoding="UTF-16"?><gpx/>'
    assert "'UTF-16'" in _refusal(data).detail


def test_nul_bytes_in_an_ascii_prolog_are_refused() -> None:
    data = '<!DOCTYPE gpx [<!ENTITY a "b">]><gpx/>'.encode("utf-16-le")  # no mark, no <?xml
    assert "NUL" in _refusal(data).detail


@pytest.mark.parametrize(
    ("codec", "declared"),
    [
        ("utf-8", "UTF-8"),
        ("utf-8-sig", "UTF-8"),
        ("utf-16", "UTF-16"),  # with a byte-order mark
        ("utf-16-le", "UTF-16"),  # without: "<?" in UTF-16LE
        ("utf-16-be", "UTF-16"),
        ("gb18030", "GB18030"),
        ("gbk", "GBK"),
    ],
)
def test_accepted_encodings_read_the_track(codec: str, declared: str) -> None:
    data = PLAIN.format(enc=declared).encode(codec)
    track = parse_track(data, filename="ok.gpx")
    assert len(track.points) == 2
    assert track.name == "巡河"


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-le", "utf-16-be", "gb18030", "utf-8-sig"])
def test_doctype_is_refused_in_every_accepted_encoding(codec: str) -> None:
    declared = "UTF-16" if codec.startswith("utf-16") else codec.upper().replace("-SIG", "")
    data = ENTITIES.format(enc=declared).encode(codec)
    assert "DTDs and entities are refused" in _refusal(data).detail


def test_encoding_detection_follows_appendix_f() -> None:
    assert xml_encoding(b'<?xml version="1.0"?><a/>', "a") == ("latin-1", 0)
    assert xml_encoding('<?xml version="1.0"?><a/>'.encode("utf-16"), "a")[1] == 2
    assert xml_encoding('<?xml version="1.0"?><a/>'.encode("utf-16-be"), "a") == ("utf-16-be", 0)
    assert xml_encoding(b"\xef\xbb\xbf<a/>", "a") == ("utf-8", 3)
    with pytest.raises(ImportFileError):
        xml_encoding(b"\xef\xbb\xbf<?xml version='1.0' encoding='GB18030'?><a/>", "a")
