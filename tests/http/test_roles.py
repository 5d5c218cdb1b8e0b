"""Every API route declares its roles; walk each route with each role."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from roomctl.http.app import TABLES, make_app
from roomctl.roles import Role
from roomctl.room import Room
from tests.http.conftest import DISPLAY, join
from tests.support.appliance import CARETAKER_PASSWORD, TEACHER_PIN

WALKED = (Role.PUBLIC, Role.PARTICIPANT, Role.PRESENTER, Role.CARETAKER, Role.DISPLAY)


async def client_as(
    aiohttp_client: Any, room: Room, role: Role
) -> tuple[TestClient[Any, Any], dict[str, str]]:
    client = await aiohttp_client(make_app(room))
    if role in (Role.PARTICIPANT, Role.PRESENTER):
        await join(client, room, f"as-{role}")
    if role is Role.PRESENTER:
        assert (await client.post("/api/v1/presenter", json={"pin": TEACHER_PIN})).status == 200
    if role is Role.CARETAKER:
        assert (
            await client.post("/api/v1/login", json={"password": CARETAKER_PASSWORD})
        ).status == 200
    return client, (DISPLAY if role is Role.DISPLAY else {})


@pytest.mark.parametrize("role", WALKED, ids=str)
async def test_every_route_enforces_its_roles(aiohttp_client: Any, room: Room, role: Role) -> None:
    client, headers = await client_as(aiohttp_client, room, role)
    routes = [r for t in client.app[TABLES] for r in t.routes if not r.path.endswith("/ws")]
    assert len(routes) > 15
    checked = 0
    for r in routes:
        path = r.path.replace("{device_id}", "nodevice").replace("{name}", "noscene")
        if r.path.endswith(("/logout", "/end-lesson")):
            continue  # would end this client's session for the routes after it
        resp = await client.request(r.method, path, json={}, headers=headers)
        allowed = role in r.roles or Role.PUBLIC in r.roles
        body = await resp.text()
        if allowed:
            assert resp.status != 401, f"{role} refused on {r.method} {r.path}: {body}"
            assert "role_required" not in body, f"{role} refused on {r.method} {r.path}"
        else:
            expected = 401 if role is Role.PUBLIC else 403
            assert resp.status == expected, f"{role} on {r.method} {r.path}: {resp.status} {body}"
        checked += 1
    assert checked == len(routes) - 2


async def test_websocket_needs_a_session_or_the_display(aiohttp_client: Any, room: Room) -> None:
    client = await aiohttp_client(make_app(room))
    assert (await client.get("/api/v1/ws")).status == 401
    ws = await client.ws_connect("/api/v1/ws", headers=DISPLAY)
    msg = await ws.receive_json(timeout=5)
    assert msg["type"] == "snapshot" and msg["pairing"]["code"] == room.pairing_info().code
    await ws.close()


async def test_participant_websocket_never_carries_the_code_or_names(
    aiohttp_client: Any, room: Room
) -> None:
    client = await aiohttp_client(make_app(room))
    await join(client, room, "Oppilas")
    ws = await client.ws_connect("/api/v1/ws")
    msg = await ws.receive_json(timeout=5)
    assert "pairing" not in msg and "participants" not in msg
    assert room.pairing_info().code not in str(msg["room"])
    await ws.close()


async def test_students_see_no_warnings_or_device_errors(aiohttp_client: Any, room: Room) -> None:
    room.warnings.add(
        "devices[0]", "device_disabled", "/etc/roomctl/roomctl.toml: devices[0].host: 10.1.2.50"
    )
    client = await aiohttp_client(make_app(room))
    await join(client, room, "Oppilas")
    snap = await (await client.get("/api/v1/room")).json()
    assert snap["warnings"] == []
    ws = await client.ws_connect("/api/v1/ws")
    msg = await ws.receive_json(timeout=5)
    assert msg["room"]["warnings"] == [] and "10.1.2.50" not in str(msg)
    await ws.close()
    staff = await aiohttp_client(make_app(room))
    await staff.post("/api/v1/login", json={"password": CARETAKER_PASSWORD})
    assert (await (await staff.get("/api/v1/status")).json())["warnings"][0][
        "source"
    ] == "devices[0]"
