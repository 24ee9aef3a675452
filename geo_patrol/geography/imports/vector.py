"""Read boundary, river and village files (GeoJSON, GPKG, Shapefile, KML/KMZ) for import.

Pure Python on top of pyogrio's bundled GDAL: no database and no geopandas. Every bad input
raises ImportFileError naming the file and, where it applies, the 1-based feature number and
the field. Geometries come back in WGS84 lon/lat, 2D, valid, of the one kind asked for.

CRS: an explicit `crs` option wins; otherwise the file's own CRS is used (GeoJSON and KML are
WGS84 by definition). GCJ-02 and BD-09 can never be detected from a file, because their
coordinates look like ordinary WGS84 lon/lat: they must be declared with the option. A file
without any CRS whose coordinates are plausible lon/lat is assumed to be WGS84 (noted in
`VectorFile.warnings`); a file without CRS and with other coordinates is refused.

Text: a shapefile whose DBF declares no code page (no .cpg, no code-page byte) is decoded by
GDAL as Latin-1; if its non-ASCII text is valid UTF-8 or else GB18030 (a superset of GBK, what
Chinese desktop GIS writes), it is re-read in that encoding (noted in `VectorFile.warnings`).
Pass `encoding` to override.

Properties: the `fields` mapping (our name -> the file's column) is applied first; a column
name that does not match exactly is matched case-insensitively (shapefile tools upper-case
DBF names, KML's placemark name is "Name"). Mapped values are normalised: strings stripped,
empty strings become None, and fields whose name ends in "code" become strings of digits
(a shapefile's 320509 or 320509.0 becomes "320509"). All other columns are kept under their
own names with plain Python values.

A file of one feature with no attributes to speak of: a bare GeoJSON geometry (a Polygon
or MultiPolygon object, as many open datasets ship a boundary) or a single Feature. GDAL
reads it as a layer of one feature without columns, so the values the import needs (a code,
a name) come from the caller as `values` (the CLI's --code and --name), which also win over
the file's own columns; a required field that neither gives is refused saying what the file
is and which options to give.
"""

from __future__ import annotations

import json
import math
import re
import zipfile
from collections.abc import Collection, Mapping
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath
from typing import Any, Literal

import numpy as np
import pyogrio
import pyogrio.errors
import pyogrio.raw
import pyproj
import shapely
import shapely.errors

from geo_patrol.core.catalog import Message, msg, reason
from geo_patrol.core.coords import CrsSpec, parse_crs, transform_geometry
from geo_patrol.core.errors import ImportFileError

__all__ = ["FORMATS", "Kind", "VectorFeature", "VectorFile", "read_vector"]

Kind = Literal["polygon", "line", "point"]

# File extension -> format name (the GDAL driver name; KML may be read by LIBKML or KML).
FORMATS: Mapping[str, str] = {
    ".geojson": "GeoJSON",
    ".json": "GeoJSON",
    ".gpkg": "GPKG",
    ".shp": "ESRI Shapefile",
    ".zip": "ESRI Shapefile",
    ".kml": "KML",
    ".kmz": "KML",
}
_ACCEPTED = ".geojson, .json, .gpkg, .shp, .zip (zipped shapefile), .kml, .kmz"
# Formats whose coordinates are WGS84 lon/lat by definition.
_WGS84_FORMATS = frozenset({"GeoJSON", "KML"})
_WGS84 = "EPSG:4326"
# GDAL's fallback for a DBF without .cpg or code-page byte, and what Chinese DBFs really use.
_LATIN1 = "ISO-8859-1"
_DBF_ENCODINGS = ("UTF-8", "GB18030")
# Presentation columns the LIBKML driver adds to every KML layer; not data.
_KML_STYLE_COLUMNS = frozenset(
    {"timestamp", "begin", "end", "altitudeMode", "tessellate", "extrude", "visibility"}
    | {"drawOrder", "icon", "snippet"}
)
_GDAL_ERRORS = (
    pyogrio.errors.DataSourceError,
    pyogrio.errors.DataLayerError,
    shapely.errors.GEOSException,
)
_KINDS: Mapping[str, Message] = {
    "polygon": msg("problem.imports.kind_polygon"),
    "line": msg("problem.imports.kind_line"),
    "point": msg("problem.imports.kind_point"),
}
_WHOLE_NUMBER = re.compile(r"^[+-]?\d+(?:\.0*)?$")
_COLLECTION_TYPE_IDS = 4  # shapely type ids >= 4 are Multi* and GeometryCollection


@dataclass(frozen=True)
class VectorFeature:
    """One feature: its 1-based position in the file, WGS84 geometry and properties."""

    number: int
    geometry: shapely.Geometry
    properties: dict[str, Any]


@dataclass(frozen=True)
class VectorFile:
    """The features of one layer of a vector file, converted to WGS84 lon/lat."""

    path: Path
    format: str
    layer: str | None
    source_crs: str
    features: tuple[VectorFeature, ...]
    repaired: tuple[int, ...]
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Source:
    """Where GDAL should read: the dataset URI, its format and the chosen layer."""

    path: Path
    format: str
    uri: str
    layer: str

    @property
    def file(self) -> str:
        """The file name used in error messages."""
        return self.path.name


@dataclass(frozen=True)
class _Table:
    """Raw layer contents: CRS as pyogrio reports it, geometries and columns."""

    crs: str | None
    geometries: tuple[shapely.Geometry | None, ...]
    columns: dict[str, np.ndarray[Any, Any]]
    encoding: str | None = None
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Context:
    """File name and per-feature labels for error messages."""

    file: str
    labels: tuple[str | None, ...]

    def error(self, number: int, detail: Message, field: str | None = None) -> ImportFileError:
        """An ImportFileError for feature `number` (1-based), labelled with its name if any."""
        label = self.labels[number - 1]
        where = (
            msg("problem.imports.feature_label", number=number, label=label)
            if label
            else msg("problem.imports.feature", number=number)
        )
        return ImportFileError(
            msg("problem.imports.feature_error", file=self.file, where=where, detail=detail),
            feature=number,
            field=field,
            file=self.file,
        )


def read_vector(
    path: Path,
    *,
    kind: Kind,
    fields: Mapping[str, str] | None = None,
    required: Collection[str] = (),
    crs: str | None = None,
    layer: str | None = None,
    encoding: str | None = None,
    values: Mapping[str, str] | None = None,
) -> VectorFile:
    """Read one layer of a vector file as valid WGS84 features of `kind`, or raise.

    `values` (our field -> value) are given for a file of one feature, e.g. a bare geometry.
    """
    if kind not in _KINDS:
        raise ValueError(f"kind must be one of {', '.join(_KINDS)}, not {kind!r}")
    given = {name: value for name, value in (values or {}).items() if value}
    source = _locate(Path(path), layer)
    table = _read_table(source, encoding)
    _check_given(given, table, source)
    spec, source_crs, crs_note = _resolve_crs(crs, table, source)
    wanted = {name: column for name, column in (fields or {}).items() if name not in given}
    mapping = _resolve_columns(wanted, set(required) - set(given), table, source)
    ctx = _Context(source.file, _labels(table, mapping))
    features: list[VectorFeature] = []
    repaired: list[int] = []
    for index, raw in enumerate(table.geometries):
        number = index + 1
        geometry, was_repaired = _prepare_geometry(raw, kind, spec, ctx, number)
        properties = _properties(table, index, mapping, set(required) - set(given), ctx)
        properties.update(given)
        features.append(VectorFeature(number, geometry, properties))
        if was_repaired:
            repaired.append(number)
    return VectorFile(
        path=source.path,
        format=source.format,
        layer=source.layer,
        source_crs=source_crs,
        features=tuple(features),
        repaired=tuple(repaired),
        warnings=tuple(note for note in (*table.warnings, crs_note) if note),
    )


def _locate(path: Path, layer: str | None) -> _Source:
    """Detect the format by extension and resolve archive members and the layer."""
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise ImportFileError(
            msg(
                "problem.imports.unsupported_type",
                name=path.name,
                suffix=suffix or "(no extension)",
                accepted=_ACCEPTED,
            ),
            file=path.name,
        )
    if not path.is_file():
        raise ImportFileError(
            msg("problem.imports.file_not_found", name=path.name, path=path), file=path.name
        )
    uri = str(path)
    if suffix in {".zip", ".kmz"}:
        member = _archive_member(path, ".shp" if suffix == ".zip" else ".kml", layer)
        uri = f"/vsizip/{path.resolve().as_posix()}/{member}"
        if suffix == ".zip":
            layer = None  # the zip member was chosen by `layer`; it holds a single layer
    return _Source(path, FORMATS[suffix], uri, _pick_layer(path, uri, layer))


def _archive_member(path: Path, suffix: str, preferred: str | None) -> str:
    """Name of the .kml (doc.kml first) or .shp (chosen by stem) inside a zip archive."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = [n for n in archive.namelist() if not n.startswith("__MACOSX/")]
    except (zipfile.BadZipFile, OSError) as exc:
        raise ImportFileError(
            msg("problem.imports.bad_zip", name=path.name, error=exc), file=path.name
        ) from exc
    members = [n for n in names if n.lower().endswith(suffix)]
    if not members:
        raise ImportFileError(
            msg("problem.imports.archive_without", name=path.name, suffix=suffix), file=path.name
        )
    if suffix == ".kml":
        docs = [m for m in members if PurePosixPath(m).name.lower() == "doc.kml"]
        return (docs or members)[0]
    if preferred is None:
        return members[0]
    for member in members:
        if PurePosixPath(member).stem == preferred:
            return member
    stems = ", ".join(PurePosixPath(m).stem for m in members)
    raise ImportFileError(
        msg("problem.imports.no_shapefile", name=path.name, preferred=preferred, stems=stems),
        field="layer",
        file=path.name,
    )


def _pick_layer(path: Path, uri: str, requested: str | None) -> str:
    """The requested layer, else the first layer that has geometries."""
    try:
        layers = [(str(name), gtype) for name, gtype in pyogrio.list_layers(uri)]
    except _GDAL_ERRORS as exc:
        raise _unreadable(path.name, exc) from exc
    names = [name for name, _ in layers]
    if requested is not None:
        if requested not in names:
            raise ImportFileError(
                msg(
                    "problem.imports.no_layer",
                    name=path.name,
                    requested=requested,
                    names=", ".join(names) or "(none)",
                ),
                field="layer",
                file=path.name,
            )
        return requested
    spatial = [name for name, gtype in layers if gtype is not None]
    if not spatial:
        raise ImportFileError(
            msg("problem.imports.no_geometry_layer", name=path.name), file=path.name
        )
    return spatial[0]


def _unreadable(file: str, exc: Exception) -> ImportFileError:
    """ImportFileError carrying GDAL's (or GEOS's) message."""
    message = str(exc).strip() or type(exc).__name__
    return ImportFileError(msg("problem.imports.unreadable", file=file, message=message), file=file)


def _read_table(source: _Source, encoding: str | None) -> _Table:
    """Read the layer; a shapefile without a code page is re-read as UTF-8 or GB18030."""
    table = _read_layer(source, encoding)
    if source.format != "ESRI Shapefile" or encoding is not None or table.encoding != _LATIN1:
        return table
    guess = _guess_encoding(table)
    if guess is None:
        return table
    note = f"the shapefile declares no code page (.cpg); its text was read as {guess}"
    return replace(_read_layer(source, guess), warnings=(note,))


def _read_layer(source: _Source, encoding: str | None) -> _Table:
    """Read the layer's geometries and columns (KML presentation columns dropped)."""
    try:
        meta, _, wkb, data = pyogrio.raw.read(source.uri, layer=source.layer, encoding=encoding)
        if wkb is None:
            raise ImportFileError(
                msg("problem.imports.no_geometry_column", file=source.file, layer=source.layer),
                file=source.file,
            )
        geometries = tuple(shapely.from_wkb(wkb))
    except _GDAL_ERRORS as exc:
        raise _unreadable(source.file, exc) from exc
    if not geometries:
        raise ImportFileError(
            msg("problem.imports.empty_layer", file=source.file, layer=source.layer),
            file=source.file,
        )
    skip = _KML_STYLE_COLUMNS if source.format == "KML" else frozenset()
    columns = {
        str(name): values
        for name, values in zip(meta["fields"], data, strict=True)
        if name not in skip
    }
    return _Table(meta.get("crs"), geometries, columns, meta.get("encoding"))


def _guess_encoding(table: _Table) -> str | None:
    """UTF-8 or GB18030 if the non-ASCII text GDAL decoded as Latin-1 is valid in it."""
    texts = [
        value
        for values in table.columns.values()
        if values.dtype == object
        for value in values
        if isinstance(value, str) and not value.isascii()
    ]
    if not texts:
        return None
    try:
        raw = "\n".join(texts).encode(_LATIN1)
    except UnicodeEncodeError:
        return None
    for candidate in _DBF_ENCODINGS:
        try:
            raw.decode(candidate)
        except UnicodeDecodeError:
            continue
        return candidate
    return None


def _resolve_crs(option: str | None, table: _Table, source: _Source) -> tuple[CrsSpec, str, str]:
    """CRS spec and label (the option, the file's, or WGS84) and a warning if assumed."""
    if option is not None:
        return _parse(option, source.file, "the --crs option"), option, ""
    if table.crs is not None:
        label = _epsg_label(table.crs, source.file)
        return _parse(label, source.file, "the file's CRS"), label, ""
    if source.format in _WGS84_FORMATS:
        return _parse(_WGS84, source.file, "the default CRS"), _WGS84, ""
    bounds = shapely.total_bounds(np.array(table.geometries, dtype=object))
    if not np.isfinite(bounds).all() or _lonlat_ok(bounds[0::2], bounds[1::2]):
        # (no geometries at all: the per-feature checks will report them)
        note = "the file declares no CRS; its lon/lat coordinates were taken as WGS84"
        return _parse(_WGS84, source.file, "the default CRS"), _WGS84, note
    raise ImportFileError(
        msg(
            "problem.imports.no_crs",
            file=source.file,
            xmin=bounds[0],
            xmax=bounds[2],
            ymin=bounds[1],
            ymax=bounds[3],
        ),
        field="crs",
        file=source.file,
    )


def _parse(value: str, file: str, what: str) -> CrsSpec:
    """coords.parse_crs, with its ValueError turned into an ImportFileError."""
    try:
        return parse_crs(value)
    except ValueError as exc:
        raise ImportFileError(
            msg("problem.imports.not_usable", file=file, what=what, error=exc),
            field="crs",
            file=file,
        ) from exc


def _epsg_label(crs: str, file: str) -> str:
    """'EPSG:n' for the CRS pyogrio reported (an EPSG code or WKT); refuse unknown ones."""
    if re.fullmatch(r"EPSG:\d+", crs, flags=re.IGNORECASE):
        return crs.upper()
    try:
        parsed = pyproj.CRS.from_user_input(crs)
    except pyproj.exceptions.CRSError as exc:
        raise ImportFileError(
            msg("problem.imports.crs_unparsable", file=file, error=exc), field="crs", file=file
        ) from exc
    code = parsed.to_epsg(min_confidence=70)
    if code is None:
        raise ImportFileError(
            msg("problem.imports.crs_without_epsg", file=file, name=parsed.name),
            field="crs",
            file=file,
        )
    return f"EPSG:{code}"


def _lonlat_ok(lon: Any, lat: Any) -> bool:
    """True if all values are finite and within lon -180..180 / lat -90..90."""
    x, y = np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)
    finite = bool(np.isfinite(x).all() and np.isfinite(y).all())
    return finite and bool((np.abs(x) <= 180).all() and (np.abs(y) <= 90).all())


def _prepare_geometry(
    raw: shapely.Geometry | None, kind: Kind, spec: CrsSpec, ctx: _Context, number: int
) -> tuple[shapely.Geometry, bool]:
    """Check kind, drop Z, convert to WGS84, check the range, repair polygons."""
    if raw is None or raw.is_empty:
        raise ctx.error(number, msg("problem.imports.no_geometry"))
    shaped = _shape(shapely.force_2d(raw), kind)
    if shaped is None:
        raise ctx.error(
            number, msg("problem.imports.wrong_kind", found=raw.geom_type, expected=_KINDS[kind])
        )
    try:
        geometry = transform_geometry(shaped, spec)
    except ValueError as exc:
        raise ctx.error(number, msg("problem.imports.not_convertible", error=exc)) from exc
    coords = shapely.get_coordinates(geometry)
    if not _lonlat_ok(coords[:, 0], coords[:, 1]):
        bad = coords[~np.isfinite(coords).all(axis=1) | (np.abs(coords) > (180, 90)).any(axis=1)]
        raise ctx.error(
            number,
            msg("problem.imports.outside_after_conversion", x=bad[0, 0], y=bad[0, 1]),
            field="crs",
        )
    if kind == "polygon":
        return _repair(geometry, ctx, number)
    if not geometry.is_valid:
        raise ctx.error(
            number, msg("problem.imports.invalid_line", reason=shapely.is_valid_reason(geometry))
        )
    return geometry, False


def _parts(geom: shapely.Geometry) -> list[shapely.Geometry]:
    """Non-empty simple parts of a geometry, nested collections flattened."""
    parts = np.array([geom], dtype=object)
    while (shapely.get_type_id(parts) >= _COLLECTION_TYPE_IDS).any():
        parts = shapely.get_parts(parts)
    return [part for part in parts if not part.is_empty]


def _shape(geom: shapely.Geometry, kind: Kind) -> shapely.Geometry | None:
    """The geometry as MultiPolygon, (Multi)LineString or Point; None if it is another kind."""
    parts = _parts(geom)
    types = {part.geom_type for part in parts}
    if kind == "polygon" and types == {"Polygon"}:
        return shapely.MultiPolygon(parts)
    if kind == "line" and types == {"LineString"}:
        if geom.geom_type in {"LineString", "MultiLineString"}:
            return geom
        return shapely.MultiLineString(parts)
    if kind == "point" and types == {"Point"} and len(parts) == 1:
        return parts[0]
    return None


def _repair(geom: shapely.Geometry, ctx: _Context, number: int) -> tuple[shapely.Geometry, bool]:
    """A valid, counter-clockwise MultiPolygon; invalid input is repaired with make_valid."""
    if geom.is_valid:
        return shapely.orient_polygons(geom), False
    reason = shapely.is_valid_reason(geom)
    polygons = [part for part in _parts(shapely.make_valid(geom)) if part.geom_type == "Polygon"]
    fixed = shapely.MultiPolygon(polygons)
    if polygons and not fixed.is_valid:
        fixed = shapely.MultiPolygon(_parts(shapely.union_all(polygons)))
    if not polygons or not fixed.is_valid or fixed.is_empty:
        raise ctx.error(number, msg("problem.imports.unrepairable_polygon", reason=reason))
    return shapely.orient_polygons(fixed), True


def _find_column(name: str, columns: Collection[str]) -> str | None:
    """The column called `name`, else the only one equal to it ignoring case."""
    if name in columns:
        return name
    matches = [column for column in columns if column.casefold() == name.casefold()]
    return matches[0] if len(matches) == 1 else None


def _check_given(given: Mapping[str, str], table: _Table, source: _Source) -> None:
    """Values given as options name one feature: refuse them for a file of several."""
    count = len(table.geometries)
    if given and count != 1:
        options = " and ".join(f"--{name}" for name in given)
        raise ImportFileError(
            msg(
                "problem.imports.options_one_feature",
                file=source.file,
                options=options,
                count=count,
            ),
            field=next(iter(given)),
            file=source.file,
        )


def _what_it_is(source: _Source, table: _Table) -> Message | None:
    """'a bare GeoJSON geometry (Polygon)' or 'a single GeoJSON Feature without properties'
    when that is what a file without columns is; None for anything else."""
    if table.columns or len(table.geometries) != 1:
        return None
    if source.format != "GeoJSON":
        return msg("problem.imports.kind_single_feature")
    try:
        with source.path.open("rb") as handle:
            kind = json.load(handle).get("type")
    except (OSError, ValueError, AttributeError):
        return msg("problem.imports.kind_single_feature")
    if kind == "Feature":
        return msg("problem.imports.kind_geojson_feature")
    if kind == "FeatureCollection":
        return msg("problem.imports.kind_one_feature_collection")
    return msg("problem.imports.kind_bare_geometry", kind=kind)


def _resolve_columns(
    fields: Mapping[str, str], required: set[str], table: _Table, source: _Source
) -> dict[str, str | None]:
    """Our property name -> the file's column (None if an optional one is absent)."""
    wanted = {name: name for name in sorted(required)} | dict(fields)
    missing = [ours for ours, theirs in wanted.items() if ours in required]
    missing = [ours for ours in missing if _find_column(wanted[ours], table.columns) is None]
    what = _what_it_is(source, table) if missing else None
    if what is not None:
        options = " and ".join(f"--{name}" for name in missing)
        raise ImportFileError(
            msg(
                "problem.imports.bare_file",
                file=source.file,
                what=what,
                missing=" or ".join(missing),
                options=options,
            ),
            field=missing[0],
            file=source.file,
        )
    resolved: dict[str, str | None] = {}
    for ours, theirs in wanted.items():
        column = _find_column(theirs, table.columns)
        if column is None and ours in required:
            listing = ", ".join(table.columns) or "(none)"
            via = "" if ours == theirs else msg("problem.imports.via_column", column=theirs)
            raise ImportFileError(
                msg(
                    "problem.imports.field_not_found",
                    file=source.file,
                    ours=ours,
                    via=via,
                    listing=listing,
                    single=msg("problem.imports.or_give_option", name=ours)
                    if len(table.geometries) == 1
                    else "",
                ),
                field=ours,
                file=source.file,
            )
        resolved[ours] = column
    return resolved


def _labels(table: _Table, mapping: Mapping[str, str | None]) -> tuple[str | None, ...]:
    """Each feature's name (mapped 'name' field, else a 'name' column) for messages."""
    column = mapping.get("name") or _find_column("name", table.columns)
    count = len(table.geometries)
    if column is None:
        return (None,) * count
    values = (_text(_plain(value)) for value in table.columns[column])
    return tuple(None if value is None else str(value) for value in values)


def _properties(
    table: _Table,
    index: int,
    mapping: Mapping[str, str | None],
    required: set[str],
    ctx: _Context,
) -> dict[str, Any]:
    """Mapped, normalised fields plus all other columns under their own names."""
    number = index + 1
    mapped = {column for column in mapping.values() if column is not None}
    properties = {
        name: _plain(values[index]) for name, values in table.columns.items() if name not in mapped
    }
    for ours, column in mapping.items():
        raw = None if column is None else _plain(table.columns[column][index])
        try:
            value = _code(raw) if ours.lower().endswith("code") else _text(raw)
        except ValueError as exc:
            raise ctx.error(
                number, msg("problem.imports.bad_field", field=ours, error=reason(exc)), field=ours
            ) from exc
        if value is None and ours in required:
            via = "" if column == ours else msg("problem.imports.via_column", column=column)
            raise ctx.error(
                number, msg("problem.imports.no_value", field=ours, via=via), field=ours
            )
        properties[ours] = value
    return properties


def _plain(value: Any) -> Any:
    """A plain Python value: numpy scalars unwrapped, NaN and NaT as None."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _text(value: Any) -> Any:
    """Strings stripped, empty strings as None; other values unchanged."""
    if isinstance(value, str):
        return value.strip() or None
    return value


def _code(value: Any) -> str | None:
    """An administrative/river code as a string of digits: 320509, 320509.0 -> '320509'."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a code")
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError(f"{value!r} is not a whole-number code")
        return str(int(value))
    text = str(value).strip()
    if _WHOLE_NUMBER.match(text) and "." in text:
        text = text.split(".", 1)[0]
    return text or None
