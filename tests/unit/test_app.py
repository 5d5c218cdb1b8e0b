"""The assembled appliance: services wired together in one process (no HTTP client needed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from roomctl.app import Appliance
from roomctl.casting import Casting
from roomctl.config.loader import parse_config
from roomctl.core.errors import ConfigError
from roomctl.emulators.pjlink import Emulator, ProjectorModel
from tests.support.appliance import base_config
from tests.support.real import async_wait_for, free_port


def config(tmp_path: Path, **sections: Any) -> Any:
    return parse_config(base_config(tmp_path / "state", free_port(), **sections))


async def test_first_share_runs_the_lesson_scene_and_wakes_the_projector(tmp_path: Path) -> None:
    async with Emulator(ProjectorModel(warmup_s=0.2, cooldown_s=0.2)) as emu:
        devices = [{"id": "projector", "type": "pjlink", "host": "127.0.0.1", "port": emu.port,
                    "role": "main_display", "input": "HDMI 2", "poll_s": 1}]  # fmt: skip
        scenes = {"lesson": [{"device": "projector", "command": "mute", "on": True}]}
        app = Appliance(config(tmp_path, devices=devices, scenes=scenes))
        await app.start()
        try:
            assert app.warnings.all() == []
            casting = next(s for s in app.services if isinstance(s, Casting))
            await async_wait_for(
                lambda: app.room and app.room.devices["projector"].snapshot()["available"], 5
            )
            casting.request("peer-1", "Opettaja", "presenter")
            await async_wait_for(lambda: emu.model.power_target == "1", 5, "projector powered on")
            await async_wait_for(lambda: emu.model.audio_mute, 5, "the lesson scene ran")
            await async_wait_for(lambda: emu.model.input == "32", 5, "HDMI 2 selected")
            assert app.room is not None and app.room.mode() == "casting"
        finally:
            await app.stop()


async def test_missing_certificate_names_the_key(tmp_path: Path) -> None:
    app = Appliance(
        config(tmp_path, web={"tls_cert": "/nope/cert.pem", "tls_key": "/nope/key.pem"})
    )
    with pytest.raises(ConfigError) as info:
        await app.start()
    await app.stop()
    assert info.value.issues[0].path == "web.tls_cert"
    assert "/nope/cert.pem" in str(info.value)


async def test_the_room_secret_is_made_once_with_mode_0600(tmp_path: Path) -> None:
    for _ in range(2):
        app = Appliance(config(tmp_path))
        await app.start()
        await app.stop()
    secret = tmp_path / "state" / "room_secret"
    assert secret.stat().st_mode & 0o777 == 0o600
    assert len(secret.read_bytes()) == 32
    assert (tmp_path / "state" / "device_id").read_text().startswith("rc-")


async def test_an_ended_lesson_stays_ended_after_a_restart(tmp_path: Path) -> None:
    cfg = config(tmp_path)
    app = Appliance(cfg)
    await app.start()
    assert app.room is not None
    old_code = app.room.pairing_info().code
    session = app.room.join(name="Aino", client="c", code=old_code)
    cookie = app.room.sessions.encode(session)
    app.room.end_lesson()
    await app.stop()
    again = Appliance(cfg)
    await again.start()
    try:
        assert again.room is not None
        assert again.room.sessions.decode(cookie) is None  # the ended session does not come back
        assert again.room.pairing.check_code(old_code).value != "ok"  # nor the rotated-away code
    finally:
        await again.stop()


@pytest.mark.parametrize(
    "content",
    [b"{not json", b"\xff\xfe", b"[]", b"[1, 2]", b'{"epoch": "x", "revoked": [1]}'],
)
async def test_a_damaged_room_state_is_set_aside_and_brings_back_no_session(
    tmp_path: Path, content: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    cfg = config(tmp_path)
    app = Appliance(cfg)
    await app.start()
    assert app.room is not None
    session = app.room.join(name="Aino", client="c", code=app.room.pairing_info().code)
    cookie = app.room.sessions.encode(session)
    app.room.end_lesson()  # writes room.json; its damage must not undo this
    await app.stop()
    state = tmp_path / "state"
    (state / "room.json").write_bytes(content)
    again = Appliance(cfg)
    await again.start()  # starts, instead of a traceback
    try:
        assert again.room is not None
        assert again.room.sessions.decode(cookie) is None
        kept = list(state.glob("room.json.bad-*"))
        assert len(kept) == 1 and kept[0].read_bytes() == content  # kept for a person
        assert "room.json unusable" in caplog.text
    finally:
        await again.stop()


async def test_a_short_room_secret_is_replaced_not_used(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    state = tmp_path / "state"
    state.mkdir(mode=0o700)
    (state / "room_secret").write_bytes(b"short")
    app = Appliance(config(tmp_path))
    await app.start()
    await app.stop()
    assert len((state / "room_secret").read_bytes()) == 32
    assert [p.read_bytes() for p in state.glob("room_secret.bad-*")] == [b"short"]
    assert "too short to sign with" in caplog.text


async def test_a_damaged_device_id_keeps_the_room_running_without_telemetry(
    tmp_path: Path,
) -> None:
    state = tmp_path / "state"
    state.mkdir(mode=0o700)
    (state / "device_id").write_bytes(b"\xff\xfe not an id\n")
    cfg = config(tmp_path, mqtt={"url": f"mqtt://127.0.0.1:{free_port()}"})
    app = Appliance(cfg)
    await app.start()  # the room serves; only telemetry needs the identity
    try:
        assert app.room is not None
        assert app.room.join(name="Aino", client="c", code=app.room.pairing_info().code)
        texts = " ".join(str(w) for w in app.warnings.all())
        assert str(state / "device_id") in texts and "mqtt.device_id" in texts
        assert "TelemetryService" not in {type(s).__name__ for s in app.services}
    finally:
        await app.stop()
    assert (state / "device_id").read_bytes() == b"\xff\xfe not an id\n"  # left for a person
