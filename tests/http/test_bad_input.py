"""Bad HTTP and WebSocket input: clear 4xx answers, never a traceback or a 500."""

from __future__ import annotations

import json
from typing import Any

from aiohttp.test_utils import TestClient

from roomctl.room import Room
from tests.http.conftest import DISPLAY, join

Client = TestClient[Any, Any]


async def test_malformed_json_is_400(client: Client) -> None:
    resp = await client.post(
        "/api/v1/join", data=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert resp.status == 400
    assert (await resp.json())["error"] == "malformed_json"


async def test_schema_violation_is_400_naming_the_field(client: Client) -> None:
    resp = await client.post("/api/v1/join", json={"name": "A", "code": 123456})
    assert resp.status == 400
    assert "code" in (await resp.json())["message"]
    resp = await client.post("/api/v1/join", json={"name": "A", "extra": 1})
    assert resp.status == 400


async def test_oversize_body_is_413(client: Client) -> None:
    big = json.dumps({"name": "x" * (200 * 1024)})
    resp = await client.post("/api/v1/join", data=big, headers={"Content-Type": "application/json"})
    assert resp.status == 413


async def test_unknown_route_is_a_404_page_not_a_traceback(client: Client) -> None:
    resp = await client.get("/no/such/page")
    assert resp.status == 404
    text = await resp.text()
    assert "Page not found" in text and "Traceback" not in text
    api = await client.get("/api/v1/nothing")
    assert api.status == 404 and (await api.json())["error"]


async def test_wrong_method_is_405(client: Client) -> None:
    assert (await client.delete("/api/v1/join")).status == 405


async def test_security_headers_on_every_response(client: Client) -> None:
    for path in ("/", "/display", "/api/v1/health", "/no/such"):
        resp = await client.get(path)
        csp = resp.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert "unsafe-inline" not in csp
        assert resp.headers["Referrer-Policy"] == "no-referrer"
        assert resp.headers["Server"] == "roomctl"  # no library or Python versions for scanners


async def test_pages_have_no_inline_script(client: Client, room: Room) -> None:
    await join(client, room)
    for path in ("/", "/display", "/room", "/control", "/status"):
        text = await (await client.get(path)).text()
        for chunk in text.split("<script")[1:]:
            head = chunk.split(">", 1)[0]
            assert "src=" in head or 'type="application/json"' in head, f"inline script on {path}"


async def test_openapi_document_lists_routes_with_roles(client: Client) -> None:
    doc = await (await client.get("/api/v1/openapi.json")).json()
    assert doc["openapi"].startswith("3.")
    join_op = doc["paths"]["/api/v1/join"]["post"]
    assert join_op["x-roles"] == ["public"]
    assert "requestBody" in join_op
    assert doc["paths"]["/api/v1/participants"]["get"]["x-roles"] == ["presenter"]


async def test_bad_websocket_messages_are_rejected_and_the_socket_stays(
    client: Client, room: Room
) -> None:
    ws = await client.ws_connect("/api/v1/ws", headers=DISPLAY)
    assert (await ws.receive_json(timeout=5))["type"] == "snapshot"
    await ws.send_str("{broken")
    assert (await ws.receive_json(timeout=5))["error"] == "malformed_json"
    await ws.send_str(json.dumps({"type": "x" * 10, "pad": "y" * (70 * 1024)}))
    assert (await ws.receive_json(timeout=5))["error"] == "too_large"
    await ws.send_str(json.dumps({"type": "nonsense"}))
    assert (await ws.receive_json(timeout=5))["error"] == "unknown_type"
    await ws.send_str(json.dumps([1, 2]))
    assert (await ws.receive_json(timeout=5))["error"] == "invalid_message"
    await ws.send_str(json.dumps({"type": "heartbeat"}))
    assert (await ws.receive_json(timeout=5))["type"] == "heartbeat_ack"
    assert room.state.display_heartbeat > 0
    await ws.close()


async def test_language_switch_sets_a_cookie_and_translates(client: Client) -> None:
    resp = await client.get("/?lang=sv")
    assert 'lang="sv"' in await resp.text()
    assert "Gå med i klassrummet" in await resp.text()
    again = await client.get("/")
    assert 'lang="sv"' in await again.text()
    fi = await (await client.get("/?lang=fi")).text()
    assert "Liity luokkaan" in fi


async def test_a_first_visit_speaks_the_browsers_language_but_the_display_the_rooms(
    client: Client,
) -> None:
    swedish = {"Accept-Language": "de-DE,sv-FI;q=0.9,fi;q=0.8,en;q=0.5"}
    assert 'lang="sv"' in await (await client.get("/", headers=swedish)).text()
    finnish = {"Accept-Language": "sv;q=0, fi-FI"}  # q=0 is "not Swedish"
    assert 'lang="fi"' in await (await client.get("/", headers=finnish)).text()
    kiosk = {"Accept-Language": "sv-SE", **DISPLAY}  # the room's language is en
    assert 'lang="en"' in await (await client.get("/display", headers=kiosk)).text()
    nothing = {"Accept-Language": "de, *;q=0.1"}
    assert 'lang="en"' in await (await client.get("/", headers=nothing)).text()
