"""The XML helpers the GPX and KML readers share: a safe lxml parser, local names, errors.

Safety: `check_prolog` (`xml_prolog`) refuses an encoding other than UTF-8, UTF-16 or GB18030
and a DOCTYPE (and so any entity declaration: billion laughs, XXE) before parsing, and
`SAFE_OPTIONS` configure lxml not to resolve entities, load DTDs, use the network or accept
huge text nodes. Elements are matched by local name, so a wrong or missing namespace reads.
"""

from __future__ import annotations

import io
import re
from typing import Literal, TypedDict

from lxml import etree

from geo_patrol.core.catalog import Message, msg
from geo_patrol.core.errors import ImportFileError
from geo_patrol.patrols.track.formats.xml_prolog import check_prolog

__all__ = ["SAFE_OPTIONS", "local_name", "safe_iterparse", "xml_error"]


def local_name(tag: object) -> str:
    """The local part of an element tag ('{ns}trkpt' -> 'trkpt'); '' for comments/entities."""
    if not isinstance(tag, str):
        return ""
    return tag[tag.rfind("}") + 1 :]


class _SafeOptions(TypedDict):
    """lxml parser options: no DTDs, entities, network or huge text nodes."""

    resolve_entities: bool
    no_network: bool
    load_dtd: bool
    dtd_validation: bool
    huge_tree: bool
    remove_comments: bool
    remove_pis: bool


SAFE_OPTIONS: _SafeOptions = {
    "resolve_entities": False,
    "no_network": True,
    "load_dtd": False,
    "dtd_validation": False,
    "huge_tree": False,
    "remove_comments": True,
    "remove_pis": True,
}


def safe_iterparse(
    data: bytes,
    *,
    filename: str,
    events: tuple[Literal["start", "end"], ...],
    tag: list[str] | None = None,
) -> etree.iterparse[tuple[str, etree._Element]]:
    """lxml iterparse over `data` without DTDs, entities, network or huge text nodes."""
    check_prolog(data, filename)
    return etree.iterparse(io.BytesIO(data), events=events, tag=tag, **SAFE_OPTIONS)


def xml_error(exc: etree.XMLSyntaxError, filename: str) -> ImportFileError:
    """ImportFileError naming the line of an XML syntax error."""
    line = exc.lineno or None
    column = exc.position[1] if exc.position and line else None
    where: Message | str = ""
    if line:
        where = (
            msg("problem.track.at_line_column", line=line, column=column)
            if column
            else msg("problem.track.at_line", line=line)
        )
    message = re.sub(r",? line \d+, column \d+$", "", (exc.msg or str(exc)).strip())
    return ImportFileError(
        msg("problem.track.xml_malformed", filename=filename, where=where, message=message),
        line=line,
        file=filename,
    )
