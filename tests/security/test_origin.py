"""Another origin of the same site (a sibling room, a school web page) cannot act or listen.

Browsers send SameSite=Strict cookies to any origin of the same site, so a page on
``evil.koulu.example`` posting to ``a101.koulu.example`` carries the teacher's cookie and an
``Origin`` header naming itself: that header is what the appliance must refuse.
"""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient

from roomctl.room import Room
from tests.http.conftest import join
from tests.support.appliance import TEACHER_PIN

EVIL = {"Origin": "http://evil.koulu.example"}


async def teacher(client: TestClient[Any, Any], room: Room) -> None:
    await join(client, room, "Opettaja")
    resp = await client.post("/api/v1/presenter", json={"pin": TEACHER_PIN})
    assert resp.status == 200


async def test_post_from_another_origin_is_refused(
    client: TestClient[Any, Any], room: Room
) -> None:
    await teacher(client, room)
    for path, body in (("/api/v1/room/lock", {"locked": True}), ("/api/v1/room/end-lesson", None)):
        resp = await client.post(path, json=body, headers=EVIL)
        assert resp.status == 403, (path, resp.status)
        assert (await resp.json())["error"] == "cross_origin"
    assert not room.state.locked and room.sessions.generation == 0
    own = {"Origin": str(client.make_url("")).rstrip("/")}
    resp = await client.post("/api/v1/room/lock", json={"locked": True}, headers=own)
    assert resp.status == 200 and room.state.locked  # the appliance's own pages still work


async def test_websocket_from_another_origin_is_refused(
    client: TestClient[Any, Any], room: Room
) -> None:
    await teacher(client, room)
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await client.ws_connect("/api/v1/ws", headers=EVIL)  # would hear every name
    assert refused.value.status == 403
    ws = await client.ws_connect("/api/v1/ws", origin=str(client.make_url("")).rstrip("/"))
    assert (await ws.receive_json(timeout=5))["participants"][0]["name"] == "Opettaja"
    await ws.close()
