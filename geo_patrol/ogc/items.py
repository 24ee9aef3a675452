"""A page of a collection's features, and one feature by id.

Pages are keyset pages (geo_patrol.core.paging): a cursor is the direction and the key of
the feature it starts from (`n`: after it, `p`: before it), so a client following `next`
reaches every feature once, and `prev` goes back the same way. The small collections are
read whole and cut here (by id, after the box test with shapely); incidents and patrols are
cut in SQL (geo_patrol.ogc.queries).

Introduced in: geo-patrol 0.4.0
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import shapely
from sqlalchemy.orm import Session

from geo_patrol.core.catalog import msg
from geo_patrol.core.errors import NotFound
from geo_patrol.core.paging import KeyValue, encode_cursor
from geo_patrol.ogc.collections import Collection
from geo_patrol.ogc.params import Direction, ItemsQuery, Position
from geo_patrol.ogc.readers import Caller, Feature, feature


@dataclass(frozen=True)
class FeaturePage:
    """The features of one page, how many match in all, and the cursors either side."""

    features: list[Feature]
    matched: int
    next_cursor: str | None
    prev_cursor: str | None


def _cursor(direction: Direction, key: KeyValue) -> str:
    """The cursor of a page starting after (or before) `key`."""
    return encode_cursor([str(direction), key])


def _in_box(features: list[Feature], bbox: tuple[float, float, float, float]) -> list[Feature]:
    """The features whose geometry meets the box."""
    box = shapely.box(*bbox)
    return [
        f
        for f in features
        if f["geometry"] is not None and shapely.geometry.shape(f["geometry"]).intersects(box)
    ]


def _sort_key(value: Any) -> tuple[int, Any]:
    """Ids compare as numbers when they are numbers, else as text."""
    return (0, value) if isinstance(value, int) else (1, str(value))


def _cut_whole(features: list[Feature], query: ItemsQuery) -> tuple[list[Feature], bool]:
    """The page of a whole list in id order at the query's position, and whether more lie
    in the direction read."""
    position, limit = query.position, query.limit
    if position.key is None:
        return features[:limit], len(features) > limit
    key = _sort_key(position.key)
    if position.direction is Direction.NEXT:
        after = [f for f in features if _sort_key(f["id"]) > key]
        return after[:limit], len(after) > limit
    before = [f for f in features if _sort_key(f["id"]) < key]
    return before[-limit:], len(before) > limit


def _page(features: list[Feature], more: bool, position: Position, matched: int) -> FeaturePage:
    """The page with its cursors: onwards after the last feature when more follow (or when
    this page was read backwards), back before the first when this is not the first page."""
    back = position.direction is Direction.PREV
    has_next = bool(features) and (more if not back else True)
    has_prev = bool(features) and (more if back else position.key is not None)
    return FeaturePage(
        features=features,
        matched=matched,
        next_cursor=_cursor(Direction.NEXT, features[-1]["id"]) if has_next else None,
        prev_cursor=_cursor(Direction.PREV, features[0]["id"]) if has_prev else None,
    )


def read_page(
    session: Session, collection: Collection, *, caller: Caller, query: ItemsQuery
) -> FeaturePage:
    """One page of `collection` for `caller`."""
    if collection.paged is not None:
        found = collection.paged(session, caller, query)
        features = [_row_feature(row) for row in found.rows]
        return _page(features, found.more, query.position, found.matched)
    assert collection.whole is not None
    everything = collection.whole(session, caller, query)
    if query.bbox is not None:
        everything = _in_box(everything, query.bbox)
    features, more = _cut_whole(everything, query)
    return _page(features, more, query.position, len(everything))


def _row_feature(row: dict[str, Any]) -> Feature:
    """A Feature of an incident or patrol row (its `geometry` already GeoJSON)."""
    geometry = row.pop("geometry")
    return feature(row["id"], geometry, row)


def read_feature(
    session: Session, collection: Collection, *, caller: Caller, feature_id: str
) -> Feature:
    """One feature by its id, in the caller's scope; 404 naming `feature_id`."""
    missing = NotFound(
        msg("problem.ogc.no_feature", feature_id=feature_id, collection=collection.id),
        field="feature_id",
    )
    if collection.paged is not None:
        if not feature_id.isdigit() or not 0 < int(feature_id) < 2**63:
            raise missing
        key = int(feature_id)
        # The page just after key + 1, newest first: its first feature is `key` if visible.
        query = ItemsQuery(limit=1, position=Position(Direction.NEXT, key + 1))
        found = collection.paged(session, caller, query).rows
        if not found or found[0]["id"] != key:
            raise missing
        return _row_feature(found[0])
    assert collection.whole is not None
    for candidate in collection.whole(session, caller, ItemsQuery()):
        if str(candidate["id"]) == feature_id:
            return candidate
    raise missing
