"""Ending the lesson ends every session, including the WebSockets they opened."""

from __future__ import annotations

import asyncio

from aiohttp import WSMsgType

from tests.casting.conftest import CastRoom, Peer


async def closed(peer: Peer, timeout: float = 3.0) -> bool:
    """Whether the peer's socket closes within ``timeout`` (messages before that are skipped)."""
    async with asyncio.timeout(timeout):
        while True:
            msg = await peer.ws.receive()
            if msg.type in (WSMsgType.CLOSE, WSMsgType.CLOSED, WSMsgType.CLOSING):
                return True


async def test_end_lesson_closes_the_sockets_of_ended_sessions(cast_room: CastRoom) -> None:
    teacher = await cast_room.peer("Opettaja", teacher=True, page="panel")
    student = await cast_room.peer("Eero")
    display = await cast_room.display()
    resp = await teacher.client.post("/api/v1/room/end-lesson")
    assert resp.status == 200
    assert await closed(student)
    assert await closed(teacher)
    # the ended student can no longer ask to share, so the next teacher never sees the name
    assert not cast_room.casting.shares
    await display.send(type="heartbeat")
    await display.expect_type("heartbeat_ack")  # the display has no session: it stays


async def test_an_ended_socket_cannot_act_before_the_next_broadcast(cast_room: CastRoom) -> None:
    student = await cast_room.peer("Eero")
    cast_room.room.sessions.generation += 1  # what end_lesson does, without its broadcast
    await student.send(type="cast.request", kind="screen", preset="slides", audio=False)
    assert await closed(student)
    assert not cast_room.casting.shares
