"""geo-patrol member ... and geo-patrol device ...: account administration from the shell."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Annotated, TypeVar

import typer
from sqlalchemy.orm import Session

from geo_patrol.access.principal import command_line_principal
from geo_patrol.access.scope import Scope
from geo_patrol.access.secrets import new_password
from geo_patrol.accounts import members as accounts
from geo_patrol.accounts.members import member_id_by_login
from geo_patrol.accounts.teams import grantable_teams, revoke_device, team_id_of
from geo_patrol.core.errors import GeoPatrolError
from geo_patrol.core.settings import Settings
from geo_patrol.db import migrate
from geo_patrol.db.engine import database_url, make_engine, make_sessionmaker
from geo_patrol.geography.queries import zone_id_of

member_app = typer.Typer(help="Members: add, reset passwords, give roles.", no_args_is_help=True)
device_app = typer.Typer(help="Devices: issue and revoke tokens.", no_args_is_help=True)
T = TypeVar("T")


def in_transaction(action: Callable[[Session], T]) -> T:
    """Run `action` in one transaction on the configured database; errors exit with code 2."""
    engine = make_engine(database_url(Settings()))
    migrate.upgrade(engine)
    try:
        with make_sessionmaker(engine)() as session, session.begin():
            return action(session)
    except GeoPatrolError as error:
        typer.secho(f"error: {error.detail}", fg="red", err=True)
        raise typer.Exit(2) from error


def member_by_login(session: Session, login: str) -> int:
    """The id of a login, or NotFound."""
    return member_id_by_login(session, login)


def read_password(from_stdin: bool) -> str:
    """A password from standard input, a prompt, or a new random one."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    return str(typer.prompt("password", hide_input=True, confirmation_prompt=True))


@member_app.command("add")
def member_add(
    login: str,
    name: Annotated[str, typer.Option(help="Full name.")],
    home: Annotated[str, typer.Option(help="Code of the home jurisdiction.")],
    phone: str | None = None,
    password_stdin: Annotated[bool, typer.Option(help="Read the password from stdin.")] = False,
    email: Annotated[str | None, typer.Option(help="E-mail address (the duty digest).")] = None,
) -> None:
    """Add a member who can sign in."""
    password = read_password(password_stdin)
    data = {
        "name": name,
        "phone": phone,
        "home_jurisdiction_code": home,
        "login": login,
        "password": password,
        "email": email,
    }
    member_id = in_transaction(
        lambda s: accounts.create_member(s, data=data, by=command_line_principal(), address=None)
    )
    typer.echo(f"member {member_id} ({login}) added")


@member_app.command("passwd")
def member_passwd(
    login: str,
    password_stdin: Annotated[bool, typer.Option(help="Read the password from stdin.")] = False,
    generate: Annotated[bool, typer.Option(help="Make a random password and print it.")] = False,
) -> None:
    """Reset a member's password (ends their web sessions)."""
    password = new_password() if generate else read_password(password_stdin)
    in_transaction(
        lambda s: accounts.set_password(
            s,
            member_id=member_by_login(s, login),
            password=password,
            by=command_line_principal(),
            address=None,
        )
    )
    typer.echo(f"new password for {login}: {password}" if generate else "password changed")


@member_app.command("email")
def member_email(
    login: str,
    address: Annotated[str | None, typer.Argument(help="The address; none removes it.")] = None,
) -> None:
    """Set (or remove) a member's e-mail address, where the daily duty digest goes."""
    in_transaction(
        lambda s: accounts.update_member(
            s,
            member_id=member_by_login(s, login),
            data={"email": address or None},
            by=command_line_principal(),
            address=None,
        )
    )
    typer.echo(f"e-mail of {login}: {address}" if address else f"e-mail of {login} removed")


@member_app.command("role")
def member_role(
    login: str,
    role: Annotated[str, typer.Option(help="admin, supervisor, zone_coordinator, ...")],
    jurisdiction: Annotated[str | None, typer.Option(help="Jurisdiction code.")] = None,
    zone: Annotated[str | None, typer.Option(help="Zone code.")] = None,
    team: Annotated[str | None, typer.Option(help="Team name.")] = None,
) -> None:
    """Give a member a role over a jurisdiction, zone or team."""

    def give(session: Session) -> int:
        zone_id = zone_id_of(session, zone)
        team_id = team_id_of(session, team)
        grant = {
            "role": role,
            "jurisdiction_code": jurisdiction,
            "zone_id": zone_id,
            "team_id": team_id,
        }
        return accounts.add_role(
            session,
            member_id=member_by_login(session, login),
            grant=grant,
            by=command_line_principal(),
            address=None,
        )

    typer.echo(f"role {in_transaction(give)} given to {login}")


@device_app.command("issue")
def device_issue(
    login: str, label: Annotated[str, typer.Option(help="e.g. the phone model.")]
) -> None:
    """Issue a device token for a member (for all their patrol teams); printed once."""

    def issue(session: Session) -> tuple[int, str]:
        member_id = member_by_login(session, login)
        teams = grantable_teams(session, scope=Scope(everything=True), member_id=member_id)
        return accounts.issue_device_token(
            session,
            member_id=member_id,
            label=label,
            team_ids=teams,
            by=command_line_principal(),
            address=None,
        )

    device_id, token = in_transaction(issue)
    typer.echo(f"device {device_id} for {login}; token (shown once, also the OsmAnd id):")
    typer.echo(token)


@device_app.command("revoke")
def device_revoke(device_id: int) -> None:
    """Revoke a device at once."""
    in_transaction(
        lambda s: revoke_device(
            s,
            device_id=device_id,
            scope=Scope(everything=True),
            principal=command_line_principal(),
            address=None,
        )
    )
    typer.echo(f"device {device_id} revoked")
