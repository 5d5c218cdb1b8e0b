"""Hostile input: deeply nested JSON gets a rejection, not a 500; sockets per session are capped."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
import pytest
from aiohttp import WSMsgType
from aiohttp.test_utils import TestClient

from roomctl.http import ws as ws_module
from roomctl.room import Room
from tests.http.conftest import DISPLAY

DEEP = "[" * 30_000 + "]" * 30_000  # inside the 64 KiB body and message limits


async def test_deeply_nested_json_body_is_a_400(client: TestClient[Any, Any]) -> None:
    resp = await client.post(
        "/api/v1/join", data=DEEP, headers={"Content-Type": "application/json"}
    )
    assert resp.status == 400, await resp.text()
    assert (await resp.json())["error"] == "malformed_json"


async def test_deeply_nested_ws_message_is_refused_and_socket_stays(
    client: TestClient[Any, Any], room: Room
) -> None:
    ws = await client.ws_connect("/api/v1/ws", headers=DISPLAY)
    assert json.loads((await ws.receive(timeout=5)).data)["type"] == "snapshot"
    await ws.send_str(DEEP)
    reply = await ws.receive(timeout=5)
    assert reply.type == WSMsgType.TEXT, reply
    assert json.loads(reply.data)["error"] == "malformed_json"
    await ws.send_str(json.dumps({"type": "heartbeat"}))
    assert json.loads((await ws.receive(timeout=5)).data)["type"] == "heartbeat_ack"
    await ws.close()


async def test_one_session_cannot_open_sockets_without_end(
    client: TestClient[Any, Any], room: Room, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ws_module, "PER_SESSION", 3)  # patched down for speed
    code = room.pairing_info().code
    assert (await client.post("/api/v1/join", json={"code": code, "name": "Eero"})).status == 200
    sockets = [await client.ws_connect("/api/v1/ws") for _ in range(3)]
    for _ in range(20):
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await client.ws_connect("/api/v1/ws")
        assert refused.value.status == 429
    await sockets[0].close()
    again = await wait_open(client)  # a closed tab frees its place
    for ws in (*sockets[1:], again):
        await ws.send_str(json.dumps({"type": "heartbeat"}))
        assert json.loads((await ws.receive(timeout=5)).data)["type"] in (
            "snapshot",
            "heartbeat_ack",
        )
        await ws.close()


async def wait_open(client: TestClient[Any, Any]) -> aiohttp.ClientWebSocketResponse:
    """A new socket, once the server has noticed a closed one."""
    async with asyncio.timeout(5):
        while True:
            try:
                return await client.ws_connect("/api/v1/ws")
            except aiohttp.WSServerHandshakeError:
                await asyncio.sleep(0.05)
