"""Binary COPY of numpy columns: what PostgreSQL reads back is what was sent, NULLs included."""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo_patrol.db import bulk
from geo_patrol.db.bulk import copy_rows, ewkb_points


@pytest.mark.parametrize("slice_rows", [100_000, 7])
def test_rows_with_every_mix_of_nulls_and_widths_round_trip(
    session: Session, slice_rows: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bulk, "COPY_SLICE_ROWS", slice_rows)  # one slice, or many
    n = 500
    rng = np.random.default_rng(11)
    lon, lat = 120 + rng.random(n), 30 + rng.random(n)
    ints = np.ma.MaskedArray(np.arange(n, dtype=np.int32), mask=rng.random(n) < 0.3)
    floats = np.where(rng.random(n) < 0.2, np.nan, rng.random(n))
    times = np.where(
        rng.random(n) < 0.1,
        np.datetime64("NaT", "ms"),
        np.datetime64("2026-11-27T08:00:00", "ms") + np.arange(n),
    )
    words = np.array([b"x" * int(k % 4) for k in range(n)])  # widths 0..3 (0: empty, not NULL)
    texts = np.ma.MaskedArray(words, mask=rng.random(n) < 0.5)
    same = np.ma.MaskedArray(np.full(n, b"dropped"), mask=rng.random(n) < 0.9)
    session.execute(
        text(
            "CREATE TEMP TABLE copied (k int8, i int4, f float8, t timestamptz, "
            "g geometry(Point, 4326), w text, s text)"
        )
    )
    for words_column in (texts, same):  # varying widths, then one width when present
        session.execute(text("TRUNCATE copied"))
        copy_rows(
            session,
            table="copied",
            columns={
                "k": np.arange(n, dtype=np.int64),
                "i": ints,
                "f": floats,
                "t": times,
                "g": ewkb_points(lon, lat),
                "w": words_column,
                "s": same,
            },
        )
        rows = session.execute(
            text(
                "SELECT k, i, f, extract(epoch FROM t) * 1000, ST_X(g), ST_Y(g), w, s "
                "FROM copied ORDER BY k"
            )
        ).all()
        assert [r[0] for r in rows] == list(range(n))
        for k, i, f, t, x, y, w, s in rows:
            assert i == (None if np.ma.getmaskarray(ints)[k] else k)
            assert (f is None) == bool(np.isnan(floats[k])) and (f is None or f == floats[k])
            expected_t = times[k].astype(np.int64) if not np.isnat(times[k]) else None
            assert (t is None and expected_t is None) or float(t) == expected_t
            assert (x, y) == (lon[k], lat[k])
            sent = words_column[k]
            assert w == (None if sent is np.ma.masked else sent.decode())
            assert s == (None if np.ma.getmaskarray(same)[k] else "dropped")
    session.rollback()
