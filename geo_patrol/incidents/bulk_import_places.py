"""Where and what an imported report is: its place (coordinates in a datum, or a village or
town named in it) and our category for the word the other platform uses.

A report without coordinates is placed at a village or town the file names (its own
column, or a name found in the address): a village at its committee's point (the villages
layer) or, without one, at a point inside its boundary; a town at a point inside its
boundary. "Inside" is ST_PointOnSurface, never the centroid: the centroid of a crescent-
shaped village can lie in its neighbour, and the report would be routed there. Each row
says which of these placed it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

from geo_patrol.core.catalog import msg, reason
from geo_patrol.core.coords import to_wgs84
from geo_patrol.core.errors import InvalidInput
from geo_patrol.incidents.bulk_import_file import ReportRow

# Villages (committee points) and villages and towns in force (a point inside each) whose
# name is one of the names given or appears in one of the addresses.
PLACES = """
WITH names AS (SELECT unnest(CAST(:names AS text[])) AS name),
addresses AS (SELECT unnest(CAST(:addresses AS text[])) AS address)
SELECT 'village point' AS kind, v.name, coalesce(j.parent_code, '') AS town_code,
       ST_X(v.geom) AS lon, ST_Y(v.geom) AS lat
FROM villages v LEFT JOIN jurisdictions j ON j.code = v.village_code AND j.valid_to IS NULL
WHERE v.name IN (SELECT name FROM names)
   OR EXISTS (SELECT 1 FROM addresses a WHERE strpos(a.address, v.name) > 0)
UNION ALL
SELECT CASE j.level WHEN 'town' THEN 'town area' ELSE 'village area' END, j.name,
       CASE j.level WHEN 'town' THEN j.code ELSE coalesce(j.parent_code, '') END,
       ST_X(ST_PointOnSurface(j.geom)), ST_Y(ST_PointOnSurface(j.geom))
FROM jurisdictions j
WHERE j.valid_to IS NULL AND j.level IN ('village', 'town')
  AND (j.name IN (SELECT name FROM names)
       OR EXISTS (SELECT 1 FROM addresses a WHERE strpos(a.address, j.name) > 0))
"""

CATEGORIES = """
SELECT c.code, c.name, c.name_en, r.severity, r.tier
FROM incident_categories c JOIN tier_rules r ON r.category = c.code
JOIN tier_deadlines d ON d.category = r.category AND d.tier = r.tier
WHERE c.active ORDER BY c.code, r.severity
"""

# Words 12345 hotlines and river-chief platforms file reports under, to our categories.
DEFAULT_CATEGORY_WORDS = {
    **dict.fromkeys(
        ("偷排", "非法排污", "排污", "偷排漏排", "污水直排", "违法排污", "工业废水", "污水排放"),
        "illegal_discharge",
    ),
    **dict.fromkeys(("养殖", "养殖污染", "畜禽养殖", "水产养殖污染"), "aquaculture_pollution"),
    **dict.fromkeys(
        ("漂浮物", "水面漂浮物", "垃圾", "河道垃圾", "水面垃圾", "河面垃圾"), "floating_waste"
    ),
    **dict.fromkeys(
        ("黑臭", "黑臭水体", "水体发黑", "河水发臭", "水质异常", "水体异味"),
        "black_odorous_water",
    ),
    **dict.fromkeys(("电鱼", "捕鱼", "非法捕捞", "非法捕鱼", "违法捕捞"), "illegal_fishing"),
    **dict.fromkeys(("岸坡坍塌", "河岸损毁", "堤岸损坏", "护岸损坏", "河岸坍塌"), "bank_damage"),
    **dict.fromkeys(("边界纠纷", "跨界纠纷", "界河纠纷"), "border_dispute"),
}
# What a place named in a row is, as a message names it.
KINDS = {
    "town": msg("problem.incidents.import_kind_town"),
    "village": msg("problem.incidents.import_kind_village"),
}


@dataclass(frozen=True)
class Place:
    """A row's point in WGS84 and how it was found."""

    lon: float
    lat: float
    how: str  # coordinates | village point | village area | town area
    name: str | None = None


@dataclass(frozen=True)
class Categories:
    """Our active categories, the words mapped to them, and each one's tier by severity."""

    words: dict[str, str]
    names: dict[str, str]
    tiers: dict[tuple[str, str], str]

    def code_of(self, word: str) -> str:
        """Our category for a platform's word; InvalidInput naming the known ones."""
        code = self.words.get(_word(word))
        if code is None:
            known = ", ".join(f"{code} ({name})" for code, name in sorted(self.names.items()))
            raise InvalidInput(
                msg("problem.incidents.import_unknown_category", word=word[:40], known=known)
            )
        return code


def _word(value: str) -> str:
    """A category word as looked up (case and spaces ignored)."""
    return "".join(value.split()).lower()


def parse_mapping(value: str | None) -> dict[str, str]:
    """A category table given with the request: a JSON object {"word": "code"}, or lines
    of `word,code` (or `word=code`, or tab-separated, as a two-column CSV)."""
    if not value or not value.strip():
        return {}
    if value.lstrip().startswith("{"):
        try:
            loaded = json.loads(value)
        except ValueError as error:
            raise InvalidInput(
                msg("problem.incidents.import_table_not_json", error=str(error)),
                field="categories",
            ) from error
        if not isinstance(loaded, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in loaded.items()
        ):
            raise InvalidInput(msg("problem.incidents.import_table_shape"), field="categories")
        return dict(loaded)
    mapping: dict[str, str] = {}
    for number, line in enumerate(value.lstrip("\ufeff").splitlines(), start=1):
        if not line.strip():
            continue
        for separator in (",", "=", "\t", "，"):
            if separator in line:
                word, _, code = line.partition(separator)
                break
        else:
            raise InvalidInput(
                msg("problem.incidents.import_table_line", number=number), field="categories"
            )
        mapping[word.strip()] = code.strip()
    return mapping


def load_categories(session: Session, *, mapping: dict[str, str]) -> Categories:
    """The active categories, the default words, then the request's table (which wins)."""
    names: dict[str, str] = {}
    tiers: dict[tuple[str, str], str] = {}
    words: dict[str, str] = {}
    for row in session.execute(text(CATEGORIES)):
        names[row.code] = row.name
        tiers[(row.code, row.severity)] = row.tier
        for word in (row.code, row.name, row.name_en):
            words[_word(word)] = row.code
    for word, code in DEFAULT_CATEGORY_WORDS.items():
        if code in names:
            words.setdefault(_word(word), code)
    for word, code in mapping.items():
        if code not in names:
            known = ", ".join(sorted(names))
            raise InvalidInput(
                msg(
                    "problem.incidents.import_table_unknown_code",
                    word=word[:40],
                    code=code[:40],
                    known=known,
                ),
                field="categories",
            )
        words[_word(word)] = code
    return Categories(words, names, tiers)


@dataclass
class Gazetteer:
    """The villages and towns an import's rows name, by name."""

    places: dict[str, list[tuple[str, str, float, float]]]  # name → (kind, town, lon, lat)
    towns: dict[str, set[str]]  # town name → codes

    def place_of(self, row: ReportRow) -> Place:
        """The row's point: its coordinates, else its village, else its town."""
        if row.lon is not None and row.lat is not None:
            try:
                lon, lat = to_wgs84(row.lon, row.lat, datum=row.datum)
            except ValueError as error:
                raise InvalidInput(reason(error), field="datum") from error
            return Place(float(lon), float(lat), "coordinates")
        town = row.town or self._named(row.address, kinds={"town area"})
        village = row.village or self._named(row.address, kinds={"village point", "village area"})
        if village:
            return self._village(village, town)
        if town:
            return self._one(town, {"town area"}, None, field="town")
        raise InvalidInput(msg("problem.incidents.import_no_known_place"), field="address")

    def _village(self, village: str, town: str | None) -> Place:
        """A village by name (its committee point first), in the town if one is named."""
        kinds = {"village point"} if self._has(village, "village point") else {"village area"}
        return self._one(village, kinds, town, field="village")

    def _has(self, name: str, kind: str) -> bool:
        """Whether a place of this kind has this name."""
        return any(found[0] == kind for found in self.places.get(name, []))

    def _one(self, name: str, kinds: set[str], town: str | None, *, field: str) -> Place:
        """The one place of the name (within the town); refused if none or several."""
        found = [p for p in self.places.get(name, []) if p[0] in kinds]
        if town is not None and len(found) > 1:
            codes = self.towns.get(town, set())
            found = [p for p in found if p[1] in codes]
        if not found:
            raise InvalidInput(
                msg("problem.incidents.import_no_place_named", kind=KINDS[field], name=name[:40]),
                field=field,
            )
        if len(found) > 1:
            raise InvalidInput(
                msg("problem.incidents.import_places_named", count=len(found), name=name[:40]),
                field=field,
            )
        kind, _, lon, lat = found[0]
        return Place(lon, lat, kind, name)

    def _named(self, address: str | None, *, kinds: set[str]) -> str | None:
        """The longest known place name of these kinds found in the address."""
        if not address:
            return None
        names = [
            name
            for name, found in self.places.items()
            if name in address and any(p[0] in kinds for p in found)
        ]
        return max(names, key=len) if names else None


def load_gazetteer(session: Session, *, rows: list[ReportRow]) -> Gazetteer:
    """The villages and towns the rows without coordinates name, in one statement."""
    wanted = [row for row in rows if row.lon is None]
    names = sorted({name for row in wanted for name in (row.village, row.town) if name})
    addresses = sorted({row.address for row in wanted if row.address})
    places: dict[str, list[tuple[str, str, float, float]]] = {}
    towns: dict[str, set[str]] = {}
    if not wanted:
        return Gazetteer(places, towns)
    for found in session.execute(text(PLACES), {"names": names, "addresses": addresses}):
        places.setdefault(found.name, []).append(
            (found.kind, found.town_code, float(found.lon), float(found.lat))
        )
        if found.kind == "town area":
            towns.setdefault(found.name, set()).add(found.town_code)
    return Gazetteer(places, towns)
