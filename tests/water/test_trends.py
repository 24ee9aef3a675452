"""The border sections' classes of a period, the period before and the parameters over the
target, against values worked out by hand from readings inserted here."""

from __future__ import annotations

from datetime import date

from sqlalchemy import text
from sqlalchemy.orm import Session

from geo_patrol.water.trends import border_trends, previous_period
from tests.support.border_water import add_reading, add_section, border_segment, inner_segment

ZONE = "ZONE-SZ-WJJ"


def test_previous_period_is_the_month_before_or_as_many_days() -> None:
    assert previous_period(date(2026, 11, 1), date(2026, 11, 30)) == (
        date(2026, 10, 1),
        date(2026, 10, 31),
    )
    assert previous_period(date(2026, 3, 1), date(2026, 3, 31)) == (
        date(2026, 2, 1),
        date(2026, 2, 28),
    )
    assert previous_period(date(2026, 11, 10), date(2026, 11, 19)) == (
        date(2026, 10, 31),
        date(2026, 11, 9),
    )


def test_border_sections_classed_by_their_worst_reading(demo_session: Session) -> None:
    border, inner = border_segment(demo_session), inner_segment(demo_session)
    zone_id = demo_session.execute(
        text("SELECT id FROM cooperation_zones WHERE code = :c"), {"c": ZONE}
    ).scalar_one()
    worse = add_section(demo_session, "T-WORSE", border, kind="provincial", target=3)
    quiet = add_section(demo_session, "T-QUIET", border, kind="border", target=2)
    add_section(demo_session, "T-INNER", inner, kind="national", target=3)  # not at the border
    # October (last period): class II, then III on the last local minute of the month.
    add_reading(demo_session, worse, "2026-10-05 10:00+08", 2)
    add_reading(demo_session, worse, "2026-10-31 23:59+08", 3)
    # November: the first local minute counts here; IV decides, III and a class-less one not.
    add_reading(demo_session, worse, "2026-11-01 00:00+08", 3, {"NH3-N": 0.2})
    add_reading(demo_session, worse, "2026-11-15 09:00+08", 4, {"NH3-N": 0.45, "TP": 0.1})
    add_reading(demo_session, worse, "2026-11-20 09:00+08", None)
    # December is outside both periods.
    add_reading(demo_session, worse, "2026-12-01 00:00+08", 6, {"COD": 2.0})
    add_reading(demo_session, quiet, "2026-10-10 09:00+08", 2)
    got = border_trends(
        demo_session, zone_id=zone_id, date_from=date(2026, 11, 1), date_to=date(2026, 11, 30)
    )
    by_code = {t.code: t for t in got}
    assert set(by_code) == {"T-WORSE", "T-QUIET"}
    w = by_code["T-WORSE"]
    assert (w.water_class, w.last_class, w.target_class) == (4, 3, 3)
    # NH3-N's largest factor of the month (0.45 > 0.2), then TP.
    assert [(o.parameter, o.factor) for o in w.over] == [("NH3-N", 0.45), ("TP", 0.1)]
    assert w.worse_than_last and w.worse_than_target and w.worsened
    q = by_code["T-QUIET"]
    assert (q.water_class, q.last_class, q.target_class, q.over) == (None, 2, 2, [])
    assert not q.worsened
