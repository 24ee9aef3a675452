"""The duty domain's answers as the API's response models (geo_patrol.api.schemas): a
chief's duty, a joint pair's, the roll-ups and trend, with periods named and reasons in
words in the asked language. The phone's /api/v1/me/duty can answer with the same."""

from __future__ import annotations

from geo_patrol.api.schemas import (
    ChiefDutyPublic,
    DutyCandidatePublic,
    DutyIncidents,
    DutyPeriodPublic,
    DutyRollup,
    DutySummaryPublic,
    DutyTally,
    DutyTrendPoint,
    JointChief,
    JointDutyPublic,
)
from geo_patrol.core import catalog
from geo_patrol.duty import listing, rollups
from geo_patrol.duty.assessment import Candidate, ChiefDuty, JointDuty
from geo_patrol.duty.periods import Period


def period_public(period: Period, lang: str) -> DutyPeriodPublic:
    """A period as the API shows it."""
    return DutyPeriodPublic(
        kind=period.kind,
        key=period.key,
        label=period.label(catalog.lang_of(lang)),
        label_zh=period.label("zh"),
        label_en=period.label("en"),
        first_day=period.first,
        last_day=period.last,
    )


def candidate_public(
    candidate: Candidate, *, duty: ChiefDuty | None, lang: str
) -> DutyCandidatePublic:
    """A candidate patrol with its reason in words."""
    return DutyCandidatePublic(
        patrol_id=candidate.patrol_id,
        started_at=candidate.started_at,
        team_id=candidate.team_id,
        covered_m=candidate.covered_m,
        share=candidate.share,
        flags=candidate.flags,
        reason=candidate.reason,
        disqualified_by=candidate.disqualified_by,
        counted=candidate.counted,
        reason_text=listing.reason_words(candidate, duty=duty, lang=lang),
    )


def chief_duty_public(duty: ChiefDuty, lang: str) -> ChiefDutyPublic:
    """A chief's duty as the API shows it."""
    return ChiefDutyPublic(
        appointment_id=duty.appointment_id,
        member_id=duty.member_id,
        name=duty.member_name,
        level=duty.level,
        side_code=duty.side_code,
        side_name=duty.side_name,
        county_code=duty.county_code,
        river_code=duty.river_code,
        river_name=duty.river_name,
        stretch_label=duty.stretch_label,
        segment_ids=duty.segment_ids,
        stretch_m=duty.stretch_m,
        joint_id=duty.joint_id,
        zone_ids=duty.zone_ids,
        period=period_public(duty.period, lang),
        required=duty.required,
        done=duty.done,
        status=duty.status,
        due=duty.due,
        covered_share=duty.covered_share,
        last_patrol_at=duty.last_patrol_at,
        min_share=duty.min_share,
        min_length_m=duty.min_length_m,
        candidates=[candidate_public(c, duty=duty, lang=lang) for c in duty.candidates],
        incidents=DutyIncidents(**vars(duty.incidents)),
    )


def joint_duty_public(pair: JointDuty, lang: str) -> JointDutyPublic:
    """A joint pair's duty as the API shows it."""
    return JointDutyPublic(
        joint_id=pair.joint_id,
        name=pair.name,
        zone_id=pair.zone_id,
        chiefs=[JointChief(**chief) for chief in pair.chiefs],
        segment_ids=pair.segment_ids,
        stretch_m=pair.stretch_m,
        period=period_public(pair.period, lang),
        required=pair.required,
        done=pair.done,
        status=pair.status,
        due=pair.period.last,
        candidates=[candidate_public(c, duty=None, lang=lang) for c in pair.candidates],
    )


def tally_public(tally: rollups.Tally) -> DutyTally:
    """Counts and the share."""
    return DutyTally(**vars(tally), share=tally.share)


def summary_public(summary: rollups.DutySummary, lang: str) -> DutySummaryPublic:
    """Roll-ups and trend as the API shows them."""
    return DutySummaryPublic(
        on=summary.day,
        periods=summary.periods,
        overall=tally_public(summary.overall),
        rollups=[
            DutyRollup(
                dimension=r.dimension, key=r.key, name=r.name, **vars(r.tally), share=r.tally.share
            )
            for r in summary.rollups
        ],
        trend=[
            DutyTrendPoint(
                period=period_public(t.period, lang),
                side=t.side,
                **vars(t.tally),
                share=t.tally.share,
            )
            for t in summary.trend
        ],
    )
