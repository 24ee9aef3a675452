"""What the section and reading files share: the file read as numbered rows (a spreadsheet
as `core.sheets` reads it, or for sections a GeoJSON of points), its header row found by
the words it uses, and a text cell as PostgreSQL can store it.

A GeoJSON file becomes a table too: a header row (number 0) of "lon", "lat" and the
properties' names, then one row per feature numbered from 1, so a message names the
feature as a spreadsheet's names its row.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from geo_patrol.core.catalog import Message, msg
from geo_patrol.core.errors import ImportFileError, InvalidInput
from geo_patrol.core.sheets import Cell, Limits, RowError, Table, decode, read_table, text_of
from geo_patrol.core.values import unstorable

HEADER_SEARCH_ROWS = 10
MAX_SHORT = 200
MAX_ERRORS = 500


@dataclass(frozen=True)
class Columns:
    """The header row's number, each field's column, and its header as the file writes it."""

    header_row: int
    index: dict[str, int]
    written: dict[str, str]

    def column(self, name: str) -> str:
        """The header the file gives a field (the field's name when it has no column)."""
        return self.written.get(name, name)


def is_geojson(data: bytes) -> bool:
    """Whether the file is JSON text (an object), not a spreadsheet."""
    return data.removeprefix(b"\xef\xbb\xbf").lstrip()[:1] == b"{"


def read_rows(data: bytes, limits: Limits) -> tuple[Table, list[RowError]]:
    """A spreadsheet's rows, or a GeoJSON's features as rows (and its features that are no
    point, refused)."""
    if is_geojson(data):
        return _geojson_table(data, limits)
    return read_table(data, limits), []


def _geojson_table(data: bytes, limits: Limits) -> tuple[Table, list[RowError]]:
    """Each point feature as a row: lon, lat, then its properties by name."""
    if len(data) > limits.max_bytes:
        read_table(data, limits)  # refuses it as too large, as a spreadsheet
    try:
        document = json.loads(decode(data))
    except ValueError as error:
        raise ImportFileError(msg("problem.water.geojson_invalid", error=str(error)), field="file")
    features = document.get("features") if isinstance(document, dict) else None
    if not isinstance(features, list):
        raise ImportFileError(msg("problem.water.geojson_not_features"), field="file")
    if len(features) > limits.max_rows:
        raise ImportFileError(
            msg("problem.sheets.too_many_rows", what=limits.name, max_rows=limits.max_rows),
            field="file",
        )
    names: list[str] = []
    for feature in features:
        properties = feature.get("properties") if isinstance(feature, dict) else None
        for name in properties or {}:
            if name not in names and name not in ("lon", "lat"):
                names.append(str(name))
    rows: list[tuple[int, list[Cell]]] = [(0, ["lon", "lat", *names])]
    errors: list[RowError] = []
    for number, feature in enumerate(features, start=1):
        point = _point(feature)
        if point is None:
            kind = feature.get("geometry", {}) if isinstance(feature, dict) else None
            shown = kind.get("type") if isinstance(kind, dict) else None
            errors.append(RowError(number, "geometry", msg("problem.water.not_point", kind=shown)))
            continue
        properties = feature.get("properties") or {}
        rows.append((number, [*point, *(_cell(properties.get(name)) for name in names)]))
    return Table(rows), errors


def _point(feature: object) -> tuple[Cell, Cell] | None:
    """A feature's point as two cells (None: not a point)."""
    geometry = feature.get("geometry") if isinstance(feature, dict) else None
    if not isinstance(geometry, dict) or geometry.get("type") != "Point":
        return None
    coordinates = geometry.get("coordinates")
    if not isinstance(coordinates, list) or len(coordinates) < 2:
        return None
    return _cell(coordinates[0]), _cell(coordinates[1])


def _cell(value: object) -> Cell:
    """A JSON value as a spreadsheet cell would hold it."""
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return json.dumps(value, ensure_ascii=False)


def find_header(
    table: Table,
    *,
    lookup: Callable[[Cell], str | None],
    required: Sequence[str],
    chinese: Mapping[str, str],
) -> Columns:
    """The header row (the first of the first rows naming three fields or more), each
    field's column; a missing required or a doubled column refuses the file."""
    for seen, (number, cells) in enumerate(table.rows, start=1):
        named = [(lookup(cell), n) for n, cell in enumerate(cells)]
        if sum(1 for name, _ in named if name) >= 3:
            return _columns(number, cells, named, required, chinese)
        if seen >= HEADER_SEARCH_ROWS:
            break
    expected = ", ".join(f"{name} {chinese[name]}" for name in required)
    raise ImportFileError(msg("problem.water.import_no_header", expected=expected), field="file")


def _columns(
    number: int,
    cells: list[Cell],
    named: list[tuple[str | None, int]],
    required: Sequence[str],
    chinese: Mapping[str, str],
) -> Columns:
    """Each field's column (a column we do not know is left alone)."""
    index: dict[str, int] = {}
    written: dict[str, str] = {}
    problems: list[Message] = []
    for name, position in named:
        if name is None:
            continue
        if name in index:
            header = text_of(cells[position])
            problems.append(msg("problem.incidents.import_second_column", name=name, header=header))
            continue
        index[name], written[name] = position, text_of(cells[position])
    problems += [
        msg("problem.roster.no_column", name=name, chinese=chinese[name])
        for name in required
        if name not in index
    ]
    if problems:
        raise ImportFileError(joined(problems), row=number, field="file")
    return Columns(number, index, written)


def joined(problems: list[Message]) -> Message:
    """Several problems as one message, in the order found ("a; b; c")."""
    result = problems[-1]
    for problem in reversed(problems[:-1]):
        result = msg("problem.incidents.import_problems", first=problem, rest=result)
    return result


def text_cell(cell: Cell, *, required: bool = False, limit: int = MAX_SHORT) -> str | None:
    """A text cell PostgreSQL can store, of reasonable length (None when empty)."""
    value = text_of(cell)
    if not value:
        if required:
            raise InvalidInput(msg("problem.roster.empty"))
        return None
    if len(value) > limit:
        raise InvalidInput(msg("problem.roster.cell_too_long", max_cell_chars=limit))
    if problem := unstorable(value):
        raise InvalidInput(problem)
    return value

