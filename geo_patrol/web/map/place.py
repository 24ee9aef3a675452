"""Open the map at a place named in the address's fragment (`/map?...#31.012345,120.654321`,
latitude first as map links write it): the proposed agenda links an unpatrolled stretch so.

The fragment is read by the page itself (it never reaches the server); anything but two
numbers in range is ignored, and the map keeps the view of its data.
"""

from __future__ import annotations

from branca.element import MacroElement

from geo_patrol.web.render import ENV

ZOOM = 16  # a stretch of a few hundred metres fills the view


class PlaceFromFragment(MacroElement):
    """Centre the map (and mark the spot) at the fragment's `lat,lon`, on load and on change."""

    _template = ENV.get_template("map/place.js")

    def __init__(self, *, zoom: int = ZOOM) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._name = "PlaceFromFragment"
        self.zoom = zoom
