"""`geo-patrol meeting-pack`: the joint-meeting pack of a zone as one HTML file."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.orm import Session

from geo_patrol.access.principal import command_line_principal
from geo_patrol.access.scope import scope_of
from geo_patrol.cli.accounts import in_transaction
from geo_patrol.core.errors import InvalidInput
from geo_patrol.core.local_time import LOCAL
from geo_patrol.core.settings import Settings
from geo_patrol.web.map.filters import MapFilters
from geo_patrol.web.pack.page import meeting_pack, pack_filename


def meeting_pack_command(
    zone: Annotated[str, typer.Option(help="Cooperation zone code, e.g. ZONE-SZ-WJJ.")],
    date_from: Annotated[
        datetime | None, typer.Option("--from", formats=["%Y-%m-%d"], help="First day.")
    ] = None,
    date_to: Annotated[
        datetime | None, typer.Option("--to", formats=["%Y-%m-%d"], help="Last day (included).")
    ] = None,
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="File to write (default: maps/...).")
    ] = None,
    lang: Annotated[str, typer.Option(help="zh or en.")] = "",
    png: Annotated[
        Path | None,
        typer.Option(help="Also save a PNG of the map for slides (headless Chromium)."),
    ] = None,
) -> None:
    """Write the meeting pack (map, effort, coverage, incidents) for a zone and period."""
    settings = Settings()
    try:
        filters = MapFilters.default(
            date_from=_day(date_from),
            date_to=_day(date_to),
            zone=zone,
            lang=lang or settings.map_language,
        )
    except InvalidInput as error:
        raise typer.BadParameter(error.detail) from error
    principal = command_line_principal()

    def render(session: Session) -> str:
        return meeting_pack(
            session,
            scope=scope_of(session, principal),
            principal=principal,
            filters=filters,
            generated_at=datetime.now(LOCAL),
            vendor_dir=settings.vendor_dir,
        )

    page = in_transaction(render)
    target = output or settings.maps_dir / pack_filename(filters)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(page, encoding="utf-8")
    typer.echo(f"{target} ({len(page.encode()) / 1e6:.1f} MB)")
    if png is not None:
        snapshot(target, png)
        typer.echo(str(png))


CHROMIUM = "/usr/bin/chromium"


def snapshot(page: Path, png: Path) -> None:
    """A PNG of the pack's map (1600 x 1000) taken by headless Chromium, offline."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as error:
        raise typer.BadParameter(
            "--png needs Playwright and Chromium: pip install playwright; apt install chromium"
        ) from error
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        tab = browser.new_page(viewport={"width": 1600, "height": 1000}, device_scale_factor=2)
        tab.route(
            "**/*",
            lambda route: (
                route.continue_()
                if route.request.url.startswith(("file:", "data:"))
                else route.abort()
            ),
        )
        tab.goto(page.resolve().as_uri())
        tab.wait_for_selector(".leaflet-overlay-pane canvas")
        tab.locator(".folium-map").screenshot(path=str(png))
        browser.close()


def _day(value: datetime | None) -> date | None:
    """The calendar day of a parsed option."""
    return value.date() if value else None
