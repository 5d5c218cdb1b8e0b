"""The teacher's AirPlay switch on /control, through the real app and the UxPlay stand-in."""

from __future__ import annotations

from typing import Any

from roomctl.airplay import Airplay
from roomctl.config.loader import parse_config
from roomctl.core.bus import EventBus
from roomctl.core.warnings import WarningsRegistry
from roomctl.http.app import make_app
from roomctl.room import Room
from tests.airplay.test_airplay import STANDIN, StandIn, standin  # noqa: F401  (fixture)
from tests.http.conftest import join, room_config
from tests.support.appliance import TEACHER_PIN
from tests.support.real import async_wait_for


async def test_teacher_allows_airplay_for_the_lesson_and_ends_it(
    aiohttp_client: Any,
    standin: StandIn,  # noqa: F811  (the fixture imported above)
) -> None:
    cfg = parse_config(room_config(airplay={"enabled": True, "binary": str(STANDIN)}))
    room = Room(cfg, EventBus(), WarningsRegistry())
    supervisor = Airplay(cfg, room)
    room.hooks["airplay_enable"] = supervisor.enable
    room.hooks["airplay_disable"] = supervisor.disable
    await supervisor.start()
    try:
        student = await aiohttp_client(make_app(room))
        await join(student, room, "Student")
        assert (await student.post("/api/v1/airplay", json={"enabled": True})).status == 403
        teacher = await aiohttp_client(make_app(room))
        await join(teacher, room, "Teacher")
        await teacher.post("/api/v1/presenter", json={"pin": TEACHER_PIN})
        resp = await teacher.post("/api/v1/airplay", json={"enabled": True, "minutes": 30})
        assert resp.status == 200
        assert (await resp.json())["active"] is True
        await async_wait_for(lambda: len(standin.launches()) == 1, 5, "UxPlay started")
        assert room.snapshot()["airplay"]["until"] is not None
        resp = await teacher.post("/api/v1/airplay", json={"enabled": False})
        assert (await resp.json())["active"] is False
        assert room.snapshot()["airplay"]["running"] is False
    finally:
        await supervisor.stop()
