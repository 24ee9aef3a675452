"""The daily duty digest on real parts: a real SMTP server (aiosmtpd) and a real HTTP server
receive it; failures are recorded and retried without duplicates; two nodes sending at once
send each digest once; nothing happens without a channel.

The chiefs are appointed on the demo (whose own appointments are removed first) so that on
Saturday 2026-12-19 the village chiefs' week (14-20 Dec) and the town chief's dekad (11-20
Dec) end the next day with nothing done, while the county chief's month ends in 12 days.
Who is concerned is derived by hand from the demo's roles: 吴江区 and 盛泽镇 supervise the
Shengze chiefs, 秀洲区 and 王江泾镇 the Wangjiangjing chief, the zone's coordinator the pair.
"""

from __future__ import annotations

import email
import email.policy
import json
import logging
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword
from aiosmtpd.smtp import Session as SmtpSession
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from geo_patrol.access.principal import command_line_principal
from geo_patrol.access.scope import Scope
from geo_patrol.accounts.members import update_member
from geo_patrol.cli.app import app
from geo_patrol.core.errors import InvalidInput
from geo_patrol.core.local_time import LOCAL
from geo_patrol.core.settings import Settings
from geo_patrol.core.vocabulary import ChiefLevel
from geo_patrol.db.embedded import drop_database
from geo_patrol.db.engine import make_engine
from geo_patrol.duty.appointments import AppointmentSpec, create_appointment, create_joint
from geo_patrol.duty.digest import DigestRounds, digests_due, send_due_digests
from tests.support.database import fresh_demo_database

ADMIN = Scope(everything=True)
RIVER = "R-320509-330411-01"  # 小天圩河, the border river
DAY = date(2026, 12, 19)
NOW = datetime(2026, 12, 19, 9, 0, tzinfo=LOCAL).astimezone(UTC)
SMTP_PASSWORD = "s3cret-pw-digest"
CONCURRENT_DATABASE = "geo_patrol_test_digest_race"

# (login of the chief, level, side): the chiefs appointed for the test.
CHIEFS = (
    ("sz.patrol", ChiefLevel.VILLAGE, "320509100202"),
    ("wjj.patrol", ChiefLevel.VILLAGE, "330411100202"),
    ("sz.lead", ChiefLevel.TOWN, "320509100"),
    ("joint.lead", ChiefLevel.COUNTY, "320509"),
)
# Recipient login -> the chiefs (logins) in their digest, derived by hand (see above).
EXPECTED = {
    "wujiang.sup": {"sz.patrol", "sz.lead"},
    "shengze.sup": {"sz.patrol", "sz.lead"},
    "xiuzhou.sup": {"wjj.patrol"},
    "wjj.sup": {"wjj.patrol"},
    "zone.coord": {"sz.patrol", "wjj.patrol"},
}
EMAILS = {login: f"{login}@example.org" for login in EXPECTED if login != "xiuzhou.sup"}


def ids(session: Session) -> dict[str, int]:
    """Member ids by login."""
    rows = session.execute(text("SELECT login, id FROM members WHERE login IS NOT NULL"))
    return {row.login: row.id for row in rows}


def names(session: Session) -> dict[str, str]:
    """Member names by login."""
    rows = session.execute(text("SELECT login, name FROM members WHERE login IS NOT NULL"))
    return {row.login: row.name for row in rows}


def appoint_chiefs(session: Session) -> None:
    """The test's chiefs (and only them), the two village chiefs a joint pair of the zone,
    and the recipients' e-mail addresses."""
    session.execute(text("DELETE FROM chief_appointments"))
    member = ids(session)
    by = command_line_principal()
    made = {}
    for login, level, side in CHIEFS:
        spec = AppointmentSpec(
            member_id=member[login],
            level=level,
            jurisdiction_code=side,
            river_code=RIVER,
            valid_from=date(2026, 11, 1),
        )
        made[login] = create_appointment(session, spec=spec, scope=ADMIN, by=by)
    zone = session.execute(text("SELECT id FROM cooperation_zones WHERE code = 'ZONE-SZ-WJJ'"))
    create_joint(
        session,
        scope=ADMIN,
        by=by,
        name="小天圩河联合河长",
        zone_id=zone.scalar_one(),
        appointment_ids=[made["sz.patrol"], made["wjj.patrol"]],
    )
    for login, address in EMAILS.items():
        update_member(
            session, member_id=member[login], data={"email": address}, by=by, address=None
        )


@pytest.fixture
def chiefs(demo_session: Session) -> Session:
    """The demo with the test's chiefs."""
    appoint_chiefs(demo_session)
    return demo_session


def free_port() -> int:
    """A TCP port nothing listens on (yet)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Inbox:
    """What the SMTP server received, and the logins it accepted."""

    messages: list[tuple[list[str], EmailMessage]] = field(default_factory=list)
    logins: list[tuple[str, str]] = field(default_factory=list)

    async def handle_DATA(self, server: SMTP, session: SmtpSession, envelope: Envelope) -> str:
        """Keep the message."""
        content = envelope.content
        assert isinstance(content, bytes)
        message = email.message_from_bytes(content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append((list(envelope.rcpt_tos), message))
        return "250 OK"

    def authenticate(
        self, server: SMTP, session: SmtpSession, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        """Accept the test's user and password only."""
        assert isinstance(data, LoginPassword)
        pair = (data.login.decode(), data.password.decode())
        self.logins.append(pair)
        return AuthResult(success=pair == ("digest", SMTP_PASSWORD))


@pytest.fixture
def smtp_server() -> Iterator[tuple[str, Inbox]]:
    """A real SMTP server on 127.0.0.1 requiring a login: its URL and its inbox."""
    inbox = Inbox()
    port = free_port()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=port,
        authenticator=inbox.authenticate,
        auth_required=True,
        auth_require_tls=False,
    )
    controller.start()
    try:
        yield f"smtp://digest:{SMTP_PASSWORD}@127.0.0.1:{port}", inbox
    finally:
        controller.stop()


@dataclass
class Hook:
    """What the webhook server received; the status it answers with."""

    posts: list[tuple[dict[str, str], dict[str, Any]]] = field(default_factory=list)
    status: int = 204
    delay_s: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def ok_posts(self) -> list[dict[str, Any]]:
        """The bodies answered 2xx."""
        return [body for headers, body in self.posts if headers["answered"].startswith("2")]


@pytest.fixture
def webhook() -> Iterator[tuple[str, Hook]]:
    """A real HTTP server in a thread: its URL and what it received."""
    hook = Hook()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            threading.Event().wait(hook.delay_s)
            status = hook.status
            headers = {k.lower(): v for k, v in self.headers.items()} | {"answered": str(status)}
            with hook.lock:
                hook.posts.append((headers, json.loads(body.decode("utf-8"))))
            self.send_response(status)
            if status in (301, 302, 307):
                self.send_header("Location", "/elsewhere")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/digest?token=t0ken", hook
    finally:
        server.shutdown()
        server.server_close()


def rows(session: Session) -> list[tuple[Any, ...]]:
    """The digest log: (login, channel, status, attempts, chiefs, error)."""
    found = session.execute(
        text(
            "SELECT m.login, d.channel, d.status, d.attempts, d.chiefs, d.error "
            "FROM duty_digests d JOIN members m ON m.id = d.member_id ORDER BY 1, 2"
        )
    )
    return [tuple(row) for row in found]


def test_recipients_are_the_supervisors_above_each_side_and_the_zone_coordinator(
    chiefs: Session,
) -> None:
    member, who = ids(chiefs), names(chiefs)
    digests = digests_due(chiefs, settings=Settings(), day=DAY, now=NOW)
    by_login = {login: member_id for login, member_id in member.items()}
    got = {
        next(login for login, i in by_login.items() if i == d.recipient.member_id): {
            next(login for login, i in by_login.items() if i == r.duty.member_id)
            for r in d.reminders
        }
        for d in digests
    }
    assert got == EXPECTED
    for digest in digests:
        assert all(r.days_left == 1 and r.duty.due == date(2026, 12, 20) for r in digest.reminders)
        assert all(r.duty.done == 0 and r.duty.required == 1 for r in digest.reminders)
        body = digest.text
        assert body.index("河长") < body.index("river chiefs")  # Chinese first, English below
        for reminder in digest.reminders:
            assert body.count(reminder.duty.member_name) == 2
    assert who["joint.lead"] not in "".join(d.text for d in digests)  # county: due in 12 days


def test_no_channel_sends_and_records_nothing(chiefs: Session, caplog: Any) -> None:
    caplog.set_level(logging.INFO)
    run = send_due_digests(chiefs, settings=Settings(), now=NOW)
    assert run.channels == [] and run.outcomes == [] and run.digests == []
    assert rows(chiefs) == []
    assert not DigestRounds(Settings()).due(NOW)
    assert not [r for r in caplog.records if r.name.startswith("geo_patrol.duty")]


# The test server has no certificate, so it takes the login without TLS (the default
# settings upgrade smtp:// with STARTTLS before logging in).
@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")
def test_smtp_digest_reaches_each_supervisor_once(
    chiefs: Session, smtp_server: tuple[str, Inbox], caplog: Any
) -> None:
    url, inbox = smtp_server
    caplog.set_level(logging.INFO)
    settings = Settings(digest_smtp_url=url, digest_smtp_starttls=False, digest_from="hz@x.org")
    run = send_due_digests(chiefs, settings=settings, now=NOW)
    who = names(chiefs)
    assert sorted(rcpt for rcpts, _ in inbox.messages for rcpt in rcpts) == sorted(EMAILS.values())
    assert set(inbox.logins) == {("digest", SMTP_PASSWORD)}
    for rcpts, message in inbox.messages:
        login = rcpts[0].split("@")[0]
        assert message["From"] == "hz@x.org"
        assert message["Subject"] == "河长巡河提醒 2026-12-19 · River chiefs due soon, 2026-12-19"
        assert who[login] in str(message["To"])
        body = message.get_content()
        assert {c for c in who if c in CHIEFS_LOGINS and who[c] in body} == EXPECTED[login]
    assert run.count("sent") == 4 and run.count("skipped") == 1  # 秀洲区 has no address
    assert ("xiuzhou.sup", "smtp", "skipped", 0, 1, "no address") in rows(chiefs)
    again = send_due_digests(chiefs, settings=settings, now=NOW + timedelta(hours=3))
    assert again.outcomes == [] and len(inbox.messages) == 4
    log_text = caplog.text
    assert SMTP_PASSWORD not in log_text and SMTP_PASSWORD not in repr(settings)
    assert f"sent to {who['wujiang.sup']}" in log_text and "by smtp" in log_text


CHIEFS_LOGINS = {login for login, _, _ in CHIEFS}


def test_webhook_posts_one_json_per_recipient(chiefs: Session, webhook: tuple[str, Hook]) -> None:
    url, hook = webhook
    member = ids(chiefs)
    run = send_due_digests(chiefs, settings=Settings(digest_webhook_url=url), now=NOW)
    assert run.count("sent") == 5
    assert all(h["content-type"].startswith("application/json") for h, _ in hook.posts)
    got = {
        body["recipient"]["member_id"]: {chief["member_id"] for chief in body["chiefs"]}
        for _, body in hook.posts
    }
    assert got == {
        member[login]: {member[chief] for chief in chiefs_} for login, chiefs_ in EXPECTED.items()
    }
    sample = hook.posts[0][1]
    assert sample["day"] == "2026-12-19" and sample["type"] == "geo-patrol.duty-digest"
    assert {c["due"] for c in sample["chiefs"]} == {"2026-12-20"}
    assert {c["days_left"] for c in sample["chiefs"]} == {1}
    send_due_digests(chiefs, settings=Settings(digest_webhook_url=url), now=NOW)
    assert len(hook.posts) == 5


def test_a_failed_channel_is_retried_later_without_duplicates(
    chiefs: Session, webhook: tuple[str, Hook], caplog: Any
) -> None:
    url, hook = webhook
    refused = f"smtp://digest:{SMTP_PASSWORD}@127.0.0.1:{free_port()}"
    settings = Settings(digest_webhook_url=url, digest_smtp_url=refused, digest_smtp_starttls=False)
    hook.status = 500
    caplog.set_level(logging.INFO)
    first = send_due_digests(chiefs, settings=settings, now=NOW)
    assert first.count("failed") == 5 + 4 and first.retry_at == NOW + timedelta(minutes=10)
    logged = rows(chiefs)
    assert {(r[1], r[2], r[3]) for r in logged if r[0] != "xiuzhou.sup"} == {
        ("smtp", "failed", 1),
        ("webhook", "failed", 1),
    }
    assert {r[5] for r in logged if r[1] == "webhook"} == {"HTTP 500 Internal Server Error"}
    assert all("ConnectionRefusedError" in r[5] for r in logged if r[1] == "smtp" and r[3])
    assert SMTP_PASSWORD not in caplog.text and "t0ken" not in caplog.text
    assert "failed to send to" in caplog.text and "attempt 1 of 5" in caplog.text
    # Too soon: nothing is tried again.
    assert (
        send_due_digests(chiefs, settings=settings, now=NOW + timedelta(minutes=5)).outcomes == []
    )
    hook.status = 200
    second = send_due_digests(chiefs, settings=settings, now=NOW + timedelta(minutes=11))
    assert second.count("sent") == 5 and second.count("failed") == 4
    third = send_due_digests(chiefs, settings=settings, now=NOW + timedelta(minutes=30))
    assert third.count("sent") == 0 and third.count("failed") == 4
    assert len(hook.ok_posts()) == 5  # each recipient once
    assert len({body["recipient"]["member_id"] for body in hook.ok_posts()}) == 5
    assert {(r[1], r[2], r[3]) for r in rows(chiefs) if r[1] == "webhook"} == {
        ("webhook", "sent", 2)
    }


def test_attempts_are_bounded_and_redirects_not_followed(
    chiefs: Session, webhook: tuple[str, Hook], caplog: Any
) -> None:
    url, hook = webhook
    hook.status = 302
    settings = Settings(digest_webhook_url=url, digest_max_attempts=2, digest_retry_minutes=0)
    caplog.set_level(logging.INFO)
    for minute in range(4):
        send_due_digests(chiefs, settings=settings, now=NOW + timedelta(minutes=minute))
    assert len(hook.posts) == 5 * 2  # two attempts each, the redirect never followed
    assert {(r[2], r[3], r[5]) for r in rows(chiefs)} == {("failed", 2, "HTTP 302 Found")}
    assert "gave up after 2 attempts" in caplog.text
    run = send_due_digests(chiefs, settings=settings, now=NOW + timedelta(minutes=9))
    assert run.retry_at is None  # nothing left to try today


def test_nothing_before_the_digest_hour(chiefs: Session, webhook: tuple[str, Hook]) -> None:
    url, hook = webhook
    settings = Settings(digest_webhook_url=url, digest_hour=10)
    rounds = DigestRounds(settings)
    assert not rounds.due(NOW)  # 09:00 local
    assert send_due_digests(chiefs, settings=settings, now=NOW).outcomes == []
    at_ten = datetime(2026, 12, 19, 10, 0, tzinfo=LOCAL).astimezone(UTC)
    assert rounds.due(at_ten)
    run = send_due_digests(chiefs, settings=settings, now=at_ten)
    assert run.count("sent") == 5
    rounds.ran(run, at_ten)
    assert not rounds.due(at_ten + timedelta(hours=5))
    assert rounds.due(at_ten + timedelta(days=1))
    assert len(hook.posts) == 5


def test_rounds_wait_for_a_retry_or_another_node() -> None:
    """DigestRounds: after a failure, rest until the retry; when locked out, a minute."""
    from geo_patrol.duty.digest import DigestRun

    rounds = DigestRounds(Settings(digest_webhook_url="https://hooks.example.org/x"))
    rounds.ran(DigestRun(day=DAY, channels=["webhook"], retry_at=NOW + timedelta(minutes=10)), NOW)
    assert not rounds.due(NOW + timedelta(minutes=9))
    assert rounds.due(NOW + timedelta(minutes=10))
    rounds.ran(DigestRun(day=DAY, channels=["webhook"], locked_out=True), NOW)
    assert not rounds.due(NOW + timedelta(seconds=30)) and rounds.due(NOW + timedelta(minutes=1))


def test_settings_refuse_other_schemes_without_echoing_the_secret() -> None:
    with pytest.raises(ValueError) as refused:
        Settings(digest_smtp_url=f"http://u:{SMTP_PASSWORD}@host")
    assert SMTP_PASSWORD not in str(refused.value)
    with pytest.raises(ValueError):
        Settings(digest_webhook_url="ftp://host/x")
    settings = Settings(digest_smtp_url=f"smtps://u:{SMTP_PASSWORD}@host")
    assert SMTP_PASSWORD not in repr(settings) and SMTP_PASSWORD not in str(settings)


def test_member_email_through_the_api(demo_client: Any, headers: dict[str, dict[str, str]]) -> None:
    admin = headers["admin"]
    members = demo_client.get("/api/v1/members", headers=admin).json()
    target = next(m for m in members if m["login"] == "wjj.sup")
    assert target["email"] is None
    path = f"/api/v1/members/{target['id']}"
    assert (
        demo_client.patch(path, json={"email": "li@example.org"}, headers=admin).status_code == 204
    )
    assert demo_client.get(path, headers=admin).json()["email"] == "li@example.org"
    bad = demo_client.patch(path, json={"email": "not an address"}, headers=admin)
    assert bad.status_code == 422 and "email" in bad.text
    assert demo_client.patch(path, json={"email": None}, headers=admin).status_code == 204
    assert demo_client.get(path, headers=admin).json()["email"] is None


def test_update_member_refuses_a_bad_address(chiefs: Session) -> None:
    with pytest.raises(InvalidInput) as refused:
        update_member(
            chiefs,
            member_id=ids(chiefs)["wjj.sup"],
            data={"email": "li at example"},
            by=command_line_principal(),
            address=None,
        )
    assert refused.value.extra["field"] == "email"


@pytest.fixture(scope="module")
def committed() -> Iterator[Engine]:
    """A demo database of this module's own with the chiefs committed (the racing senders
    need commits); dropped afterwards."""
    url = fresh_demo_database(CONCURRENT_DATABASE)
    engine = make_engine(url)
    with Session(engine) as session, session.begin():
        appoint_chiefs(session)
    yield engine
    engine.dispose()
    drop_database(url)


def test_two_nodes_sending_at_once_send_each_digest_once(
    committed: Engine, webhook: tuple[str, Hook]
) -> None:
    url, hook = webhook
    hook.delay_s = 0.2  # each send takes a while: the two rounds overlap
    settings = Settings(digest_webhook_url=url)
    start = threading.Barrier(2)
    runs: list[Any] = []

    def node() -> None:
        with Session(committed) as session, session.begin():
            start.wait()
            runs.append(send_due_digests(session, settings=settings, now=NOW))

    threads = [threading.Thread(target=node) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(runs) == 2
    assert sorted(run.count("sent") for run in runs) == [0, 5]
    assert len(hook.posts) == 5
    assert len({body["recipient"]["member_id"] for _, body in hook.posts}) == 5
    # Later rounds on either node find everything sent.
    for _ in range(2):
        with Session(committed) as session, session.begin():
            assert send_due_digests(session, settings=settings, now=NOW).outcomes == []
    assert len(hook.posts) == 5
    with Session(committed) as session:
        assert {(r[1], r[2], r[3]) for r in rows(session)} == {("webhook", "sent", 1)}
        session.execute(text("DELETE FROM duty_digests"))
        session.commit()


def test_cli_dry_run_prints_and_sends_nothing(committed: Engine, webhook: tuple[str, Hook]) -> None:
    url, hook = webhook
    env = {
        "GEO_PATROL_DATABASE_URL": committed.url.render_as_string(hide_password=False),
        "GEO_PATROL_DIGEST_WEBHOOK_URL": url,
    }
    result = CliRunner().invoke(
        app, ["digest", "send", "--day", "2026-12-19", "--dry-run"], env=env
    )
    assert result.exit_code == 0, result.output
    assert "digest 2026-12-19: 5 recipients; channels: webhook" in result.output
    assert "would_send" in result.output and "河长巡河提醒" in result.output
    assert hook.posts == []
    with Session(committed) as session:
        assert rows(session) == []
    sent = CliRunner().invoke(app, ["digest", "send", "--day", "2026-12-19"], env=env)
    assert sent.exit_code == 0, sent.output
    lines = sent.output.splitlines()
    assert len([line for line in lines if line.startswith("sent ")]) == 5 and len(hook.posts) == 5
    again = CliRunner().invoke(app, ["digest", "send", "--day", "2026-12-19"], env=env)
    assert "nothing to send" in again.output and len(hook.posts) == 5
    with Session(committed) as session:
        session.execute(text("DELETE FROM duty_digests"))
        session.commit()


def test_the_maintenance_sends_the_days_digests_once(
    committed: Engine, webhook: tuple[str, Hook]
) -> None:
    """api.app.run_digests, as the maintenance loop calls it (on the real clock): what it sends
    is today's digests, once; the next round rests until tomorrow."""
    from geo_patrol.api.app import run_digests
    from geo_patrol.db.engine import make_sessionmaker

    url, hook = webhook
    settings = Settings(digest_webhook_url=url, digest_hour=0)
    sessions = make_sessionmaker(committed)
    rounds = DigestRounds(settings)
    now = datetime.now(UTC)
    with sessions() as session:
        expected = {
            d.recipient.member_id
            for d in digests_due(
                session, settings=settings, day=now.astimezone(LOCAL).date(), now=now
            )
        }
    assert run_digests(sessions, rounds) == len(expected)
    assert {body["recipient"]["member_id"] for _, body in hook.posts} == expected
    assert run_digests(sessions, rounds) == 0 and not rounds.due(datetime.now(UTC))
    with sessions() as session:
        session.execute(text("DELETE FROM duty_digests"))
        session.commit()


def test_the_log_rows_alone_keep_a_lockless_sender_from_sending_again(
    committed: Engine, webhook: tuple[str, Hook]
) -> None:
    """The second guard: a sender that skipped the advisory lock waits on the first one's
    claimed rows, then finds them sent (and sends nothing)."""
    from geo_patrol.duty import digest as module
    from geo_patrol.duty.digest_channels import channels_of

    url, hook = webhook
    hook.delay_s = 0.2
    settings = Settings(digest_webhook_url=url)
    first_claimed = threading.Event()
    outcomes: list[Any] = []

    def first() -> None:
        with Session(committed) as session, session.begin():
            run = module.DigestRun(day=DAY, channels=["webhook"])
            run.digests = digests_due(session, settings=settings, day=DAY, now=NOW)
            claimed = module._claim(
                session, settings=settings, channel=channels_of(settings)[0], run=run, now=NOW
            )
            assert len(claimed) == 5
            first_claimed.set()
            outcomes.append(send_due_digests(session, settings=settings, now=NOW))

    thread = threading.Thread(target=first)
    thread.start()
    assert first_claimed.wait(30)
    with Session(committed) as session, session.begin():
        run = module.DigestRun(day=DAY, channels=["webhook"])
        run.digests = digests_due(session, settings=settings, day=DAY, now=NOW)
        lockless = module._send_over(
            session, settings=settings, channel=channels_of(settings)[0], run=run, now=NOW
        )
    thread.join(60)
    assert lockless == [] and outcomes[0].count("sent") == 5
    assert len(hook.posts) == 5
    with Session(committed) as session:
        session.execute(text("DELETE FROM duty_digests"))
        session.commit()


def test_member_email_from_the_command_line(committed: Engine) -> None:
    env = {"GEO_PATROL_DATABASE_URL": committed.url.render_as_string(hide_password=False)}

    def stored() -> str | None:
        with Session(committed) as session:
            found = session.execute(text("SELECT email FROM members WHERE login = 'wjj.sup'"))
            return found.scalar_one()  # type: ignore[no-any-return]

    before = stored()
    set_ = CliRunner().invoke(app, ["member", "email", "wjj.sup", "li@example.org"], env=env)
    assert set_.exit_code == 0, set_.output
    assert stored() == "li@example.org"
    bad = CliRunner().invoke(app, ["member", "email", "wjj.sup", "li at example"], env=env)
    assert bad.exit_code == 2 and "e-mail" in bad.output and stored() == "li@example.org"
    removed = CliRunner().invoke(app, ["member", "email", "wjj.sup"], env=env)
    assert removed.exit_code == 0 and stored() is None
    restored = CliRunner().invoke(app, ["member", "email", "wjj.sup", before or ""], env=env)
    assert restored.exit_code == 0 and stored() == before
