"""Problems over HTTP: a stable `code`, title and detail in Chinese or English by
Accept-Language (or `lang=`), English for an API client that asks for neither, Chinese for a
page; pydantic's refusals in Chinese name the field; Open311's error list follows its locale.
The expected words are written out here, not read from the catalog."""

from __future__ import annotations

from fastapi.testclient import TestClient

ZH = {"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"}
EN = {"Accept-Language": "en-US,en;q=0.9"}
MISSING = "/api/v1/patrols/987654321"


def test_a_missing_patrol_in_chinese_and_in_english(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    zh = client.get(MISSING, headers=admin_headers | ZH)
    assert zh.status_code == 404
    assert zh.headers["content-type"] == "application/problem+json"
    assert zh.json() == {
        "type": "about:blank",
        "title": "未找到",
        "status": 404,
        "code": "patrols.no_patrol",
        "detail": "没有编号为 987654321 的巡河记录",
        "instance": MISSING,
        "field": "patrol_id",
    }
    en = client.get(MISSING, headers=admin_headers | EN).json()
    assert (en["title"], en["detail"], en["code"]) == (
        "Not found",
        "no patrol 987654321",
        "patrols.no_patrol",
    )
    # No Accept-Language: English, as API clients have always read it.
    assert client.get(MISSING, headers=admin_headers).json() == en
    # lang= wins over the header; a page a browser opens defaults to Chinese.
    assert client.get(MISSING + "?lang=zh", headers=admin_headers | EN).json()["title"] == "未找到"
    page = {"Accept": "text/html,application/xhtml+xml"}
    assert client.get(MISSING, headers=admin_headers | page).json()["detail"].startswith("没有")
    weighed = {"Accept-Language": "zh;q=0.3, en;q=0.7"}
    assert client.get(MISSING, headers=admin_headers | weighed).json()["detail"] == en["detail"]


def test_a_validation_error_in_chinese_names_the_field(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    zh = client.get("/api/v1/patrols?limit=abc", headers=admin_headers | ZH)
    assert zh.status_code == 422
    problem = zh.json()
    assert problem["title"] == "输入无效" and problem["code"] == "validation.int_parsing"
    assert problem["detail"] == "limit：应为整数"
    assert problem["errors"] == [
        {"field": "limit", "message": "limit：应为整数", "code": "validation.int_parsing"}
    ]
    low = client.get("/api/v1/patrols?limit=0", headers=admin_headers | ZH).json()
    assert low["detail"] == "limit：应大于或等于 1"
    en = client.get("/api/v1/patrols?limit=abc", headers=admin_headers).json()
    assert en["title"] == "Invalid input"
    assert en["detail"] == (
        "limit: Input should be a valid integer, unable to parse string as an integer"
    )


def test_text_postgresql_cannot_store_is_refused_in_chinese_naming_the_field(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    body = {"name": "bad\u0000team", "zone_id": 1}
    zh = client.post("/api/v1/teams", json=body, headers=admin_headers | ZH).json()
    assert zh["code"] == "core.nul_character", zh
    assert zh["errors"][0]["message"] == "name：不能含有 NUL（\\u0000）字符"


def test_an_unknown_address_in_chinese(client: TestClient) -> None:
    zh = client.get("/api/v1/no-such-list", headers=ZH).json()
    assert (zh["title"], zh["detail"], zh["code"]) == ("未找到", "没有这个地址", "http.no_route")
    en = client.get("/api/v1/no-such-list").json()
    assert (en["title"], en["detail"]) == ("Not Found", "Not Found")


def test_open311_refusals_follow_the_locale(client: TestClient) -> None:
    zh = client.get("/open311/v2/requests.json?locale=zh")
    assert zh.status_code == 401
    assert zh.json() == [
        {"code": 401, "description": "需要 api_key：个人令牌（gpt_...）或设备令牌（gpd_...）"}
    ]
    en = client.get("/open311/v2/requests.json").json()
    assert en[0]["description"].startswith("api_key is required")
