"""The proposed agenda of a zone's meeting, and the packs kept with a meeting (the file shown
at it, stored with its SHA-256 and answered again byte for byte)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Header, Path, Query
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from geo_patrol.api.deps import CurrentPrincipal, ReadSessionDep, ScopeDep, SessionDep, SettingsDep
from geo_patrol.api.openapi import file_answer
from geo_patrol.api.schemas import KeptPackPublic, ProposedAgendaPublic, ProposedItemPublic
from geo_patrol.core.catalog import msg
from geo_patrol.core.errors import NotFound
from geo_patrol.core.local_time import LOCAL
from geo_patrol.core.values import Day, Id
from geo_patrol.core.vocabulary import Language
from geo_patrol.meetings.agenda import proposed_agenda
from geo_patrol.meetings.kept_packs import KeptPack, list_packs, pack_file, seen_meeting
from geo_patrol.meetings.visibility import may_see_zone, zone_of
from geo_patrol.web.pack.kept import keep_meeting_pack, kept_filename

router = APIRouter(prefix="/api/v1", tags=["meetings"])

Lang = Annotated[Language | None, Query(description="zh (default: the map's) or en")]
MeetingId = Annotated[Id, Path()]


def _public(pack: KeptPack) -> KeptPackPublic:
    """A kept pack as the API shows it."""
    return KeptPackPublic(
        id=pack.id,
        sha256=pack.sha256,
        size=pack.size_bytes,
        language=pack.language,
        kept_at=pack.kept_at,
        kept_by=pack.kept_by,
    )


@router.get(
    "/agenda/proposed",
    summary="The proposed agenda of a zone's meeting, from the data of a period",
    response_model=ProposedAgendaPublic,
)
def get_proposed_agenda(
    session: ReadSessionDep,
    settings: SettingsDep,
    scope: ScopeDep,
    principal: CurrentPrincipal,
    zone: Annotated[str, Query(max_length=64, description="Cooperation zone code")],
    date_from: Annotated[Day | None, Query(alias="from")] = None,
    date_to: Annotated[Day | None, Query(alias="to")] = None,
    lang: Lang = None,
) -> ProposedAgendaPublic:
    """Undone decisions, overdue or escalated joint cases, unpatrolled border stretches,
    chiefs who missed their duty and worsened border sections, each linked to its object
    (period by default: the calendar month before this one)."""
    found = zone_of(session, code=zone)
    if not may_see_zone(scope, found):
        raise NotFound(msg("problem.meetings.no_zone", zone=zone), field="zone")
    agenda = proposed_agenda(
        session,
        scope=scope,
        principal=principal,
        zone=found,
        date_from=date_from,
        date_to=date_to,
        today=datetime.now(LOCAL).date(),
    )
    words = lang or settings.map_language
    items = [
        ProposedItemPublic(
            kind=i.kind,
            target_id=i.target_id,
            title=i.title.text(words),
            detail=i.detail,
            link=i.link,
        )
        for i in agenda.items
    ]
    return ProposedAgendaPublic(
        zone=found.code, date_from=agenda.date_from, date_to=agenda.date_to, items=items
    )


@router.post(
    "/meetings/{meeting_id}/packs",
    summary="Keep the meeting's pack: render it for the meeting's zone and period, store it",
    status_code=201,
    response_model=KeptPackPublic,
    responses={200: {"description": "The same bytes were kept before", "model": KeptPackPublic}},
)
async def post_meeting_pack(
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    scope: ScopeDep,
    principal: CurrentPrincipal,
    meeting_id: MeetingId,
    lang: Lang = None,
) -> KeptPackPublic:
    """201 with the pack kept; 200 with the earlier one when the bytes are the same."""
    pack, new = await run_in_threadpool(
        keep_meeting_pack,
        session,
        scope=scope,
        principal=principal,
        meeting_id=meeting_id,
        lang=lang or settings.map_language,
        generated_at=datetime.now(LOCAL),
        vendor_dir=settings.vendor_dir,
    )
    response.status_code = 201 if new else 200
    return _public(pack)


@router.get(
    "/meetings/{meeting_id}/packs",
    summary="The packs kept with a meeting",
    response_model=list[KeptPackPublic],
)
def get_meeting_packs(
    session: ReadSessionDep, scope: ScopeDep, meeting_id: MeetingId
) -> list[KeptPackPublic]:
    """Every pack kept with the meeting, oldest first (a meeting keeps a few)."""
    meeting = seen_meeting(session, scope=scope, meeting_id=meeting_id)
    return [_public(p) for p in list_packs(session, meeting_id=meeting.id)]


@router.get(
    "/meetings/{meeting_id}/packs/{pack_id}",
    summary="A kept pack: exactly the bytes stored (ETag: their SHA-256)",
    response_class=Response,
    responses={**file_answer("text/html"), 304: {"description": "Not modified"}},
)
def get_meeting_pack_file(
    session: ReadSessionDep,
    scope: ScopeDep,
    meeting_id: MeetingId,
    pack_id: Annotated[Id, Path()],
    if_none_match: Annotated[str | None, Header()] = None,
) -> Response:
    """The stored file, unchanged whatever the data became since."""
    meeting = seen_meeting(session, scope=scope, meeting_id=meeting_id)
    found = pack_file(session, meeting_id=meeting.id, pack_id=pack_id)
    etag = f'"{found.pack.sha256}"'
    headers = {
        "ETag": etag,
        "X-Content-SHA256": found.pack.sha256,
        "Content-Disposition": f'attachment; filename="{kept_filename(found.pack)}"',
        "Cache-Control": "private, max-age=0, must-revalidate",
    }
    if if_none_match is not None and etag in [t.strip() for t in if_none_match.split(",")]:
        return Response(status_code=304, headers=headers)
    return Response(found.content, media_type="text/html; charset=utf-8", headers=headers)
