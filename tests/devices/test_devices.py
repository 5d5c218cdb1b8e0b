"""The device layer: bad devices are disabled with a warning while good ones run."""

from __future__ import annotations

from roomctl.config.model import Config, RoomConfig
from roomctl.coordinator import Timing
from roomctl.core.bus import EventBus
from roomctl.core.warnings import WarningsRegistry
from roomctl.devices import DeviceManager, device_id
from roomctl.drivers.base import Power
from roomctl.emulators.pjlink import Emulator, ProjectorModel
from roomctl.room import Room
from tests.support.real import async_wait_for

FAST = Timing(
    poll_s=0.05, busy_poll_s=0.03, backoff_initial_s=0.02, backoff_max_s=0.1, command_timeout_s=2.0
)


def room_with(*devices: dict[str, object]) -> Room:
    config = Config(room=RoomConfig(id="a101"), devices=tuple(devices))
    return Room(config, EventBus(), WarningsRegistry())


async def test_bad_devices_are_disabled_and_the_good_one_runs() -> None:
    async with Emulator(ProjectorModel(warmup_s=0.2, cooldown_s=0.2)) as emu:
        room = room_with(
            {
                "type": "pjlink",
                "host": "127.0.0.1",
                "port": emu.port,
                "input": "HDMI 1",
                "timeout_s": 0.5,
                "warmup_s": 0.2,
            },
            {
                "type": "pjlink",
                "host": "127.0.0.1",
                "port": "4352",
                "pasword": "x",
                "role": "display",
            },
            {"role": "display"},
            {"type": "no-such-vendor/family", "role": "display", "url": "/dev/ttyUSB0"},
            "not a table",
            {"type": "pjlink", "id": "main_display", "host": "127.0.0.1", "role": "display"},
        )
        manager = DeviceManager(room.config, room, file="/etc/roomctl/room.toml", timing=FAST)
        await manager.start()
        try:
            assert list(room.devices) == ["main_display"]
            warnings = {w.source: w for w in room.warnings.all()}
            assert set(warnings) == {
                "devices[1]",
                "devices[2]",
                "devices[3]",
                "devices[4]",
                "devices[5]",
            }
            bad_port = warnings["devices[1]"].message
            assert "room.toml: devices[1].port" in bad_port and "devices[1].pasword" in bad_port
            assert "did you mean 'password'" in bad_port and "device disabled" in bad_port
            assert warnings["devices[1]"].key == "device_disabled"
            assert warnings["devices[1]"].params["config_key"] == "devices[1].port"
            assert "devices[2].type: required key is missing" in warnings["devices[2]"].message
            assert warnings["devices[3]"].message.startswith("devices[3]") or "no-such-vendor" in (
                warnings["devices[3]"].message
            )
            assert "already used" in warnings["devices[5]"].message
            snap = room.snapshot()
            assert len(snap["warnings"]) == 5
            main = room.main_display()
            assert main is not None
            await async_wait_for(lambda: main.snapshot()["available"], 5, "good device polled")
            ready = await room.ensure_display_ready()
            assert ready["power"] in ("warming", "on")
            await async_wait_for(lambda: emu.model.power() == "1" and emu.model.input == "31", 5)
            await room.device_command("main_display", "power", on=False)
            await async_wait_for(
                lambda: (
                    room.snapshot()["devices"]["main_display"]["state"]["power"] == str(Power.OFF)
                ),
                5,
            )
        finally:
            await manager.stop()


def test_device_ids() -> None:
    roles = ["main_display", "plug", "plug"]
    assert device_id({"role": "main_display"}, 0, roles) == "main_display"
    assert device_id({"role": "plug"}, 2, roles) == "plug-2"
    assert device_id({"id": "left", "role": "plug"}, 1, roles) == "left"


def test_check_devices_reports_issues_without_io() -> None:
    from roomctl.devices import check_devices

    config = Config(
        room=RoomConfig(id="a101"),
        devices=({"type": "pjlink", "host": "10.0.0.9"}, {"type": "pjlink", "hots": "x"}),
    )
    issues = check_devices(config, file="room.toml")
    paths = [i.path for i in issues]
    assert "devices[1].hots" in paths and "devices[1].host" in paths
    assert all(not p.startswith("devices[0]") for p in paths)
    assert all(i.file == "room.toml" for i in issues)


async def test_pjlink_notification_triggers_a_poll() -> None:
    import json

    from tests.support.real import free_port

    notify_port = free_port(kind=2)
    async with Emulator(ProjectorModel(), udp_port=0, notify_port=notify_port) as emu:
        room = room_with({"type": "pjlink", "host": "127.0.0.1", "port": emu.port})
        slow = Timing(poll_s=60, busy_poll_s=60, command_timeout_s=2.0)
        manager = DeviceManager(
            room.config, room, timing=slow, notify_bind=("127.0.0.1", notify_port)
        )
        await manager.start()
        try:
            coord = manager.coordinators["main_display"]
            await async_wait_for(lambda: coord.available, 5)
            json.dumps(room.snapshot())  # the whole snapshot is JSON-ready
            emu.set_errors("200000")  # sends %2ERST=200000; the next poll is 60 s away
            await async_wait_for(lambda: coord.state.errors == {"fan": "error"}, 5, "notified")
        finally:
            await manager.stop()


def test_a_profile_device_polls_at_its_profile_interval() -> None:
    room = room_with(
        {"type": "epson/escvp21", "url": "/dev/ttyUSB0"},
        {"type": "epson/escvp21", "url": "/dev/ttyUSB1", "poll_s": 3},
    )
    manager = DeviceManager(room.config, room, timing=FAST)
    manager.build()
    assert not manager.disabled
    polls = sorted(c.timing.poll_s for c in manager.coordinators.values())
    assert polls == [3.0, 10.0]  # the config's, else the profile's [timing] poll_s
