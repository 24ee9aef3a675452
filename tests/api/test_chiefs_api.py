"""River chiefs over HTTP as the demo's people: who may appoint where, who reads what, the
roster upload and its row errors, the duty rules; bad input names the field."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from tests.support.principals import member_id

RIVER = "R-320509-330411-01"
ROSTER = (
    "姓名,手机,级别,河道,河段,行政区,起始日期,截止日期,联合河长\r\n"
    "沈村长,13700000001,村级,小天圩河（演示）,,320509100202,2026-01-01,,\r\n"
    "钱镇长,13700000002,镇级,R-320509-330411-01,1-2,盛泽镇,2026-01-01,,\r\n"
)


def appoint(client: TestClient, headers: dict[str, str], session: Session, **changes: Any) -> Any:
    """POST /api/v1/chiefs for sz.patrol as village chief on Longbei village (or changed)."""
    body = {
        "member_id": member_id(session, "sz.patrol"),
        "level": "village",
        "side": "320509100202",
        "river": RIVER,
        "valid_from": "2026-01-01",
        **changes,
    }
    return client.post("/api/v1/chiefs", json=body, headers=headers)


def test_a_supervisor_appoints_in_their_subtree_only(
    demo_client: TestClient, demo_session: Session, headers: dict[str, dict[str, str]]
) -> None:
    made = appoint(
        demo_client, headers["wujiang.sup"], demo_session, stretch="segments", seqs=[1, 2]
    )
    assert made.status_code == 201, made.text
    other_side = appoint(demo_client, headers["wujiang.sup"], demo_session, side="330411100202")
    assert other_side.status_code == 403
    assert other_side.json()["field"] == "side"
    anywhere = appoint(demo_client, headers["admin"], demo_session, side="330411100202")
    assert anywhere.status_code == 201, anywhere.text
    read = demo_client.get(f"/api/v1/chiefs/{made.json()['id']}", headers=headers["wujiang.sup"])
    assert read.status_code == 200
    assert (read.json()["stretch_kind"], len(read.json()["segment_ids"])) == ("segments", 2)


def test_patrol_members_and_observers_cannot_appoint(
    demo_client: TestClient, demo_session: Session, headers: dict[str, dict[str, str]]
) -> None:
    assert appoint(demo_client, headers["sz.patrol"], demo_session).status_code == 403
    assert appoint(demo_client, headers["meeting.room"], demo_session).status_code == 403
    assert appoint(demo_client, headers["sz.phone"], demo_session).status_code == 403
    assert appoint(demo_client, {}, demo_session).status_code == 401


def test_readers_see_the_chiefs_of_their_scope_and_history(
    demo_client: TestClient, demo_session: Session, headers: dict[str, dict[str, str]]
) -> None:
    mine = appoint(demo_client, headers["admin"], demo_session).json()["id"]
    theirs = appoint(
        demo_client,
        headers["admin"],
        demo_session,
        side="330411100202",
        member_id=member_id(demo_session, "wjj.patrol"),
    ).json()["id"]
    ended = demo_client.post(
        f"/api/v1/chiefs/{mine}/end",
        json={"last_day": "2026-03-31"},
        headers=headers["shengze.sup"],
    )
    assert ended.status_code == 200 and ended.json()["valid_to"] == "2026-03-31"

    def ids(login: str, query: str = "") -> set[int]:
        answer = demo_client.get(f"/api/v1/chiefs{query}", headers=headers[login])
        assert answer.status_code == 200, answer.text
        return {chief["id"] for chief in answer.json()} & {mine, theirs}

    assert ids("admin") == {mine, theirs}
    assert ids("wujiang.sup") == {mine}
    assert ids("xiuzhou.sup") == {theirs}
    assert ids("sz.patrol") == {mine}  # a chief sees their own
    assert ids("admin", "?on=2026-06-01") == {theirs}
    assert ids("admin", f"?river={RIVER}&side=320509100202") == {mine}
    hidden = demo_client.get(f"/api/v1/chiefs/{theirs}", headers=headers["wujiang.sup"])
    assert hidden.status_code == 404


def test_replace_and_joint(
    demo_client: TestClient, demo_session: Session, headers: dict[str, dict[str, str]]
) -> None:
    sz = appoint(demo_client, headers["admin"], demo_session).json()["id"]
    wjj = appoint(
        demo_client,
        headers["admin"],
        demo_session,
        side="330411100202",
        member_id=member_id(demo_session, "wjj.patrol"),
    ).json()["id"]
    zone = demo_session.execute(
        text("SELECT id FROM cooperation_zones WHERE code = 'ZONE-SZ-WJJ'")
    ).scalar_one()
    pair = {"name": "小天圩河联合河长", "zone_id": zone, "appointment_ids": [sz, wjj]}
    refused = demo_client.post("/api/v1/chiefs/joint", json=pair, headers=headers["wujiang.sup"])
    assert refused.status_code == 403
    joint = demo_client.post("/api/v1/chiefs/joint", json=pair, headers=headers["zone.coord"])
    assert joint.status_code == 201, joint.text
    successor = demo_client.post(
        f"/api/v1/chiefs/{sz}/replace",
        json={"member_id": member_id(demo_session, "sz.lead"), "valid_from": "2026-05-01"},
        headers=headers["shengze.sup"],
    )
    assert successor.status_code == 201, successor.text
    new = demo_client.get(f"/api/v1/chiefs/{successor.json()['id']}", headers=headers["admin"])
    assert new.json()["replaces_id"] == sz and new.json()["joint_id"] == joint.json()["id"]


def test_bad_input_names_the_field(
    demo_client: TestClient, demo_session: Session, headers: dict[str, dict[str, str]]
) -> None:
    admin = headers["admin"]
    cases: list[tuple[dict[str, Any], str]] = [
        ({"level": "province"}, "level"),
        ({"river": "no such river"}, "river"),
        ({"side": "999999"}, "side"),
        ({"stretch": "segments", "seqs": [998]}, "segments"),
        ({"stretch": "between", "points": [[120.6, 30.9], [200, 30.9]]}, "points"),
        ({"valid_to": "2025-01-01"}, "valid_to"),
        ({"valid_from": "1066-10-14"}, "valid_from"),
        ({"member_id": 0}, "member_id"),
    ]
    for change, field in cases:
        answer = appoint(demo_client, admin, demo_session, **change)
        assert answer.status_code == 422, (change, answer.text)
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert field in str(answer.json().get("field", answer.json())), (change, answer.json())
    made = appoint(demo_client, admin, demo_session).json()["id"]
    early = demo_client.post(
        f"/api/v1/chiefs/{made}/end", json={"last_day": "2025-01-01"}, headers=admin
    )
    assert (early.status_code, early.json()["field"]) == (422, "last_day")


def test_roster_upload_dry_run_then_store_then_unchanged(
    demo_client: TestClient, headers: dict[str, dict[str, str]]
) -> None:
    files = {"file": ("名录.csv", ROSTER.encode("gb18030"), "text/csv")}
    sup = headers["shengze.sup"]
    dry = demo_client.post(
        "/api/v1/chiefs/roster", files=files, data={"dry_run": "true"}, headers=sup
    )
    assert dry.status_code == 200, dry.text
    assert (dry.json()["dry_run"], dry.json()["created"], dry.json()["members_created"]) == (
        True,
        2,
        2,
    )
    listed = demo_client.get("/api/v1/chiefs", headers=sup).json()
    assert not {chief["member_name"] for chief in listed} & {"沈村长", "钱镇长"}
    stored = demo_client.post("/api/v1/chiefs/roster", files=files, headers=sup)
    assert (stored.status_code, stored.json()["created"]) == (200, 2), stored.text
    again = demo_client.post("/api/v1/chiefs/roster", files=files, headers=sup)
    assert (again.json()["created"], again.json()["unchanged"]) == (0, 2)
    listed = demo_client.get("/api/v1/chiefs", headers=sup).json()
    assert {chief["member_name"] for chief in listed} >= {"沈村长", "钱镇长"}


def test_roster_upload_lists_every_bad_row(
    demo_client: TestClient, headers: dict[str, dict[str, str]]
) -> None:
    bad = ROSTER + "孙村长,12345,村级,小天圩河（演示）,,330411100202,2026-01-01,,\r\n"
    bad += "李村长,13700000004,村级,小天圩河（演示）,,330411100202,2026-13-01,,\r\n"
    bad += "周村长,13700000005,村级,小天圩河（演示）,,330411100202,2026-01-01,,\r\n"
    files = {"file": ("roster.csv", bad.encode(), "text/csv")}
    answer = demo_client.post("/api/v1/chiefs/roster", files=files, headers=headers["wujiang.sup"])
    assert answer.status_code == 422
    assert answer.headers["content-type"].startswith("application/problem+json")
    errors = answer.json()["errors"]
    assert [(e["row"], e["field"]) for e in errors] == [(4, "手机"), (5, "起始日期"), (6, "行政区")]
    assert all(set(error) == {"row", "field", "code", "detail"} for error in errors)
    listed = demo_client.get("/api/v1/chiefs", headers=headers["admin"]).json()
    assert not {chief["member_name"] for chief in listed} & {"沈村长", "钱镇长"}
    assert (
        demo_client.post(
            "/api/v1/chiefs/roster", files=files, headers=headers["sz.patrol"]
        ).status_code
        == 422
    )  # a patrol member may write for no side: every row is refused
    garbage = {"file": ("x.xlsx", b"PK\x03\x04 not a workbook", "application/octet-stream")}
    broken = demo_client.post("/api/v1/chiefs/roster", files=garbage, headers=headers["admin"])
    assert (broken.status_code, broken.json()["field"]) == (422, "file")


def test_duty_rules_by_level_need_an_admin_by_appointment_its_supervisor(
    demo_client: TestClient, demo_session: Session, headers: dict[str, dict[str, str]]
) -> None:
    rules = demo_client.get("/api/v1/duty/rules", headers=headers["sz.patrol"])
    assert rules.status_code == 200
    defaults = {(r["level"], r["period"], r["required"]) for r in rules.json() if not r["joint"]}
    assert ("village", "week", 1) in defaults and ("town", "dekad", 1) in defaults
    village = {"level": "village", "period": "week", "required": 2}
    assert (
        demo_client.put(
            "/api/v1/duty/rules", json=village, headers=headers["wujiang.sup"]
        ).status_code
        == 403
    )
    assert (
        demo_client.put("/api/v1/duty/rules", json=village, headers=headers["admin"]).status_code
        == 200
    )
    chief = appoint(demo_client, headers["admin"], demo_session).json()["id"]
    own = {"appointment_id": chief, "period": "month", "required": 3, "min_share": 0.5}
    assert (
        demo_client.put("/api/v1/duty/rules", json=own, headers=headers["xiuzhou.sup"]).status_code
        == 404
    )
    assert (
        demo_client.put("/api/v1/duty/rules", json=own, headers=headers["sz.patrol"]).status_code
        == 403
    )
    set_by_sup = demo_client.put("/api/v1/duty/rules", json=own, headers=headers["shengze.sup"])
    assert set_by_sup.status_code == 200, set_by_sup.text
    after = demo_client.get("/api/v1/duty/rules", headers=headers["admin"]).json()
    assert {(r["appointment_id"], r["period"], r["required"]) for r in after} >= {
        (chief, "month", 3),
        (None, "week", 2),
    }
    flag = demo_client.put(
        "/api/v1/duty/rules",
        json={**village, "disqualifying_flags": ["too_slow"]},
        headers=headers["admin"],
    )
    assert (flag.status_code, flag.json()["field"]) == (422, "disqualifying_flags")


def test_a_joint_pairs_rule_by_its_zone_coordinator_or_both_sides(
    demo_client: TestClient, demo_session: Session, headers: dict[str, dict[str, str]]
) -> None:
    sz = appoint(demo_client, headers["admin"], demo_session).json()["id"]
    wjj = appoint(
        demo_client,
        headers["admin"],
        demo_session,
        side="330411100202",
        member_id=member_id(demo_session, "wjj.patrol"),
    ).json()["id"]
    zone = demo_session.execute(
        text("SELECT id FROM cooperation_zones WHERE code = 'ZONE-SZ-WJJ'")
    ).scalar_one()
    pair = {"name": "联合", "zone_id": zone, "appointment_ids": [sz, wjj]}
    joint = demo_client.post("/api/v1/chiefs/joint", json=pair, headers=headers["admin"]).json()
    rule = {"joint": True, "joint_id": joint["id"], "period": "month", "required": 2}
    one_side = demo_client.put("/api/v1/duty/rules", json=rule, headers=headers["wujiang.sup"])
    assert (one_side.status_code, one_side.json()["field"]) == (403, "joint_id")
    coordinator = demo_client.put("/api/v1/duty/rules", json=rule, headers=headers["zone.coord"])
    assert coordinator.status_code == 200, coordinator.text
    every_pair = {"joint": True, "zone_id": zone, "period": "month", "required": 2}
    refused = demo_client.put("/api/v1/duty/rules", json=every_pair, headers=headers["zone.coord"])
    assert (refused.status_code, refused.json()["field"]) == (403, "joint_id")
    level = {"level": "town", "period": "week", "required": 1}
    refused = demo_client.put("/api/v1/duty/rules", json=level, headers=headers["xiuzhou.sup"])
    assert (refused.status_code, refused.json()["field"]) == (403, "level")


def test_a_roster_larger_than_an_ordinary_request_is_an_upload(
    demo_client: TestClient, headers: dict[str, dict[str, str]]
) -> None:
    """A roster of more than 1 MB (GEO_PATROL_MAX_BODY_BYTES) is read: it is an upload."""
    remark = ",".join(["备注" * 20_000] * 10)  # ten columns of remarks the roster ignores
    lines = ROSTER.replace("联合河长\r\n", "联合河长" + ",备注" * 10 + "\r\n").splitlines()
    padded = "\r\n".join([lines[0], *(f"{line},{remark}" for line in lines[1:])])
    files = {"file": ("big.csv", padded.encode(), "text/csv")}
    assert len(files["file"][1]) > 2_000_000
    answer = demo_client.post(
        "/api/v1/chiefs/roster", files=files, data={"dry_run": "true"}, headers=headers["admin"]
    )
    assert answer.status_code == 200, answer.text[:300]
    assert answer.json()["created"] == 2
