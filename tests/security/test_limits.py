"""Guessing limits that many addresses cannot bypass: the teacher PIN and caretaker password."""

from __future__ import annotations

from typing import Any

from aiohttp import TCPConnector
from aiohttp.test_utils import TestClient

from roomctl.room import Room


async def from_address(client: TestClient[Any, Any], last_octet: int) -> TestClient[Any, Any]:
    """Another client of the same server, connecting from 127.0.0.<last_octet>."""
    other: TestClient[Any, Any] = TestClient(
        client.server, connector=TCPConnector(local_addr=(f"127.0.0.{last_octet}", 0))
    )
    await other.start_server()
    return other


async def guesses(
    client: TestClient[Any, Any], room: Room, path: str, field: str, rounds: int
) -> list[int]:
    """Statuses of wrong guesses made from ``rounds`` addresses, five each (the per-address cap)."""
    statuses = []
    for octet in range(2, 2 + rounds):
        other = await from_address(client, octet)
        resp = await other.post(
            "/api/v1/join", json={"code": room.pairing_info().code, "name": "x"}
        )
        assert resp.status == 200
        for n in range(5):
            resp = await other.post(path, json={field: f"99{octet:03d}{n}"})
            statuses.append(resp.status)
        await other.session.close()  # not other.close(): that stops the shared server
    return statuses


async def test_pin_guesses_from_many_addresses_hit_a_room_limit(
    client: TestClient[Any, Any], room: Room
) -> None:
    room.secret_limiter.limit = 8  # patched down for speed; the real cap is larger
    statuses = await guesses(client, room, "/api/v1/presenter", "pin", 3)
    assert statuses.count(403) == 8, statuses
    assert statuses[8:] == [429] * 7


async def test_password_guesses_from_many_addresses_hit_a_room_limit(
    client: TestClient[Any, Any], room: Room
) -> None:
    room.secret_limiter.limit = 6
    statuses = await guesses(client, room, "/api/v1/login", "password", 2)
    assert statuses.count(403) == 6, statuses
    assert 429 in statuses
