"""Helpers of the browser tests: the whole demo committed and served on a real port, Debian's
Chromium watched for errors and outside calls, a phone's cuttable network link, the phone
app's stored queue. The fixtures that use them are in tests/browser/conftest.py."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, Request, Route
from sqlalchemy.orm import Session

from geo_patrol.api.app import create_app
from geo_patrol.core.settings import Settings
from geo_patrol.db import migrate
from geo_patrol.db.engine import make_engine, make_sessionmaker
from tests.support.database import copy_database, demo_template, shared_copy
from tests.support.live_server import serving as serving_app
from tests.support.paths import ROOT
from tests.support.principals import SZ_PHONE_TOKEN
from tests.support.workers import once_per_run

CHROMIUM = "/usr/bin/chromium"
ARTEFACTS = ROOT / "var" / "artefacts"
DEMO_PASSWORD = "geo-patrol-demo"


# How long the test service's phones wait for an answer before they send again.
ANSWER_S = 10
DEVICE_TOKEN = SZ_PHONE_TOKEN  # the demo phone of sz.patrol


# The committed demo is built once per test run (by one worker, the others wait for it) and
# copied for each module that asks: loading it (incidents, a quarter and a week of patrols
# through the real upload and live paths, on a copy of the demo region and accounts) takes
# 15-40 s, a copy about a second.
DEMO_TEMPLATE = "geo_patrol_template_browser"


def _demo_template() -> str:
    """The URL of the committed demo every module's database is copied from."""
    return once_per_run(
        DEMO_TEMPLATE, lambda: _build_demo(shared_copy(demo_template(), DEMO_TEMPLATE))
    )


def _build_demo(url: str) -> str:
    """Commit the rest of the demo into the database of `url` (which has the region and
    accounts), as `geo-patrol demo` leaves it; its URL (every connection closed, so it can
    serve as a template)."""
    from geo_patrol.demo.incidents import load_demo_incidents
    from geo_patrol.demo.quarter import simulate_quarter
    from geo_patrol.demo.simulate import simulate_week

    engine = make_engine(url)
    migrate.upgrade(engine)
    with make_sessionmaker(engine)() as session, session.begin():
        load_demo_incidents(session, settings=Settings(database_url=url))
        simulate_quarter(session, settings=Settings(database_url=url))
        simulate_week(session, settings=Settings(database_url=url))
    engine.dispose()
    return url


def committed_demo_database(name: str, *, then: Callable[[Session], object] | None = None) -> str:
    """Database `name` with the whole demo committed (region, accounts, river chiefs,
    incidents, the chiefs' quarter and a week of patrols), as `geo-patrol demo` leaves it,
    and whatever `then` adds, committed after it; its URL."""
    url = copy_database(_demo_template(), name)
    if then is not None:
        engine = make_engine(url)
        with make_sessionmaker(engine)() as session, session.begin():
            then(session)
        engine.dispose()
    return url


@contextmanager
def serving(database_url: str, data_dir: Path, **settings: object) -> Iterator[str]:
    """The service with `settings` in a thread on a free port; stopped on leaving. Its
    pooled connections' ping may take 30 s, not 3: the page tests are not outage tests (those
    are tests/db/test_database_timeouts.py and tests/service/test_faults.py), and on a loaded
    machine a ping late by seconds made a tile answer 503 and the page log an error."""
    config = Settings(
        database_url=database_url,
        data_dir=data_dir,
        maintenance_seconds=0,
        osmand_port=None,
        **{"db_connect_timeout_s": 30.0, **settings},  # type: ignore[arg-type]
    )
    with serving_app(create_app(config)) as base:
        yield base


def sign_in(page: Page, base: str, login: str, next_path: str = "/map") -> None:
    """Sign in through the real form, then open `next_path`."""
    page.goto(f"{base}/login")
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", DEMO_PASSWORD)
    # The sign-in answer sets the session cookie: wait for it, not for the old page's idle.
    with page.expect_navigation():
        page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")
    page.goto(base + next_path)
    page.wait_for_load_state("networkidle")


def phone_sign_in(page: Page, login: str) -> None:
    """Fill the phone app's sign-in form as `login` (the demo password) and send it."""
    page.fill("#signin input[name=login]", login)
    page.fill("#signin input[name=password]", DEMO_PASSWORD)
    page.click("#signin button[type=submit]")


def screenshot(page: Page, name: str) -> Path:
    """Save a screenshot as a test artefact; returns its path."""
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTEFACTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path


@dataclass
class Watch:
    """What a page did that a test may forbid: console errors, page errors, outside calls."""

    base: str
    errors: list[str] = field(default_factory=list)
    outside: list[str] = field(default_factory=list)

    def route(self, route: Route, request: Request) -> None:
        """Let requests to the service through; abort and record everything else."""
        if request.url.startswith((self.base + "/", "data:", "blob:")) or request.url == self.base:
            route.continue_()
        else:
            self.outside.append(request.url)
            route.abort()


class Link:
    """The phone's connection to the service: a TCP relay the test can cut, mute and restore.

    The browser's own offline switch does not reach requests that pass through a service
    worker, and a phone at the river loses the network for all of them: here, while the
    link is cut, every connection (new or open) to the service fails. While it is muted,
    requests still reach the service but no answer comes back and nothing fails: what a
    phone gets when it walks out of coverage with a request on the way.
    """

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.mode = "up"
        self.open: set[socket.socket] = set()
        self.clients: set[socket.socket] = set()  # the phone's ends of open connections
        self.muted: set[socket.socket] = set()  # clients whose answers are swallowed
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        """Relay each connection while the link is up or muted; refuse it while cut."""
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            with self.lock:
                mode = self.mode
                if mode == "cut":
                    client.close()
                    continue
                self.open.add(client)
                self.clients.add(client)
                if mode == "mute":
                    self.muted.add(client)
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            with self.lock:
                self.open.add(upstream)
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        """Copy bytes one way until either side closes. Answers to a muted client are read
        and dropped, and the service closing its end does not reach the client either."""
        try:
            while data := source.recv(65536):
                if sink not in self.muted:
                    sink.sendall(data)
        except OSError:
            pass
        for sock in (source, sink):
            if sock not in self.muted:
                self._drop(sock)

    def _drop(self, sock: socket.socket) -> None:
        """Close a relayed socket (once)."""
        with self.lock:
            self.open.discard(sock)
            self.clients.discard(sock)
            self.muted.discard(sock)
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        sock.close()

    def _set(self, mode: str, *, drop: str) -> None:
        """Switch mode, then close the open connections `drop` names ("all", "muted", "none")."""
        with self.lock:
            self.mode = mode
            sockets = {"all": list(self.open), "muted": list(self.muted), "none": []}[drop]
        for sock in sockets:
            self._drop(sock)

    def cut(self) -> None:
        """No signal: open connections break, new ones are refused."""
        self._set("cut", drop="all")

    def mute(self) -> None:
        """Requests get through, answers never come back (open connections too)."""
        with self.lock:
            self.muted |= self.clients
        self._set("mute", drop="none")

    def restore(self) -> None:
        """The signal is back; connections left hanging by a mute are closed."""
        self._set("up", drop="muted")

    def close(self) -> None:
        """Stop relaying."""
        self.cut()
        self.listener.close()


def queue(page: Page) -> list[dict[str, Any]]:
    """The queue as the page stored it in IndexedDB (blobs left out)."""
    items: list[dict[str, Any]] = page.evaluate(
        """() => new Promise((resolve, reject) => {
          const open = indexedDB.open("geo-patrol");
          open.onsuccess = () => {
            const all = open.result.transaction("queue").objectStore("queue").getAll();
            all.onsuccess = () => resolve(all.result.map(
              ({seq, kind, clientId, state, error, serverId, created, attempts, noAnswerS}) =>
                ({seq, kind, clientId, state, error, serverId, created, attempts, noAnswerS})));
            all.onerror = () => reject(all.error);
          };
        })"""
    )
    return items


def wait_true(page: Page, expression: str, arg: object = None, timeout_s: float = 30) -> None:
    """Poll a JavaScript function in the page until it returns true (wait_for_function would
    evaluate a string, which the page's Content-Security-Policy rightly forbids)."""
    deadline = time.monotonic() + timeout_s
    while not page.evaluate(expression, arg):
        assert time.monotonic() < deadline, f"still false: {expression}"
        page.wait_for_timeout(50)


def wait_states(page: Page, states: list[str], timeout_s: float = 30) -> None:
    """Wait until the stored queue holds exactly items in these states (in order)."""
    deadline = time.monotonic() + timeout_s
    while [item["state"] for item in queue(page)] != states:
        assert time.monotonic() < deadline, queue(page)
        page.wait_for_timeout(100)
