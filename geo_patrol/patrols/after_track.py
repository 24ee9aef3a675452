"""What other domains do with a patrol's computed track, without patrols importing them.

Patrols sit below incidents in the layers (incidents may import patrols, never the other
way: the import contract in pyproject.toml), yet a patrol that passes a resolved incident
is evidence for that incident. So `finish_patrol` hands each computed track to the
functions registered here, in its transaction, while the track's indexed pieces exist; a
domain registers with the `after_track` decorator when its module is imported. Incidents
registers its verification (`geo_patrol.incidents.workflow.verify_passed_incidents`); the
service, the demo and the benchmarks import it, and tests/patrols/test_after_track.py checks
that each of them does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from geo_patrol.core.settings import Settings

__all__ = ["ComputedTrack", "TrackFollower", "after_track", "followers", "hand_on"]


@dataclass(frozen=True)
class ComputedTrack:
    """A patrol whose track, attribution, coverage and flags were just computed."""

    patrol_id: int
    pieces: str  # the temporary table of its track pieces (`store_track_pieces`)
    settings: Settings


TrackFollower = Callable[[Session, ComputedTrack], object]
_FOLLOWERS: list[TrackFollower] = []


def after_track(follower: TrackFollower) -> TrackFollower:
    """Register `follower` to run on every computed track, after those registered before."""
    if follower not in _FOLLOWERS:
        _FOLLOWERS.append(follower)
    return follower


def followers() -> list[str]:
    """The registered followers by module and name, in the order they run."""
    return [f"{f.__module__}.{f.__qualname__}" for f in _FOLLOWERS]


def hand_on(session: Session, track: ComputedTrack) -> None:
    """Run every registered follower on `track`."""
    for follower in _FOLLOWERS:
        follower(session, track)
