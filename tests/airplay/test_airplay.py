"""AirPlay supervision: the teacher's switch, bounded time, restart with backoff, sources and PIN.

Behaviour the real UxPlay 1.62 cannot show here (a PIN-capable release, a crash on cue) uses
``standin_uxplay.py``, a stand-in executable at the process seam. ``test_real_uxplay.py`` runs
the real binary.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from roomctl import airplay
from roomctl.airplay import Airplay, Connections, parse_help, parse_line
from roomctl.config.model import Config
from roomctl.config.schema import parse
from roomctl.core.bus import EventBus
from roomctl.core.errors import CommandRejected
from roomctl.core.events import CastSessionEnded, CastSessionStarted
from roomctl.core.warnings import WarningsRegistry
from roomctl.room import Room
from tests.support.real import async_wait_for

STANDIN = Path(__file__).with_name("standin_uxplay.py")


def make_room(binary: str, **airplay_cfg: Any) -> Room:
    """A real Room whose config enables AirPlay with ``binary``."""
    config = parse(Config, {"room": {"id": "A101", "name": "A101 Physics"},
                            "airplay": {"enabled": True, "binary": binary, **airplay_cfg}})
    return Room(config, EventBus(), WarningsRegistry())


class StandIn:
    """Drives the stand-in: its control FIFO and the record of its launches."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        os.mkfifo(workdir / "ctl")
        # O_RDWR: never blocks, and the stand-in never sees end-of-file while we hold it
        self.fd = os.open(workdir / "ctl", os.O_RDWR)

    def say(self, line: str) -> None:
        """Make the running stand-in print ``line`` (or exit, with ``exit N``)."""
        os.write(self.fd, (line + "\n").encode())

    def launches(self) -> list[dict[str, Any]]:
        """Every start of the stand-in so far."""
        path = self.workdir / "launches"
        return [json.loads(x) for x in path.read_text().splitlines()] if path.exists() else []


def alive(pid: int) -> bool:
    """Whether ``pid`` still runs (zombies of our own children count as gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ")[1][0] != "Z"
    except (FileNotFoundError, IndexError):
        return False


@pytest.fixture
def standin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[StandIn]:
    monkeypatch.setenv("STANDIN_DIR", str(tmp_path))
    monkeypatch.setattr(airplay, "BACKOFF_S", (0.05, 0.1, 0.2))
    monkeypatch.setattr(airplay, "STOP_GRACE_S", 2.0)
    ctl = StandIn(tmp_path)
    yield ctl
    os.close(ctl.fd)


def test_abilities_from_help_text() -> None:
    old = parse_help("UxPlay 1.62: An open-source AirPlay\n-n name   x\n-nohold   y\n")
    assert (old.version, old.pin, old.password, old.allow_lists) == ("1.62", False, False, False)
    new = parse_help("UxPlay 1.72\n-pin[xxxx]Use\n-pw [pwd] R\n-restrict R\n-allow id\n-block id\n")
    assert (new.version, new.pin, new.password, new.allow_lists) == ("1.72", True, True, True)
    assert parse_help("garbage \x00\xff") == airplay.Abilities()


def test_connections_follow_output_lines() -> None:
    state = Connections()
    for line in ("Accepted IPv4 client on socket 17", "GET /info RTSP/1.0"):
        if seen := parse_line(line):
            state.apply(seen)
    assert state.sockets == {17} and not state.source_active  # a menu peeking at /info
    for line in ('*** CLIENT MUST NOW ENTER PIN = "0417" AS AIRPLAY PASSWORD',
                 "Handling request SETUP with URL rtsp://10.0.0.5/123"):
        state.apply(parse_line(line) or airplay.Observation())
    assert state.source_active and state.pin == "0417"
    state.apply(parse_line("Connection closed for socket 17") or airplay.Observation())
    assert not state.source_active and state.pin is None and not state.setup
    assert parse_line("Open connections: 0") == airplay.Observation(connections=0)
    assert parse_line("\udcff random noise") is None


async def test_a_hung_probe_is_killed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(airplay, "PROBE_TIMEOUT_S", 0.2)
    hung = tmp_path / "uxplay"
    hung.write_text(f"#!/bin/sh\necho $$ > {tmp_path}/pid\nexec sleep 60\n")
    hung.chmod(0o755)
    assert await airplay.probe(str(hung)) == airplay.Abilities()
    assert not alive(int((tmp_path / "pid").read_text()))


async def test_missing_binary_is_a_warning_and_refuses_enable(tmp_path: Path) -> None:
    room = make_room(str(tmp_path / "no-uxplay"))
    service = Airplay(room.config, room)
    await service.start()
    assert [w.key for w in room.warnings.all()] == ["airplay.missing"]
    assert room.snapshot()["airplay"]["available"] is False
    with pytest.raises(CommandRejected):
        await service.enable(10)
    await service.stop()


async def test_without_pin_off_until_the_teacher_switches_it_on(standin: StandIn) -> None:
    room = make_room(str(STANDIN), extra_args=["-vs", "0"])
    service = Airplay(room.config, room)
    await service.start()
    assert not service.abilities.pin and standin.launches() == []
    assert room.snapshot()["airplay"]["active"] is False
    with pytest.raises(CommandRejected):
        await service.enable(0)
    status = await service.enable(20)
    assert status["active"] and status["until"] is not None
    await async_wait_for(lambda: service.running and standin.launches(), 10, "uxplay to start")
    (launch,) = standin.launches()
    assert launch["argv"] == ["-n", "A101 Physics", "-nh", "-d", "-vs", "0"]
    status = await service.disable()
    assert not status["active"] and not status["running"] and not alive(launch["pid"])
    await service.stop()


async def test_session_time_is_bounded(standin: StandIn) -> None:
    room = make_room(str(STANDIN))
    service = Airplay(room.config, room)
    await service.start()
    await service.enable(0.02)  # 1.2 s
    await async_wait_for(standin.launches, 10, "uxplay to start")
    pid = standin.launches()[0]["pid"]
    await async_wait_for(lambda: not service.active and not alive(pid), 10, "the switch to end")
    assert room.snapshot()["airplay"]["until"] is None
    await service.stop()


async def test_restarts_with_backoff_when_it_dies(standin: StandIn) -> None:
    room = make_room(str(STANDIN))
    service = Airplay(room.config, room)
    await service.start()
    await service.enable(20)
    await async_wait_for(lambda: service.running and standin.launches(), 10, "uxplay to start")
    standin.say("exit 3")
    await async_wait_for(lambda: len(standin.launches()) == 2 and service.running, 10,
                         "uxplay to be restarted")
    standin.say("exit 1")
    await async_wait_for(lambda: len(standin.launches()) == 3, 10, "a second restart")
    assert service.status()["restarts"] == 2
    await service.stop()
    assert not any(alive(x["pid"]) for x in standin.launches())


async def test_pin_release_runs_at_once_and_reports_pin_and_source(
        standin: StandIn, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STANDIN_RELEASE", "new")
    room = make_room(str(STANDIN))
    events = room.bus.subscribe(CastSessionStarted, CastSessionEnded)
    service = Airplay(room.config, room)
    await service.start()
    assert service.abilities.pin and service.active and service.until is None
    await async_wait_for(lambda: service.running and standin.launches(), 10, "uxplay to start")
    assert "-pin" in standin.launches()[0]["argv"]
    standin.say("Accepted IPv4 client on socket 17")
    standin.say('*** CLIENT MUST NOW ENTER PIN = "0417" AS AIRPLAY PASSWORD')
    await async_wait_for(lambda: room.snapshot()["airplay"]["pin"] == "0417", 10, "the PIN")
    standin.say("Handling request SETUP with URL rtsp://127.0.0.1/42")
    await async_wait_for(lambda: room.snapshot()["airplay"]["source_active"], 10, "a source")
    started = events.get_nowait()
    assert isinstance(started, CastSessionStarted) and started.kind == "airplay"
    standin.say("Connection closed for socket 17")
    await async_wait_for(lambda: not room.snapshot()["airplay"]["source_active"], 10, "the end")
    assert isinstance(events.get_nowait(), CastSessionEnded)
    assert room.snapshot()["airplay"]["pin"] is None
    await service.stop()
