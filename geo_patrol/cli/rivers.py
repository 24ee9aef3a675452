"""geo-patrol rivers ...: say which way a river flows (its segments are then ordered along
the flow, so the water-quality rule can look upstream)."""

from __future__ import annotations

from typing import Annotated

import typer

from geo_patrol.cli.accounts import in_transaction
from geo_patrol.geography.flow import parse_flow, set_river_flow

rivers_app = typer.Typer(help="Rivers: which way they flow.", no_args_is_help=True)


@rivers_app.command("flow")
def rivers_flow(
    code: Annotated[str, typer.Argument(help="River code.")],
    flow: Annotated[
        str, typer.Argument(help="as_drawn, reversed (against the drawn line) or unknown.")
    ],
) -> None:
    """Say which way river CODE flows against its drawn line; reorders its segments."""
    changed = in_transaction(lambda s: set_river_flow(s, code=code, flow=parse_flow(flow)))
    typer.echo(f"river {code}: flow {flow}" + ("" if changed else " (unchanged)"))
