"""Joining, presenter and caretaker login, rate limits and sessions through the real app."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient

from roomctl.room import Room
from roomctl.sessions import COOKIE_NAME
from tests.http.conftest import DISPLAY, Clock, join
from tests.support.appliance import CARETAKER_PASSWORD, TEACHER_PIN

Client = TestClient[Any, Any]


async def test_join_with_code_sets_a_strict_httponly_cookie(client: Client, room: Room) -> None:
    resp = await client.post(
        "/api/v1/join", json={"code": room.pairing_info().code, "name": "Aino"}
    )
    assert resp.status == 200
    cookie = resp.cookies[COOKIE_NAME]
    assert cookie["httponly"] and cookie["samesite"] == "Strict"
    me = await (await client.get("/api/v1/me")).json()
    assert me["name"] == "Aino" and me["role"] == "participant"
    assert room.snapshot()["participants"]["total"] == 1


async def test_wrong_code_is_403_with_a_message(client: Client, room: Room) -> None:
    code = room.pairing_info().code
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    resp = await client.post("/api/v1/join", json={"code": wrong, "name": "Eve"})
    assert resp.status == 403
    body = await resp.json()
    assert body["error"] == "invalid_code" and body["message"]


async def test_join_with_qr_token_and_old_token_is_refused_as_changed(
    client: Client, room: Room, clock: Clock
) -> None:
    token = room.pairing_info().token
    clock.t += 60 * 3
    resp = await client.post("/api/v1/join", json={"token": token, "name": "Late"})
    assert resp.status == 403
    assert (await resp.json())["error"] == "stale"
    page = await client.get(f"/?t={token}")
    assert page.status == 410
    assert "The code has changed" in await page.text()


async def test_rate_limit_returns_429_with_retry_after(client: Client, room: Room) -> None:
    limit = room.config.pairing.per_client_attempts
    for _ in range(limit):
        resp = await client.post("/api/v1/join", json={"code": "000000", "name": "Guess"})
        assert resp.status in (403, 429)
    resp = await client.post("/api/v1/join", json={"code": room.pairing_info().code, "name": "X"})
    assert resp.status == 429
    assert int(resp.headers["Retry-After"]) >= 1


async def test_tampered_cookie_is_no_session(client: Client, room: Room) -> None:
    await join(client, room)
    value = client.session.cookie_jar.filter_cookies(client.make_url("/"))[COOKIE_NAME].value
    body, _, mac = value.partition(".")
    forged = body[:-1] + ("A" if body[-1] != "A" else "B") + "." + mac
    client.session.cookie_jar.clear()
    client.session.cookie_jar.update_cookies({COOKIE_NAME: forged})
    assert (await client.get("/api/v1/me")).status == 401


async def test_teacher_pin_makes_a_presenter_and_wrong_pin_is_refused(
    client: Client, room: Room
) -> None:
    await join(client, room, "Opettaja")
    resp = await client.post("/api/v1/presenter", json={"pin": "0000"})
    assert resp.status == 403
    resp = await client.post("/api/v1/presenter", json={"pin": TEACHER_PIN})
    assert resp.status == 200
    people = await (await client.get("/api/v1/participants")).json()
    assert people["participants"][0] == {
        **people["participants"][0],
        "name": "Opettaja",
        "role": "presenter",
    }


async def test_first_joiner_policy_gives_presenter(aiohttp_client: Any, make_room: Any) -> None:
    from roomctl.http.app import make_app

    room = make_room(roles={"policy": "first_joiner_is_presenter"})
    client = await aiohttp_client(make_app(room))
    first = await join(client, room, "First")
    assert first["role"] == "presenter"
    other = await aiohttp_client(make_app(room))
    assert (await join(other, room, "Second"))["role"] == "participant"


async def test_caretaker_login_and_status(client: Client, room: Room) -> None:
    assert (await client.get("/api/v1/status")).status == 401
    assert (await client.post("/api/v1/login", json={"password": "nope"})).status == 403
    resp = await client.post("/api/v1/login", json={"password": CARETAKER_PASSWORD})
    assert resp.status == 200
    status = await (await client.get("/api/v1/status")).json()
    assert status["room"]["id"] == "H101"


async def test_code_is_served_only_to_the_display(client: Client, room: Room) -> None:
    assert (await client.get("/api/v1/pairing")).status == 401
    await join(client, room)
    assert (await client.get("/api/v1/pairing")).status == 403
    assert (await client.get("/api/v1/pairing/qr.svg")).status == 403
    page = await (await client.get("/display")).text()
    assert room.pairing_info().code not in page
    resp = await client.get("/api/v1/pairing", headers=DISPLAY)
    assert (await resp.json())["code"] == room.pairing_info().code
    svg = await client.get("/api/v1/pairing/qr.svg", headers=DISPLAY)
    assert svg.content_type == "image/svg+xml"


async def test_loopback_kiosk_is_the_display_by_default(
    aiohttp_client: Any, make_room: Any
) -> None:
    from roomctl.http.app import make_app

    room = make_room(web={"display_hosts": ["127.0.0.1", "::1"]})
    client = await aiohttp_client(make_app(room))
    assert (await client.get("/api/v1/pairing")).status == 200


async def test_reload_keeps_the_session(client: Client, room: Room) -> None:
    await join(client, room)
    page = await client.get("/room", allow_redirects=False)
    assert page.status == 200
    assert "Aino" in await page.text()
    assert (await client.get("/", allow_redirects=False)).status == 303


async def test_locked_room_refuses_joins(client: Client, room: Room) -> None:
    room.set_locked(True)
    resp = await client.post(
        "/api/v1/join", json={"code": room.pairing_info().code, "name": "Late"}
    )
    assert resp.status == 403
    assert (await resp.json())["error"] == "locked"


async def test_end_lesson_ends_every_session(client: Client, room: Room) -> None:
    await join(client, room)
    room.end_lesson()
    assert (await client.get("/api/v1/me")).status == 401
    assert room.snapshot()["participants"]["total"] == 0


async def test_logout_ends_the_session_on_the_server_too(client: Client, room: Room) -> None:
    await join(client, room)
    value = client.session.cookie_jar.filter_cookies(client.make_url("/"))[COOKIE_NAME].value
    assert (await client.post("/api/v1/logout", json={})).status == 200
    client.session.cookie_jar.update_cookies({COOKIE_NAME: value})  # a copy of the old cookie
    assert (await client.get("/api/v1/me")).status == 401
