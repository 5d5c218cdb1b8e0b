"""The outbox on a bad disk: a corrupt SQLite file, a path SQLite cannot open."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest

from roomctl.core.errors import RoomctlError
from roomctl.telemetry.outbox import Outbox, Row
from tests.support.real import async_wait_for

ROOM = "rc-0000r203"


def _box(path: Path) -> Outbox:
    return Outbox(path, max_events=100, max_age_s=86400.0)


def test_a_corrupt_outbox_is_moved_aside_and_replaced(tmp_path: Path) -> None:
    path = tmp_path / "outbox.sqlite3"
    path.write_bytes(b"not a database " * 500)
    box = _box(path)
    box.open()
    box.add([Row("e1", "t", b"{}", time.time())])
    assert box.depth == 1 and box.moved_aside is not None
    assert box.moved_aside.read_bytes().startswith(b"not a database")
    box.close()


def test_an_unopenable_outbox_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "outbox.sqlite3"
    path.mkdir()  # as root a read-only directory is still writable; this fails the same way
    with pytest.raises(RoomctlError, match=str(path)) as caught:
        _box(path).open()
    assert isinstance(caught.value.__context__, sqlite3.OperationalError)
    assert path.is_dir()  # never deleted or moved: it is not ours to judge


async def test_telemetry_runs_on_after_a_corrupt_outbox(
    mosquitto: Any, appliance_factory: Any, tmp_path: Path
) -> None:
    state = tmp_path / "state"
    (state / "telemetry").mkdir(parents=True)
    (state / "telemetry" / "outbox.sqlite3").write_bytes(b"\xff" * 8192)
    app = await appliance_factory(mosquitto.url, state_dir=state, device_id=ROOM)
    await async_wait_for(lambda: app.service.connected, 10, "connected despite the bad file")
    assert [w.key for w in app.room.warnings.all()] == ["telemetry.outbox_corrupt"]
    assert await app.service.drain(5.0)  # the boot event went out through the fresh outbox
