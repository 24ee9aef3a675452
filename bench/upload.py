"""One timed run of "GPX bytes to attributed patrol", in a process of its own.

    python -m bench.upload ours GPX_FILE DATABASE_URL TEAM_ID DATA_DIR
    python -m bench.upload peer GPX_FILE
    python -m bench.upload ogr GPX_FILE DATABASE_URL

Prints one JSON object: seconds, phases, peak memory and the answers (metres per county and
town, covered river metres) so that the caller can compare the two engines. Run from the
repository root. The file is read before the clock starts; the clock stops once the patrol
is committed (ours) or the answers are computed (peer: GeoPandas in memory; ogr: ogr2ogr into
PostGIS and the SQL of bench.ogr_peer).
"""

from __future__ import annotations

import contextlib
import functools
import json
import re
import resource
import sys
import threading
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path
from time import perf_counter
from types import ModuleType
from typing import Any

from sqlalchemy import Engine, event, text
from sqlalchemy.orm import Session

import geo_patrol.patrols.upload as patrols_module
from geo_patrol.access.principal import command_line_principal
from geo_patrol.core.settings import Settings
from geo_patrol.db.engine import make_engine
from geo_patrol.incidents.workflow import verify_passed_incidents
from geo_patrol.patrols import attribution, coverage, quality
from geo_patrol.patrols.after_track import after_track
from geo_patrol.patrols.upload import UploadRequest, upload_patrol

# Uploads verify the incidents their patrols pass, as the service's do (registering twice
# changes nothing).
after_track(verify_passed_incidents)

# Functions upload_patrol and finish_patrol call by module-global name, and their phase.
PHASES = {
    "parse_upload": "parse",
    "store_points": "store",
    "finish_patrol": "finish",
    "clean_stored": "load",
    "clean": "clean",
    "attribute_patrol": "attribute",
    "wait_for_attribution": "attribute",
    "cover_patrol": "coverage",
    "flag_patrol": "flags",
}
SQL_MODULES: tuple[ModuleType, ...] = (patrols_module, attribution, coverage, quality)
_PARAM = re.compile(r"%\((\w+)\)s")


def _status_mb(field: str, pid: str = "self") -> float | None:
    """A memory line of /proc/PID/status in MiB (None where there is no such file)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    found = re.search(rf"^{field}:\s+(\d+) kB", status, re.M)
    return int(found.group(1)) / 1024 if found else None


def peak_rss_mb() -> float:
    """Peak resident set size of this process image.

    getrusage's ru_maxrss is kept across exec on Linux, so a child started by a big parent
    starts with the parent's peak; VmHWM belongs to this process image alone.
    """
    hwm = _status_mb("VmHWM")
    return hwm if hwm is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def reset_peak_rss() -> float:
    """Reset the peak to the current RSS where the kernel allows it; return the current RSS."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")
    current = _status_mb("VmRSS")
    return current if current is not None else peak_rss_mb()


class PhaseClock:
    """Wall time per phase, by wrapping the functions the upload path calls by name.

    Each start and end is also printed as a JSON line, so that when the run is stopped at
    its time limit the caller still knows which phase it was in.
    """

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.origin = perf_counter()

    def install(self, module: ModuleType = patrols_module) -> None:
        """Replace each function of PHASES in `module` by a timed wrapper."""
        for name, phase in PHASES.items():
            setattr(module, name, self._timed(getattr(module, name), phase))

    def _timed(self, function: Callable[..., Any], phase: str) -> Callable[..., Any]:
        @functools.wraps(function)
        def timed(*args: Any, **kwargs: Any) -> Any:
            start = perf_counter()
            _event(start=phase, at=start - self.origin)
            try:
                return function(*args, **kwargs)
            finally:
                self.seconds[phase] += perf_counter() - start
                _event(end=phase, at=perf_counter() - self.origin)

        return timed

    def breakdown(self, total: float) -> dict[str, float]:
        """Exclusive seconds per phase; `order` is the rest of finish_patrol, `other` of all.

        An upload is cleaned before its fixes are stored (`clean`); `load` (reading stored
        fixes back to clean them) is the live patrols' path and is 0 here.
        """
        s = self.seconds
        inner = sum(s[p] for p in ("load", "attribute", "coverage", "flags"))
        phases = {p: s[p] for p in ("parse", "store", "load", "clean")}
        phases["order"] = s["finish"] - inner
        phases.update({p: s[p] for p in ("attribute", "coverage", "flags")})
        phases["other"] = total - s["parse"] - s["store"] - s["clean"] - s["finish"]
        return phases


def _event(**fields: object) -> None:
    """One progress line for the caller."""
    print(json.dumps(fields), flush=True)


def _normalise(sql: str) -> str:
    """SQL with psycopg's %(name)s placeholders back to :name (and %% to %), one space."""
    return " ".join(_PARAM.sub(r":\1", sql).replace("%%", "%").split())


def _known_statements() -> dict[str, str]:
    """Normalised SQL text -> "module.CONSTANT" for the SQL constants of the upload path."""
    known: dict[str, str] = {}
    for module in SQL_MODULES:
        for name, value in vars(module).items():
            if name.isupper() and isinstance(value, str) and " " in value:
                known[_normalise(value)] = f"{module.__name__.rsplit('.', 1)[-1]}.{name}"
    return known


class SqlClock:
    """Wall time and calls per SQL statement executed through SQLAlchemy (not COPY), on the
    upload's engine and on any other (the attribution's own connection, run in a thread
    alongside: its statements are labelled as such)."""

    APART = "[attribution connection] "

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.seconds: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)
        self.known = _known_statements()
        self.lock = threading.Lock()
        event.listen(Engine, "before_cursor_execute", self._before)
        event.listen(Engine, "after_cursor_execute", self._after)

    def _before(self, conn: Any, *_: Any) -> None:
        conn.info.setdefault("bench_started", []).append(perf_counter())

    def _after(self, conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        elapsed = perf_counter() - conn.info["bench_started"].pop()
        sql = _normalise(statement)
        label = self.known.get(sql, sql[:60])
        if conn.engine is not self.engine:
            label = self.APART + label
        with self.lock:
            self.seconds[label] += elapsed
            self.calls[label] += 1

    def top(self, count: int = 8) -> list[tuple[str, float, int]]:
        """The statements that took longest: (label, seconds, calls)."""
        ranked = sorted(self.seconds.items(), key=lambda item: -item[1])[:count]
        return [(label, seconds, self.calls[label]) for label, seconds in ranked]


def backend_peak_mb(session: Session) -> float | None:
    """Peak RSS of this session's PostgreSQL backend (same machine only; shared pages count)."""
    return _status_mb("VmHWM", str(session.execute(text("SELECT pg_backend_pid()")).scalar_one()))


ANSWERS = {
    "county": "SELECT code, length_m FROM patrol_jurisdictions "
    "WHERE patrol_id = :p AND level = 'county'",
    "town": "SELECT code, length_m FROM patrol_jurisdictions "
    "WHERE patrol_id = :p AND level = 'town'",
    "river": "SELECT r.code, sum(c.covered_m) FROM patrol_coverage c "
    "JOIN river_segments s ON s.id = c.segment_id JOIN rivers r ON r.id = s.river_id "
    "WHERE c.patrol_id = :p GROUP BY r.code",
    "crossings": "SELECT level, count(*) FROM patrol_crossings WHERE patrol_id = :p GROUP BY level",
    "total": "SELECT 'length_m', length_m FROM patrols WHERE id = :p",
    "points": "SELECT 'raw', points_raw FROM patrols WHERE id = :p "
    "UNION ALL SELECT 'kept', points_kept FROM patrols WHERE id = :p",
}


def our_answers(session: Session, patrol_id: int) -> dict[str, dict[str, float]]:
    """What the service computed for the patrol."""
    return {
        key: {str(k): float(v) for k, v in session.execute(text(sql), {"p": patrol_id}).all()}
        for key, sql in ANSWERS.items()
    }


def forget_patrol(session: Session, patrol_id: int) -> None:
    """Remove the patrol (and its upload row) so that the next run starts from the same state."""
    session.execute(text("DELETE FROM uploads WHERE patrol_id = :p"), {"p": patrol_id})
    session.execute(text("DELETE FROM patrols WHERE id = :p"), {"p": patrol_id})
    session.commit()


def run_ours(data: bytes, *, url: str, team_id: int, data_dir: Path) -> dict[str, Any]:
    """Upload through `upload_patrol` as an administrator; time it to the commit."""
    settings = Settings(database_url=url, data_dir=data_dir)
    engine = make_engine(url)
    clock, sql = PhaseClock(), SqlClock(engine)
    clock.install()
    request = UploadRequest(team_id=team_id, filename="walk.gpx", data=data)
    with Session(engine) as session:
        session.execute(text("SELECT 1")).scalar_one()  # connected before the clock starts
        sql.seconds.clear()
        baseline = reset_peak_rss()
        start = clock.origin = perf_counter()
        result = upload_patrol(
            session,
            request=request,
            principal=command_line_principal(),
            settings=settings,
            address=None,
        )
        session.commit()
        seconds = perf_counter() - start
        peak = peak_rss_mb()
        answers = our_answers(session, result.patrol_id)
        db_peak = backend_peak_mb(session)
        forget_patrol(session, result.patrol_id)
    engine.dispose()
    return {
        "seconds": seconds,
        "rss_delta_mb": peak - baseline,
        "rss_peak_mb": peak,
        "db_backend_peak_mb": db_peak,
        "phases": clock.breakdown(seconds),
        "sql": sql.top(),
        "answers": answers,
        "created": result.created,
    }


def run_peer(data: bytes) -> dict[str, Any]:
    """The GeoPandas analysis of the same bytes."""
    from bench.peer import analyse, load_layers

    layers = load_layers()
    baseline = reset_peak_rss()
    phases: dict[str, float] = {}
    start = perf_counter()
    answers = analyse(data, layers, phases)
    seconds = perf_counter() - start
    peak = peak_rss_mb()
    return {
        "seconds": seconds,
        "rss_delta_mb": peak - baseline,
        "rss_peak_mb": peak,
        "phases": phases,
        "answers": answers,
    }


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point: see the module docstring."""
    argv = list(sys.argv[1:] if argv is None else argv)
    engine_name, gpx = argv[0], Path(argv[1])
    data = gpx.read_bytes()
    if engine_name == "ours":
        url, team_id, data_dir = argv[2], int(argv[3]), Path(argv[4])
        outcome = run_ours(data, url=url, team_id=team_id, data_dir=data_dir)
    elif engine_name == "peer":
        outcome = run_peer(data)
    elif engine_name == "ogr":
        from bench.ogr_peer import run_ogr

        outcome = run_ogr(gpx, url=argv[2])
    else:
        raise SystemExit(f"unknown engine {engine_name!r}: ours, peer or ogr")
    print(json.dumps(outcome))


if __name__ == "__main__":
    main(sys.argv[1:])
