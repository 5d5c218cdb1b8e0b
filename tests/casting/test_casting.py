"""The cast state in the room core: expiry, lost sharers, display readiness, events."""

from __future__ import annotations

import time
from typing import Any

import pytest

from roomctl.casting import Casting, CastRefused
from roomctl.config.loader import parse_config
from roomctl.core.bus import EventBus
from roomctl.core.events import CastSessionEnded, CastSessionStarted
from roomctl.core.warnings import WarningsRegistry
from roomctl.room import Room
from tests.casting.conftest import cast_config
from tests.support.real import async_wait_for


class FakeProjector:
    """Fake at the DeviceHandle seam (the coordinator has its own tests): counts make_ready."""

    device_id = "projector"
    role = "main_display"

    def __init__(self) -> None:
        self.ready_calls = 0

    def snapshot(self) -> dict[str, Any]:
        return {}

    async def command(self, name: str, **args: Any) -> None:
        return None

    async def make_ready(self) -> dict[str, Any]:
        self.ready_calls += 1
        return {"warming_s": 23}


class Clock:
    def __init__(self) -> None:
        self.t = 1_800_000_000.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def casting(clock: Clock) -> Any:
    config = parse_config(cast_config(cast={"request_timeout_s": 30}))
    room = Room(config, EventBus(), WarningsRegistry())
    cast = Casting(config, room, clock=clock)
    await cast.start()
    yield cast
    await cast.stop()


async def test_first_share_makes_the_display_ready_and_reports_warm_up(casting: Casting) -> None:
    projector = FakeProjector()
    casting.room.add_device(projector)
    with casting.room.bus.subscribe(CastSessionStarted, CastSessionEnded) as events:
        first = casting.request("p1", "Opettaja", "presenter")
        await async_wait_for(lambda: casting.warming_s() > 20, 2, "warm-up time")
        second = casting.request("p2", "Aino", "participant")
        casting.approve(second.share_id)
        assert projector.ready_calls == 1
        assert casting.room.snapshot()["casting"]["warming_s"] in (22, 23)
        casting.stop_all()
        seen = [events.get_nowait() for _ in range(4)]
    started = [e for e in seen if isinstance(e, CastSessionStarted)]
    ended = [e for e in seen if isinstance(e, CastSessionEnded)]
    assert [e.sources for e in started] == [1, 2]
    assert {e.session_id for e in ended} == {first.share_id, second.share_id}
    assert all(e.max_sources == 2 for e in ended)


async def test_requests_expire_and_a_withdrawn_request_is_gone(
    casting: Casting, clock: Clock
) -> None:
    a = casting.request("p1", "Aino", "participant")
    b = casting.request("p2", "Eero", "participant")
    casting.withdraw("p2")
    assert b.share_id not in casting.shares
    clock.t += 31
    casting.tick()
    assert a.share_id not in casting.shares
    with pytest.raises(CastRefused):
        casting.approve(a.share_id)


async def test_a_silent_sharer_disappears_within_seconds(
    casting: Casting, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(Casting, "LIVENESS_S", 0.2)
    share = casting.request("p1", "Opettaja", "presenter")
    casting.touch(share.share_id)
    start = time.monotonic()
    await async_wait_for(lambda: share.share_id not in casting.shares, 3, "share to drop")
    assert time.monotonic() - start < 1.5


async def test_layout_picks_tiles_and_main(casting: Casting) -> None:
    ids = [casting.request(f"p{i}", f"N{i}", "presenter").share_id for i in range(3)]
    assert casting.tiles() == 3 and casting.tile_limit() == (960, 540)
    casting.set_layout(1, ids[2], True)
    assert [s.share_id for s in casting.on_display()] == [ids[2]]
    assert casting.tile_limit() is None
    casting.stop_share(ids[2])
    assert casting.layout.main is None
    with pytest.raises(CastRefused):
        casting.set_layout(2, "nope", True)
