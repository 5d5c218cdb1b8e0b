"""One real app (make_app + the casting service) and several clients with their own sessions."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from aiohttp import ClientWebSocketResponse, WSMsgType
from aiohttp.test_utils import TestClient, TestServer

from roomctl.casting import Casting
from roomctl.config.loader import parse_config
from roomctl.core.bus import EventBus
from roomctl.core.warnings import WarningsRegistry
from roomctl.http.app import make_app
from roomctl.room import Room
from tests.support.appliance import CARETAKER_PASSWORD, TEACHER_PIN, _hash

DISPLAY_KEY = "display-key-for-cast-tests"
DISPLAY = {"X-Roomctl-Display-Key": DISPLAY_KEY}


def cast_config(**overrides: Any) -> dict[str, Any]:
    """A config mapping; the test client connects from 127.0.0.1, which is not the display."""
    cfg: dict[str, Any] = {
        "room": {"id": "C101", "name": "Cast test room", "language": "en"},
        "roles": {
            "teacher_pin_hash": _hash(TEACHER_PIN),
            "caretaker_password_hash": _hash(CARETAKER_PASSWORD),
        },
        "web": {"display_hosts": [], "display_keys": [DISPLAY_KEY]},
    }
    cfg.update(overrides)
    return cfg


class Peer:
    """One browser-like client: its own cookie jar and one WebSocket."""

    def __init__(self, client: TestClient[Any, Any], ws: ClientWebSocketResponse) -> None:
        self.client = client
        self.ws = ws
        self.seen: list[dict[str, Any]] = []

    async def send(self, **msg: Any) -> None:
        await self.ws.send_str(json.dumps(msg))

    async def expect(
        self, pred: Callable[[dict[str, Any]], bool], timeout: float = 3.0
    ) -> dict[str, Any]:
        """The first message (already seen or new) matching ``pred``."""
        for i, msg in enumerate(self.seen):
            if pred(msg):
                return self.seen.pop(i)
        async with asyncio.timeout(timeout):
            while True:
                raw = await self.ws.receive()
                if raw.type != WSMsgType.TEXT:
                    raise AssertionError(f"socket closed: {raw}")
                msg = json.loads(raw.data)
                if pred(msg):
                    return msg
                self.seen.append(msg)

    async def expect_type(self, kind: str, **fields: Any) -> dict[str, Any]:
        return await self.expect(
            lambda m: m.get("type") == kind and all(m.get(k) == v for k, v in fields.items())
        )

    async def quiet(self, kind: str, seconds: float = 0.3) -> None:
        """Assert no message of ``kind`` arrives within ``seconds`` (a refusal relays nothing)."""
        try:
            msg = await self.expect(lambda m: m.get("type") == kind, timeout=seconds)
        except TimeoutError:
            return
        raise AssertionError(f"unexpected {msg}")

    async def snapshot(self, pred: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        return await self.expect(lambda m: m.get("type") == "snapshot" and pred(m))


class CastRoom:
    """The app under test and a way to open peers."""

    def __init__(self, room: Room, casting: Casting, server: TestServer) -> None:
        self.room = room
        self.casting = casting
        self.server = server
        self.clients: list[TestClient[Any, Any]] = []
        self.peers: list[Peer] = []

    async def _client(self) -> TestClient[Any, Any]:
        client: TestClient[Any, Any] = TestClient(self.server)
        await client.start_server()
        self.clients.append(client)
        return client

    async def peer(self, name: str, *, teacher: bool = False, page: str = "sender") -> Peer:
        client = await self._client()
        resp = await client.post(
            "/api/v1/join", json={"code": self.room.pairing_info().code, "name": name}
        )
        assert resp.status == 200, await resp.text()
        if teacher:
            resp = await client.post("/api/v1/presenter", json={"pin": TEACHER_PIN})
            assert resp.status == 200, await resp.text()
        peer = Peer(client, await client.ws_connect("/api/v1/ws"))
        self.peers.append(peer)
        await peer.send(type="cast.hello", page=page)
        return peer

    async def display(self) -> Peer:
        client = await self._client()
        peer = Peer(client, await client.ws_connect("/api/v1/ws", headers=DISPLAY))
        self.peers.append(peer)
        await peer.send(type="cast.hello", page="display")
        return peer

    async def close(self) -> None:
        for peer in self.peers:
            await peer.ws.close()
        for client in self.clients:
            await client.close()


@pytest.fixture
async def cast_room() -> AsyncIterator[CastRoom]:
    config = parse_config(cast_config())
    room = Room(config, EventBus(), WarningsRegistry(), secret=b"c" * 32)
    casting = Casting(config, room)
    await room.start()
    await casting.start()
    app = make_app(room, extra=casting.route_tables())
    casting.attach(app)
    server = TestServer(app)
    await server.start_server()
    cr = CastRoom(room, casting, server)
    yield cr
    await cr.close()
    await server.close()
    await casting.stop()
    await room.stop()
