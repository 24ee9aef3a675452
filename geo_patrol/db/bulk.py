"""Bulk transfer: binary COPY of numpy columns in, plain driver fetches out.

A text COPY of a million fixes formats a million rows in Python (about 10 s); the binary
format is fixed-width big-endian fields, which numpy writes in one pass. Each row is a
16-bit field count, then per field a 32-bit length (-1 for NULL, with no bytes after it)
and the value. Supported columns: int32 (`int4`), int64 (`int8`), float64 (`float8`, NaN
is NULL), bool, datetime64 (`timestamptz`, NaT is NULL; in days: `date`), bytes (`text`,
numpy "S": each value without its NUL padding), masked arrays (masked is NULL), and points as EWKB
(`geometry`, from `ewkb_points`).
"""

from __future__ import annotations

import struct
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy.orm import Session

HEADER = b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0)
TRAILER = struct.pack(">h", -1)
PG_EPOCH = np.datetime64("2000-01-01T00:00:00", "us")
EWKB_POINT = np.dtype(
    [("order", "u1"), ("kind", "<u4"), ("srid", "<u4"), ("x", "<f8"), ("y", "<f8")]
)


def ewkb_points(lons: NDArray[np.float64], lats: NDArray[np.float64]) -> NDArray[np.uint8]:
    """Points as EWKB with SRID 4326 (little-endian), one row of 25 bytes each."""
    layout = np.dtype(
        [("order", "u1"), ("kind", "<u4"), ("srid", "<u4"), ("x", "<f8"), ("y", "<f8")]
    )
    rows = np.empty(len(lons), layout)
    rows["order"], rows["kind"], rows["srid"] = 1, 0x20000001, 4326  # point, with an SRID
    rows["x"], rows["y"] = lons, lats
    return rows.view(np.uint8).reshape(len(lons), EWKB_POINT.itemsize)


def _field(values: NDArray[Any]) -> tuple[NDArray[np.uint8], NDArray[np.int32]]:
    """One column as big-endian bytes (rows x width) and each row's length (-1 for NULL)."""
    kind = values.dtype.kind
    if isinstance(values, np.ma.MaskedArray):
        value, length = _field(values.filled(0))
        return value, np.where(np.ma.getmaskarray(values), -1, length).astype(np.int32)
    if values.ndim == 2 and values.dtype == np.uint8:  # already encoded (EWKB)
        return values, np.full(len(values), values.shape[1], np.int32)
    if kind == "S":
        value = values.view(np.uint8).reshape(len(values), values.dtype.itemsize)
        return value, np.char.str_len(values).astype(np.int32)
    if kind == "M" and np.datetime_data(values.dtype)[0] == "D":
        null = np.isnat(values)
        days = (values - PG_EPOCH.astype("datetime64[D]")).astype(np.int64)
        encoded = np.where(null, 0, days).astype(">i4")
    elif kind == "M":
        null = np.isnat(values)
        micros = (values.astype("datetime64[us]") - PG_EPOCH).astype(np.int64)
        encoded = np.where(null, 0, micros).astype(">i8")
    elif kind == "f":
        null = np.isnan(values)
        encoded = values.astype(">f8")
    elif kind == "b":
        null, encoded = np.zeros(len(values), bool), values.astype(np.uint8)
    elif kind in "iu" and values.dtype.itemsize == 8:
        null, encoded = np.zeros(len(values), bool), values.astype(">i8")
    elif kind in "iu":
        null, encoded = np.zeros(len(values), bool), values.astype(">i4")
    else:
        raise TypeError(f"no binary COPY encoding for {values.dtype}")
    value = encoded.view(np.uint8).reshape(len(values), encoded.dtype.itemsize)
    return value, np.where(null, -1, value.shape[1]).astype(np.int32)


def encode_rows(columns: Sequence[NDArray[Any]]) -> bytes:
    """The whole binary COPY stream (header, rows, trailer) of equally long columns.

    Rows are written grouped by which of their fields are NULL (row order means nothing to
    a table): when every present value fills its column's width, every row of a group has
    the same width, so the group is one contiguous block; picking the non-NULL bytes out of
    a million-row matrix by mask cost more than the rest. (Text of varying length takes the
    masked way.)
    """
    rows = len(columns[0])
    fields = [_field(column) for column in columns]
    lengths = np.column_stack([length for _, length in fields]) if rows else None
    count = np.frombuffer(struct.pack(">h", len(columns)), np.uint8)
    widths = np.array([value.shape[1] for value, _ in fields])
    if lengths is None or not ((lengths < 0) | (lengths == widths)).all():
        return HEADER + _masked_rows(fields, count, rows) + TRAILER
    pattern = (lengths < 0) @ (1 << np.arange(len(columns), dtype=np.int64))
    groups = np.unique(pattern)
    body = []
    for group in groups.tolist():
        rows_of = slice(None) if len(groups) == 1 else np.flatnonzero(pattern == group)
        blocks = [count[None, :].repeat(len(pattern[rows_of]), 0)]
        for j, (value, length) in enumerate(fields):
            blocks.append(length[rows_of].astype(">i4").view(np.uint8).reshape(-1, 4))
            if not group >> j & 1:
                blocks.append(value[rows_of])
        body.append(np.hstack(blocks).tobytes())
    return HEADER + b"".join(body) + TRAILER


def _masked_rows(
    fields: list[tuple[NDArray[np.uint8], NDArray[np.int32]]], count: NDArray[np.uint8], rows: int
) -> bytes:
    """Rows of varying width: the whole matrix, then only the bytes each row uses."""
    blocks = [count[None, :].repeat(rows, 0)]
    keep = [np.ones((rows, 2), bool)]
    for value, length in fields:
        blocks += [length.astype(">i4").view(np.uint8).reshape(rows, 4), value]
        keep += [np.ones((rows, 4), bool), np.arange(value.shape[1]) < length[:, None]]
    matrix, mask = np.hstack(blocks), np.hstack(keep)
    return matrix.tobytes() if mask.all() else matrix[mask].tobytes()


# Rows encoded and sent at a time: PostgreSQL stores one slice while Python encodes the
# next, so the two cores work at once instead of in turn.
COPY_SLICE_ROWS = 100_000


def copy_rows(session: Session, *, table: str, columns: dict[str, NDArray[Any]]) -> None:
    """COPY the columns into `table` (a whitelisted name) on the session's connection."""
    rows = len(next(iter(columns.values())))
    if not rows:
        return
    raw = session.connection().connection.driver_connection
    assert raw is not None
    sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN (FORMAT BINARY)"
    with raw.cursor() as cursor, cursor.copy(sql) as copy:
        copy.write(HEADER)
        for start in range(0, rows, COPY_SLICE_ROWS):
            part = [values[start : start + COPY_SLICE_ROWS] for values in columns.values()]
            copy.write(encode_rows(part)[len(HEADER) : -len(TRAILER)])
        copy.write(TRAILER)


def fetch_rows(session: Session, sql: str, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
    """Rows of `sql` (psycopg `%(name)s` placeholders) from the driver's own cursor.

    For results of a million rows: SQLAlchemy's Row objects cost about a second more.
    """
    raw = session.connection().connection.driver_connection
    assert raw is not None
    with raw.cursor() as cursor:
        rows: list[tuple[Any, ...]] = cursor.execute(sql, params).fetchall()
        return rows


def ewkb_lines(
    lons: NDArray[np.float64],
    lats: NDArray[np.float64],
    index: NDArray[np.int64],
    measures: NDArray[np.float64] | None = None,
) -> NDArray[np.uint8]:
    """Lines of equally many points as EWKB with SRID 4326: row i joins the points `index[i]`,
    with `measures` as their M values when given (LineStringM).

    One row of 13 + 16 * points bytes each (byte order, type, SRID, count, coordinates), or
    24 bytes a point with M.
    """
    rows, points = index.shape
    axes = 2 if measures is None else 3
    layout = np.dtype(
        [
            ("order", "u1"),
            ("kind", "<u4"),
            ("srid", "<u4"),
            ("count", "<u4"),
            ("xy", "<f8", (points, axes)),
        ]
    )
    lines = np.empty(rows, layout)
    kind = 0x20000002 if measures is None else 0x60000002  # line, SRID (and M) flags
    lines["order"], lines["kind"], lines["srid"], lines["count"] = 1, kind, 4326, points
    lines["xy"][:, :, 0], lines["xy"][:, :, 1] = lons[index], lats[index]
    if measures is not None:
        lines["xy"][:, :, 2] = measures[index]
    return lines.view(np.uint8).reshape(rows, layout.itemsize)
