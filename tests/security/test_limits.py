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


def test_one_ipv6_slash_64_is_one_client_for_the_limits() -> None:
    from roomctl.http.api import client_key

    # a laptop's SLAAC privacy addresses come and go inside its /64: one key for all of them
    assert client_key("2001:db8:1:2::5") == client_key("2001:db8:1:2:aaaa:bbbb:cccc:9")
    assert client_key("2001:db8:1:2::5") == "2001:db8:1:2::/64"
    assert client_key("2001:db8:1:3::5") != client_key("2001:db8:1:2::5")
    assert client_key("fe80::1%eth0") == "fe80::/64"
    assert client_key("::ffff:10.1.2.3") == "10.1.2.3" == client_key("10.1.2.3")
    assert client_key("unknown") == "unknown"
