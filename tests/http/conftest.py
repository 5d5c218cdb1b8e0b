"""The real app factory behind aiohttp's test client, with a controllable clock."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from roomctl.config.loader import parse_config
from roomctl.core.bus import EventBus
from roomctl.core.warnings import WarningsRegistry
from roomctl.http.app import make_app
from roomctl.room import Room
from tests.support.appliance import CARETAKER_PASSWORD, TEACHER_PIN, _hash

ClientFactory = Callable[..., Awaitable[TestClient[Any, Any]]]


class Clock:
    """A settable wall clock for pairing windows."""

    def __init__(self) -> None:
        self.t = 1_800_000_000.0

    def __call__(self) -> float:
        return self.t


def room_config(**overrides: Any) -> dict[str, Any]:
    """A config mapping for tests; the aiohttp test client connects from 127.0.0.1."""
    cfg: dict[str, Any] = {
        "room": {"id": "H101", "name": "HTTP test room", "language": "en"},
        "roles": {
            "teacher_pin_hash": _hash(TEACHER_PIN),
            "caretaker_password_hash": _hash(CARETAKER_PASSWORD),
        },
        "web": {"display_hosts": [], "display_keys": ["display-key-for-tests"]},
        "links": [{"title": "ViLLE", "url": "https://ville.utu.fi/"}],
    }
    for key, value in overrides.items():
        cfg[key] = {**cfg.get(key, {}), **value} if isinstance(value, dict) else value
    return cfg


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def make_room(clock: Clock) -> Callable[..., Room]:
    def make(**overrides: Any) -> Room:
        cfg = parse_config(room_config(**overrides))
        return Room(cfg, EventBus(), WarningsRegistry(), secret=b"k" * 32, clock=clock)

    return make


@pytest.fixture
def room(make_room: Callable[..., Room]) -> Room:
    return make_room()


@pytest.fixture
async def client(aiohttp_client: ClientFactory, room: Room) -> TestClient[Any, Any]:
    return await aiohttp_client(make_app(room))


DISPLAY = {"X-Roomctl-Display-Key": "display-key-for-tests"}


async def join(client: TestClient[Any, Any], room: Room, name: str = "Aino") -> dict[str, Any]:
    """Join with the current code; the client keeps the session cookie."""
    resp = await client.post("/api/v1/join", json={"code": room.pairing_info().code, "name": name})
    assert resp.status == 200, await resp.text()
    data: dict[str, Any] = await resp.json()
    return data
