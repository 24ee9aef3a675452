"""A distance-measuring control of our own (Leaflet only, no eval, no third-party plugin).

Click the ruler, click points on the map: the running length of the line is shown (great-
circle distance from Leaflet's map.distance); click the ruler again to stop and clear.
"""

from __future__ import annotations

from branca.element import MacroElement

from geo_patrol.web.render import ENV


class DistanceMeasure(MacroElement):
    """The ruler control; `title` and `start` are its two texts."""

    _template = ENV.get_template("map/measure.js")

    def __init__(self, *, title: str, start: str) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._name = "DistanceMeasure"
        self.words = {"title": title, "start": start}
