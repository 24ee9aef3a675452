"""`geo-patrol fixes`: the months of raw GPS fixes (list, make ahead, retire)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer

from geo_patrol.cli.accounts import in_transaction
from geo_patrol.core.local_time import LOCAL
from geo_patrol.core.settings import Settings
from geo_patrol.patrols import partitions

fixes_app = typer.Typer(
    help="Raw GPS fixes, stored by month: list the months, make them ahead, retire old ones.",
    no_args_is_help=True,
)


def _today() -> datetime:
    return datetime.now(LOCAL)


@fixes_app.command("months")
def fixes_months() -> None:
    """The months of raw fixes: rows (PostgreSQL's estimate) and size on disk."""
    found = in_transaction(partitions.months)
    for month in found:
        first = month.first_day.strftime("%Y-%m") if month.first_day else "other days"
        typer.echo(
            f"{first:<11} {month.name:<28} {month.rows:>12,} rows {month.bytes / 1e6:>10.1f} MB"
        )


@fixes_app.command("ahead")
def fixes_ahead(
    months: Annotated[int | None, typer.Option(help="Months after the current one.")] = None,
) -> None:
    """Make the current month and the next ones (the maintenance does it too)."""
    ahead = months if months is not None else Settings().partitions_ahead
    made = in_transaction(
        lambda session: partitions.ensure_ahead(session, today=_today().date(), ahead=ahead)
    )
    typer.echo(f"made: {', '.join(made)}" if made else "every month was there already")


@fixes_app.command("retire")
def fixes_retire(
    keep_months: Annotated[
        int | None,
        typer.Option(
            min=1, help="Months kept before the current one (default GEO_PATROL_RAW_FIX_MONTHS)."
        ),
    ] = None,
) -> None:
    """Drop the raw fixes of the months before the kept ones. Patrols keep their cleaned
    tracks, attribution and coverage; exports of those patrols give the cleaned track."""
    keep = keep_months or Settings().raw_fix_months
    if not keep:
        typer.echo("raw fixes are kept forever (GEO_PATROL_RAW_FIX_MONTHS=0): give --keep-months")
        raise typer.Exit(2)
    done = in_transaction(
        lambda session: partitions.retire(session, keep_months=keep, today=_today().date())
    )
    typer.echo(
        f"before {done.cutoff}: dropped {', '.join(done.dropped) or 'no month'}; "
        f"{done.default_rows} rows of other days deleted"
    )
