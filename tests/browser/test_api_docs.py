"""/docs (Swagger UI) and /redoc (ReDoc) render in a real Chromium that can reach nothing
but the service: no request leaves, none fails, no Content-Security-Policy violation."""

from __future__ import annotations

from playwright.sync_api import Page, Request, Response

from tests.support.browser import Watch

# Reported by the page itself as well as by the console (init scripts run outside the CSP).
CSP_RECORDER = """
window.cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) =>
  window.cspViolations.push(e.violatedDirective + " " + e.blockedURI));
"""


def _record(page: Page) -> list[str]:
    """Failed requests and error answers of the page, as they happen."""
    failures: list[str] = []

    def failed(request: Request) -> None:
        failures.append(f"failed {request.url}")

    def answered(response: Response) -> None:
        if response.status >= 400:
            failures.append(f"{response.status} {response.url}")

    page.on("requestfailed", failed)
    page.on("response", answered)
    page.add_init_script(CSP_RECORDER)
    return failures


def _clean(page: Page, watch: Watch, failures: list[str]) -> None:
    """Nothing left for outside, nothing failed, nothing refused by the policy."""
    assert watch.outside == []
    assert failures == []
    assert page.evaluate("window.cspViolations") == []
    assert watch.errors == []


def test_swagger_ui_lists_the_operations_offline(
    watched_page: tuple[Page, Watch], live_server: str
) -> None:
    page, watch = watched_page
    failures = _record(page)
    page.goto(f"{live_server}/docs")
    # Swagger UI 5 draws a long document's tags only near the view (and drops those left
    # behind): scroll down through it, collecting the operations drawn on the way.
    page.wait_for_selector(".opblock-summary-path")
    seen: set[str] = set()
    for _ in range(120):
        paths = page.locator(".opblock-summary-path").all_inner_texts()
        seen |= {p.replace("\u200b", "") for p in paths}
        if "/api/v1/incidents" in seen and "/api/v1/meetings" in seen:
            break
        page.mouse.wheel(0, 700)
        page.wait_for_timeout(250)
    assert {"/api/v1/incidents", "/api/v1/meetings"} <= seen
    assert len(seen) > 50
    page.wait_for_load_state("networkidle")
    _clean(page, watch, failures)


def test_redoc_renders_offline(watched_page: tuple[Page, Watch], live_server: str) -> None:
    page, watch = watched_page
    failures = _record(page)
    page.goto(f"{live_server}/redoc")
    page.wait_for_selector("h1:has-text('geo-patrol')")
    page.wait_for_selector("[data-section-id^='tag/incidents']")
    assert page.locator("li[data-item-id]").count() > 50
    page.wait_for_load_state("networkidle")
    _clean(page, watch, failures)
