"""Hostile input: deeply nested JSON over HTTP and the WebSocket gets a rejection, not a 500."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import WSMsgType
from aiohttp.test_utils import TestClient

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
