"""The FastAPI application factory; the lifespan owns the engine and the sessionmaker."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from fastapi import Depends, FastAPI
from fastapi.concurrency import run_in_threadpool
from fastapi.staticfiles import StaticFiles
from sqlalchemy.orm import Session, sessionmaker

from geo_patrol import __version__
from geo_patrol.api import problems
from geo_patrol.api.deps import enforce_policy, session_factory
from geo_patrol.api.metrics import Metrics, RequestMetrics
from geo_patrol.api.middleware import install_security
from geo_patrol.api.openapi import REFUSALS, operation_id
from geo_patrol.api.params import refuse_unstorable
from geo_patrol.api.routes import (
    apidocs,
    auth,
    chiefs,
    duty,
    duty_pages,
    exports,
    health,
    incident_imports,
    incident_pages,
    incidents,
    jurisdictions,
    maps,
    meeting_packs,
    meeting_pages,
    meetings,
    members,
    metrics,
    mobile,
    ogc,
    open311,
    organisation,
    osmand,
    patrols,
    rivers,
    tiles,
    water,
    water_imports,
    water_leads,
    web,
)
from geo_patrol.core.local_time import LOCAL
from geo_patrol.core.settings import Settings
from geo_patrol.db import locks
from geo_patrol.db.engine import UNREACHABLE, Timeouts, database_url, make_engine, make_sessionmaker
from geo_patrol.db.locks import try_lock
from geo_patrol.duty.digest import DigestRounds, send_due_digests
from geo_patrol.incidents.workflow import escalate_overdue
from geo_patrol.meetings.reminders import overdue_section
from geo_patrol.patrols import partitions
from geo_patrol.patrols.live.store import close_silent_patrols, refresh_stale_patrols
from geo_patrol.patrols.live.writer import LiveWriter
from geo_patrol.web.apidocs import STATIC_DIR as DOCS_STATIC_DIR
from geo_patrol.web.mobile.pages import STATIC_DIR as MOBILE_STATIC_DIR

log = logging.getLogger(__name__)


def run_maintenance(sessionmaker: sessionmaker[Session], settings: Settings) -> dict[str, int]:
    """Close silent live patrols, recompute fed ones, escalate overdue incidents; then make
    the coming months of raw fixes and retire the old ones. Each part runs under an advisory
    lock, so with several app nodes one node does it and the others skip the round."""
    counts = {"closed": 0, "refreshed": 0, "escalated": 0, "months": 0, "skipped": 0}
    with sessionmaker() as session, session.begin():
        if try_lock(session, locks.MAINTENANCE):
            counts["closed"] = close_silent_patrols(session, settings=settings)
            counts["refreshed"] = refresh_stale_patrols(session, settings=settings)
            counts["escalated"] = escalate_overdue(session)
        else:
            counts["skipped"] = 1
    if counts["closed"] or counts["refreshed"] or counts["escalated"]:
        log.info(
            "maintenance: %d live patrols closed, %d refreshed; %d incidents escalated",
            counts["closed"],
            counts["refreshed"],
            counts["escalated"],
        )
    # In a transaction of its own: a month that cannot be made now (a lock not granted in
    # time) never undoes the work above, and is tried again next round.
    with sessionmaker() as session, session.begin():
        if try_lock(session, locks.PARTITIONS):
            months = partitions.maintain(
                session,
                today=datetime.now(LOCAL).date(),
                ahead=settings.partitions_ahead,
                keep_months=settings.raw_fix_months,
            )
            counts["months"] = len(months.made) + len(
                months.retired.dropped if months.retired else ()
            )
    return counts


def run_digests(sessionmaker: sessionmaker[Session], rounds: DigestRounds) -> int:
    """The daily duty digest, once its hour has come (in a transaction of its own, so a slow
    mail server never holds the maintenance's); how many digests were sent."""
    now = datetime.now(UTC)
    if not rounds.due(now):
        return 0
    with sessionmaker() as session, session.begin():
        run = send_due_digests(
            session, settings=rounds.settings, now=now, extras=(overdue_section,)
        )
    rounds.ran(run, now)
    return run.count("sent")


async def maintenance_loop(app: FastAPI, settings: Settings) -> None:
    """Run the maintenance every `maintenance_seconds` in a worker thread."""
    if settings.maintenance_seconds <= 0:
        return
    rounds = DigestRounds(settings)
    while True:
        await asyncio.sleep(settings.maintenance_seconds)
        started, counts = time.perf_counter(), None
        try:
            counts = await run_in_threadpool(run_maintenance, app.state.sessionmaker, settings)
            sent = await run_in_threadpool(run_digests, app.state.sessionmaker, rounds)
            counts["digests"] = sent
        except UNREACHABLE as error:
            app.state.database_outage.failed(
                error, "maintenance failed; retrying in %g s", settings.maintenance_seconds
            )
        except Exception:
            log.exception("maintenance failed; retrying in %g s", settings.maintenance_seconds)
        app.state.metrics.maintenance_run(time.perf_counter() - started, counts)


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app for `settings` (read from the environment when not given)."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(database_url(settings), Timeouts.of(settings))
        app.state.engine = engine
        app.state.sessionmaker = make_sessionmaker(engine)
        app.state.metrics.watch_pool(engine)
        log.info("geo-patrol %s using database %s", __version__, engine.url.render_as_string())
        # Live positions of all concurrent requests are stored together (group commit).
        app.state.live_writer = LiveWriter(
            session_factory(app),
            settings,
            outage=app.state.database_outage,
            observer=app.state.metrics.live_batch,
        )
        task = asyncio.create_task(maintenance_loop(app, settings))
        yield
        task.cancel()
        app.state.live_writer.close()
        engine.dispose()

    app = FastAPI(
        title="geo-patrol",
        version=__version__,
        description="Joint river patrol and cross-border river governance.",
        lifespan=lifespan,
        # /docs and /redoc are ours (routes/apidocs.py): FastAPI's load from a CDN.
        docs_url=None,
        redoc_url=None,
        swagger_ui_oauth2_redirect_url=None,
        # Operation ids a client generator keeps: "<tag>_<handler>" (api/openapi.py).
        generate_unique_id_function=operation_id,
        # Every route's text parameters are checked, then it passes the access policy table
        # (see geo_patrol.access.policy).
        dependencies=[Depends(refuse_unstorable), Depends(enforce_policy)],
    )
    app.state.settings = settings
    app.state.metrics = Metrics()
    problems.install(app)
    install_security(app, settings)
    # Outermost: every request is timed, the refused ones too.
    app.add_middleware(RequestMetrics, metrics=app.state.metrics)
    for module in (
        health,
        metrics,
        auth,
        web,
        jurisdictions,
        rivers,
        members,
        organisation,
        exports,  # before patrols: /patrols/tracks.gpx is not /patrols/{patrol_id}
        patrols,
        osmand,
        incidents,
        open311,
        maps,
        incident_pages,
        mobile,
        chiefs,
        duty,
        duty_pages,
        tiles,
        apidocs,
        incident_imports,
        ogc,
        water_imports,
        meetings,
        meeting_packs,
        water_leads,
        water,
        meeting_pages,
    ):
        # Every operation declares the problems it may answer (Open311 and the OsmAnd
        # protocol declare their own).
        refusals = None if module in (open311, osmand) else REFUSALS
        app.include_router(module.router, responses=refusals)
    # Leaflet and its plugins, installed by npm ci: the map pages load nothing from a CDN.
    vendor = StaticFiles(directory=settings.vendor_dir, check_dir=False)
    app.mount("/static/vendor", vendor, "vendor")
    # The phone web app's own scripts, styles and icons (plain ES modules, no build step).
    app.mount("/static/mobile", StaticFiles(directory=MOBILE_STATIC_DIR), "mobile")
    # Swagger UI's start-up script for /docs (a file, so the page needs no inline script).
    app.mount("/static/docs", StaticFiles(directory=DOCS_STATIC_DIR), "docs")
    return app
