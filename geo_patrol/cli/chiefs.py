"""geo-patrol chiefs ... and geo-patrol duty-rules ...: river chiefs and their duty rules
from the shell (acting as the command line: an administrator)."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.orm import Session

from geo_patrol.access.principal import command_line_principal
from geo_patrol.access.scope import Scope
from geo_patrol.cli.accounts import in_transaction
from geo_patrol.core.catalog import msg
from geo_patrol.core.errors import NotFound
from geo_patrol.core.vocabulary import ChiefLevel, DutyPeriod
from geo_patrol.duty.appointments import end_appointment, list_appointments
from geo_patrol.duty.roster import RosterReport, import_roster
from geo_patrol.duty.roster_file import RosterRejected
from geo_patrol.duty.rules import RuleSpec, list_rules, set_rule
from geo_patrol.geography.queries import zone_id_of

chiefs_app = typer.Typer(help="River chiefs: import a roster, list, end.", no_args_is_help=True)
rules_app = typer.Typer(help="Duty rules: how often chiefs patrol.", no_args_is_help=True)
EVERYTHING = Scope(everything=True)


def _day(value: str) -> date:
    """A YYYY-MM-DD option."""
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError as error:
        raise typer.BadParameter(f"{value} is not a date (YYYY-MM-DD)") from error


@chiefs_app.command("import")
def chiefs_import(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False)],
    dry_run: Annotated[bool, typer.Option(help="Check and report; store nothing.")] = False,
) -> None:
    """Import a roster (CSV or XLSX): all rows, or nothing and every bad row listed."""
    data = file.read_bytes()

    def run(session: Session) -> RosterReport:
        try:
            return import_roster(
                session,
                data=data,
                scope=EVERYTHING,
                by=command_line_principal(),
                dry_run=dry_run,
                source=f"roster {file.name}",
            )
        except RosterRejected as error:
            for bad in error.errors:
                typer.secho(f"row {bad.row}, {bad.field}: {bad.detail}", fg="red", err=True)
            raise

    typer.echo(in_transaction(run).summary())


@chiefs_app.command("list")
def chiefs_list(
    river: Annotated[str | None, typer.Option(help="River code.")] = None,
    on: Annotated[str | None, typer.Option(help="In force on this day (YYYY-MM-DD).")] = None,
) -> None:
    """Appointments, one a line (the whole history unless --on)."""
    day = _day(on) if on else None
    found = in_transaction(
        lambda s: list_appointments(s, scope=EVERYTHING, member_id=None, river=river, on=day)
    )
    for chief in found:
        until = chief.valid_to.isoformat() if chief.valid_to else "…"
        joint = f" joint {chief.joint_id}" if chief.joint_id else ""
        typer.echo(
            f"{chief.id}\t{chief.level}\t{chief.jurisdiction_code}\t{chief.river_code}"
            f"\t{chief.stretch_label or chief.stretch_kind}\t{chief.member_name}"
            f"\t{chief.valid_from.isoformat()}–{until}{joint}"
        )
    typer.echo(f"{len(found)} appointments")


@chiefs_app.command("end")
def chiefs_end(
    appointment_id: Annotated[int, typer.Argument(help="Appointment id.")],
    last_day: Annotated[str, typer.Option(help="Its last day (YYYY-MM-DD).")],
) -> None:
    """End an appointment on its last day (it stays in the history)."""
    day = _day(last_day)
    in_transaction(
        lambda s: end_appointment(
            s,
            scope=EVERYTHING,
            by=command_line_principal(),
            appointment_id=appointment_id,
            last_day=day,
        )
    )
    typer.echo(f"appointment {appointment_id} ends on {day.isoformat()}")


@rules_app.command("list")
def rules_list() -> None:
    """Every rule: target, period, patrols required, share, length, flags."""
    for rule in in_transaction(list_rules):
        target = (
            f"appointment {rule['appointment_id']}"
            if rule["appointment_id"]
            else ("joint" if rule["joint"] else str(rule["level"]))
            + (f" pair {rule['joint_id']}" if rule["joint_id"] else "")
            + (f" zone {rule['zone_id']}" if rule["zone_id"] else "")
        )
        length = f" or {rule['min_length_m']:g} m" if rule["min_length_m"] else ""
        typer.echo(
            f"{rule['id']}\t{target}\t{rule['required']} per {rule['period']}"
            f"\t{rule['min_share']:.0%}{length}\tnot: {','.join(rule['disqualifying_flags'])}"
        )


def _zone_id(session: Session, code: str | None) -> int | None:
    """A cooperation zone's id by its code."""
    if code is None:
        return None
    found = zone_id_of(session, code)
    if found is None:
        raise NotFound(msg("problem.cli.no_zone", code=code), field="zone")
    return int(found)


@rules_app.command("set")
def rules_set(
    period: Annotated[DutyPeriod, typer.Option(help="week, dekad (旬), month or quarter.")],
    required: Annotated[int, typer.Option(help="Patrols required per period.")],
    level: Annotated[ChiefLevel | None, typer.Option(help="county, town or village.")] = None,
    zone: Annotated[str | None, typer.Option(help="Only in this cooperation zone (code).")] = None,
    appointment: Annotated[int | None, typer.Option(help="Only this appointment.")] = None,
    joint: Annotated[bool, typer.Option(help="A rule of joint pairs.")] = False,
    joint_id: Annotated[int | None, typer.Option(help="Only this joint pair.")] = None,
    min_share: Annotated[float, typer.Option(help="Share of the stretch to count.")] = 0.3,
    min_length_m: Annotated[float | None, typer.Option(help="Or at least this length.")] = None,
    flags: Annotated[str, typer.Option(help="Flags that disqualify a patrol.")] = "too_fast,mocked",
) -> None:
    """Set the rule of one target (a level, a level in a zone, an appointment; joint pairs)."""
    spec = RuleSpec(
        period=period,
        required=required,
        min_share=min_share,
        min_length_m=min_length_m,
        disqualifying_flags=tuple(flag.strip() for flag in flags.split(",") if flag.strip()),
    )
    rule_id = in_transaction(
        lambda s: set_rule(
            s,
            spec=spec,
            by=command_line_principal(),
            level=level,
            zone_id=_zone_id(s, zone),
            appointment_id=appointment,
            joint=joint,
            joint_id=joint_id,
        )
    )
    typer.echo(f"rule {rule_id} set")
