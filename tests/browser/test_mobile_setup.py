"""A team lead sets up a phone from the set-up page alone: the QR codes on the screen are read
back from a screenshot (as a phone's camera would read them), applied the way Traccar Client
applies a scanned URL, and the positions that phone then sends are taken; a new code cuts
the old one off, and revoking from the device page cuts the phone off.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import zxingcpp
from PIL import Image
from playwright.sync_api import Page

from tests.support.browser import Watch, screenshot, sign_in

LABEL = "测试手机 set-up"


def read_qr(page: Page, selector: str) -> str:
    """The text of the QR code shown at `selector`, decoded from a screenshot of it."""
    image = Image.open(io.BytesIO(page.locator(selector).screenshot()))
    texts = {str(code.text) for code in zxingcpp.read_barcodes(image)}
    assert len(texts) == 1, f"{len(texts)} different codes read at {selector}"
    return texts.pop()


def traccar_settings(scanned: str) -> tuple[str, str]:
    """Server URL and device identifier as Traccar Client 9 takes them from a scanned URL
    (origin and path; the `id` query parameter)."""
    parts = urlsplit(scanned)
    return f"{parts.scheme}://{parts.netloc}{parts.path}", parse_qs(parts.query)["id"][0]


def traccar_position(server: str, device: str, at: datetime) -> int:
    """POST one position as Traccar Client 9 does (JSON); the service's status code."""
    body = {
        "device_id": device,
        "location": {
            "timestamp": at.isoformat().replace("+00:00", "Z"),
            "coords": {"latitude": 30.9301, "longitude": 120.6102, "accuracy": 6.0},
            "is_moving": True,
            "event": "motionchange",
        },
    }
    return httpx.post(server, json=body, timeout=10).status_code


def test_lead_sets_up_traccar_client_from_the_qr_page(
    watched_page: tuple[Page, Watch], live_server: str
) -> None:
    page, watch = watched_page
    page.set_viewport_size({"width": 412, "height": 915})
    sign_in(page, live_server, "sz.lead", "/m/devices")
    page.select_option("#issue select[name=member_id]", label="吴永明")
    page.fill("#issue input[name=label]", LABEL)
    page.click("#issue button[type=submit]")
    page.wait_for_selector("#setup-traccar .qr svg")
    assert "#make" not in page.url
    screenshot(page, "mobile-setup")

    scanned = read_qr(page, "#setup-traccar .qr")
    assert scanned == page.get_attribute("#setup-traccar .qr", "data-payload")
    server, device = traccar_settings(scanned)
    assert server == f"{live_server}/osmand"
    assert parse_qs(urlsplit(scanned).query)["interval"] == ["10"]
    assert page.inner_text("#device-id") == device  # the same values, to type by hand
    assert page.inner_text("#server-url") == server
    at = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=3)
    assert traccar_position(server, device, at) == 200

    osmand = read_qr(page, "#setup-osmand .qr")
    assert osmand.startswith(f"{server}?id={device}&lat={{0}}&lon={{1}}&timestamp={{2}}")
    filled = osmand.format(30.9302, 120.6103, int(at.timestamp()) + 10, 3, 5, 1.2)
    assert httpx.get(filled, timeout=10).status_code == 200

    app = read_qr(page, "#setup-app .qr")
    assert app == f"{live_server}/m/#device={device}"

    page.click("#generate")  # new codes: the phone set up with the old ones is cut off
    for _ in range(100):
        if page.inner_text("#device-id") != device:
            break
        page.wait_for_timeout(100)
    _, renewed = traccar_settings(read_qr(page, "#setup-traccar .qr"))
    assert traccar_position(server, device, at + timedelta(seconds=20)) == 400
    assert traccar_position(server, renewed, at + timedelta(seconds=30)) == 200

    page.goto(f"{live_server}/m/devices")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click(f"li.device:has-text('{LABEL}') button.revoke")
    page.wait_for_selector(f"li.device:has-text('{LABEL}') >> text=已撤销")
    assert traccar_position(server, renewed, at + timedelta(seconds=40)) == 400
    assert watch.outside == []
    assert watch.errors == []
