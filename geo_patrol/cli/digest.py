"""`geo-patrol digest send`: the daily duty digest by hand (what it would send, or send it)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer

from geo_patrol.cli.accounts import in_transaction
from geo_patrol.core.local_time import LOCAL
from geo_patrol.core.settings import Settings
from geo_patrol.duty.digest import DigestRun, send_due_digests
from geo_patrol.meetings.reminders import overdue_section

digest_app = typer.Typer(help="The daily duty digest to supervisors.", no_args_is_help=True)


@digest_app.command("send")
def digest_send(
    day: Annotated[
        datetime | None,
        typer.Option(formats=["%Y-%m-%d"], help="Local day (default: today), whatever the hour."),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the digests; send and record nothing.")
    ] = False,
) -> None:
    """Send the day's digests not yet sent (each at most once a day per recipient and
    channel), or print them with --dry-run."""
    settings = Settings()
    now = datetime.now(UTC)
    run = in_transaction(
        lambda session: send_due_digests(
            session,
            settings=settings,
            now=now,
            day=day.date() if day else now.astimezone(LOCAL).date(),
            dry_run=dry_run,
            extras=(overdue_section,),
        )
    )
    typer.echo(describe(run, dry_run=dry_run))


def describe(run: DigestRun, *, dry_run: bool) -> str:
    """What a run did (or would do), for the shell."""
    channels = ", ".join(run.channels) or "none configured"
    lines = [f"digest {run.day}: {len(run.digests)} recipients; channels: {channels}"]
    if run.locked_out:
        lines.append("another node is sending this day's digests now; try again later")
    if dry_run:
        for digest in run.digests:
            who = digest.recipient
            lines += ["", f"== {who.name} (member {who.member_id}, {who.email or 'no e-mail'})"]
            lines += [digest.subject, "", digest.text]
    for outcome in run.outcomes:
        why = f": {outcome.error}" if outcome.error else ""
        lines.append(
            f"{outcome.status:<10} {outcome.channel:<8} {outcome.name} (member "
            f"{outcome.member_id}), chiefs: {outcome.chiefs}{why}"
        )
    if not dry_run and run.digests and not run.outcomes and not run.locked_out:
        lines.append("nothing to send: every digest of the day went out (or is waiting to retry)")
    return "\n".join(lines)
