"""The meeting pack written by the command line opens as a file, with no server and no
network, in headless Chromium."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from PIL import Image
from playwright.sync_api import Page

from geo_patrol.core.vocabulary import ChiefLevel
from geo_patrol.web.map.filters import MapFilters
from tests.support.browser import Watch, screenshot
from tests.support.duty_case import R01, Chief, committed_chiefs


def test_pack_from_the_command_line_opens_from_a_usb_stick(
    live_database_url: str, watched_page: tuple[Page, Watch], tmp_path: Path
) -> None:
    page, watch = watched_page
    today = MapFilters.default().date_to
    target = tmp_path / "stick" / "pack.html"
    env = {**os.environ, "GEO_PATROL_DATABASE_URL": live_database_url}
    chiefs = [
        Chief("钱美芳", ChiefLevel.VILLAGE, "320509100203", R01, (3, 4, 5)),  # 前跃村
        Chief("沈丽华", ChiefLevel.VILLAGE, "330411100201", R01, (3, 4, 5)),  # 民主村
    ]
    with committed_chiefs(live_database_url, chiefs):
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "geo_patrol",
                "meeting-pack",
                "--zone",
                "ZONE-SZ-WJJ",
                "--from",
                str(today.replace(day=1)),
                "--to",
                str(today),
                "-o",
                str(target),
                "--png",
                str(tmp_path / "slide.png"),
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    assert done.returncode == 0, done.stderr
    assert target.stat().st_size < 5_000_000
    with Image.open(tmp_path / "slide.png") as slide:  # the map alone, for slides
        assert slide.width >= 1000 and slide.height >= 500

    # A file:// page: the watch lets nothing through but the file itself and data: URIs.
    watch.base = target.as_uri()
    page.goto(target.as_uri())
    page.wait_for_selector(".leaflet-overlay-pane canvas")
    page.set_viewport_size({"width": 1123, "height": 794})  # A4 landscape at 96 dpi
    screenshot(page, "meeting-pack")
    text = page.inner_text("body")
    headings = ("各方巡查工作量", "界河巡查覆盖", "事件状态", "联合案件", "超期事项")
    follow_up = ("上次会议议定事项及办理情况", "建议议题", "交界断面水质")
    for heading in (*headings, *follow_up):
        assert heading in text, heading
    assert page.locator("svg[role=img]").count() == 2
    # The chiefs' duty: a table for each side, each chief with their stretch's figures.
    duty = page.inner_text("#gp-duty")
    assert "河长履职" in duty and "联合河长" in duty
    assert re.search(r"钱美芳\s+村级\s+前跃村\s+小天圩河（演示）\s+\S+ 至 \S+\s+\d+ / 1", duty)
    assert re.search(r"沈丽华\s+村级\s+民主村\s+小天圩河（演示）\s+\S+ 至 \S+\s+\d+ / 1", duty)
    assert page.locator("#gp-duty h3").count() >= 3  # two sides and the joint pairs
    effort_rows = page.locator("#gp-effort table tbody tr").count()
    assert effort_rows == 4  # two counties, two towns
    assert page.locator(".leaflet-control-layers-overlays label").count() >= 8
    assert watch.outside == [] and watch.errors == []
    pdf = page.pdf(format="A4", landscape=True)
    assert pdf.startswith(b"%PDF") and len(pdf) > 20_000
