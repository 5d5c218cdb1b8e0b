"""The ingest service against a real mosquitto, on SQLite and on a real PostgreSQL."""

from __future__ import annotations

from typing import Any

from roomctl.central.service import CentralService
from tests.central.conftest import central_config
from tests.central.mqtt_helpers import Publisher, event, state, topic
from tests.support.real import async_wait_for

DEV = "rc-0000be01"


async def _started(broker: Any, store_url: str, **kw: Any) -> CentralService:
    config = central_config(broker, store_url, **kw)
    svc = CentralService(config)
    await svc.start()
    await async_wait_for(svc.connected.is_set, 10, "connected")
    return svc


async def test_ingest_status_state_and_events(mosquitto: Any, store_url: str) -> None:
    svc = await _started(mosquitto, store_url)
    live = svc.listen()
    pub = Publisher(mosquitto)
    try:
        pub.publish(topic(DEV, "status"), {"v": 1, "online": True, "conn_seq": 1}, retain=True)
        pub.publish(topic(DEV, "state"), state(DEV, 1, "casting"), retain=True)
        pub.publish(topic(DEV, "evt/projector"), event(DEV, 2))
        await async_wait_for(lambda: svc.stats["events_new"] == 1, 10, "event stored")
        assert await svc.store.count_events(DEV) == 1
        assert svc.fleet.status(DEV, 0) == "casting"
        update = await live.get()
        while update.get("id") != DEV:  # retained rooms of other tests may come first
            update = await live.get()
        assert update["t"] == "tile"
        # not placed by IT; rooms that other tests left retained on the broker may be listed too
        assert DEV in [d.device_id for d in svc.fleet.unknown()]
        rows = {d.device_id: d for d in await svc.store.devices()}
        assert rows[DEV].state and rows[DEV].state["mode"] == "casting"
    finally:
        pub.publish(topic(DEV, "status"), b"", retain=True)
        pub.publish(topic(DEV, "state"), b"", retain=True)
        pub.close()
        await svc.stop()


async def test_replayed_events_are_stored_once(mosquitto: Any, store_url: str) -> None:
    svc = await _started(mosquitto, store_url)
    pub = Publisher(mosquitto)
    try:
        body = event("rc-0000be02", 1)
        for _ in range(3):
            pub.publish(topic("rc-0000be02", "evt/projector"), body)
        pub.publish(topic("rc-0000be02", "evt/projector"), event("rc-0000be02", 2))
        await async_wait_for(lambda: svc.stats["events_new"] + svc.stats["events_dup"] == 4, 10)
        assert await svc.store.count_events("rc-0000be02") == 2
        assert svc.stats["events_dup"] == 2
    finally:
        pub.close()
        await svc.stop()


async def test_gaps_per_boot_are_shown_and_close_on_replay(mosquitto: Any, store_url: str) -> None:
    svc = await _started(mosquitto, store_url)
    pub = Publisher(mosquitto)
    dev = "rc-0000be03"
    try:
        bodies = {s: event(dev, s) for s in range(1, 7)}
        for s in (1, 2, 5, 6):
            pub.publish(topic(dev, "evt/projector"), bodies[s])
        pub.publish(topic(dev, "evt/projector"), event(dev, 1, boot="b2"))  # a new boot restarts
        await async_wait_for(lambda: svc.stats["events_new"] == 5, 10)
        assert await svc.store.gaps(dev) == [("b1", 3, 4)]
        for s in (3, 4):
            pub.publish(topic(dev, "evt/projector"), bodies[s])  # the outbox replays late
        await async_wait_for(lambda: svc.stats["events_new"] == 7, 10)
        assert await svc.store.gaps(dev) == []
    finally:
        pub.close()
        await svc.stop()


async def test_garbage_is_rejected_and_ingest_goes_on(mosquitto: Any, store_url: str) -> None:
    svc = await _started(mosquitto, store_url)
    pub = Publisher(mosquitto)
    dev = "rc-0000be04"
    try:
        for bad in (b"\xff\xfe", b"[1,2]", b'{"v":1,"id":5}', b'{"v":9,"id":"x","seq":1}'):
            pub.publish(topic(dev, "evt/projector"), bad)
        pub.publish(topic(dev, "cmd_result"), b"{}")
        pub.publish(f"roomctl/v1/dev/{dev}/evt/projector/extra", event(dev, 1))
        pub.publish(topic(dev, "evt/projector"), event(dev, 2))
        await async_wait_for(lambda: svc.stats["events_new"] == 1, 10)
        assert svc.stats["rejected"] >= 5
    finally:
        pub.close()
        await svc.stop()


async def test_offline_from_will_and_stale_will_ignored(service: CentralService, mosquitto: Any
                                                        ) -> None:
    dev = "rc-0000aa01"
    will = {"v": 1, "online": False, "reason": "lost", "dev": dev, "conn_seq": 3}
    room = Publisher(mosquitto, client_id=dev, will=(topic(dev, "status"), will))
    other = Publisher(mosquitto)
    try:
        room.publish(topic(dev, "status"), {"v": 1, "online": True, "conn_seq": 3}, retain=True)
        room.publish(topic(dev, "state"), state(dev, 1), retain=True)
        await async_wait_for(lambda: service.fleet.status(dev, 0) == "idle", 10, "online")
        room.drop()
        await async_wait_for(lambda: service.fleet.status(dev, 0) == "offline", 10, "Will")
        assert service.fleet.devices[dev].status["reason"] == "lost"  # type: ignore[index]
        other.publish(topic(dev, "status"), {"v": 1, "online": True, "conn_seq": 4}, retain=True)
        await async_wait_for(lambda: service.fleet.devices[dev].online, 10, "back")
        other.publish(topic(dev, "status"), {**will, "conn_seq": 3}, retain=True)  # late old Will
        other.publish(topic(dev, "evt/system"), event(dev, 9, "system.boot"))
        await async_wait_for(lambda: service.stats["events_new"] >= 1, 10)
        assert service.fleet.devices[dev].online
    finally:
        other.publish(topic(dev, "status"), b"", retain=True)
        other.publish(topic(dev, "state"), b"", retain=True)
        other.close()


async def test_persistent_session_keeps_events_while_down(mosquitto: Any, tmp_path: Any) -> None:
    url = f"sqlite://{tmp_path}/p.db"
    config = central_config(mosquitto, url)
    svc = CentralService(config)
    await svc.start()
    await async_wait_for(svc.connected.is_set, 10)
    await svc.stop()
    pub = Publisher(mosquitto)
    try:
        for s in range(1, 4):
            pub.publish(topic("rc-0000be05", "evt/usage"), event("rc-0000be05", s))
        again = CentralService(config)
        await again.start()
        try:
            await async_wait_for(lambda: again.stats["events_new"] == 3, 10, "queued events")
        finally:
            await again.stop()
    finally:
        pub.close()


async def test_saved_settings_outlive_a_restart(mosquitto: Any, store_url: str) -> None:
    config = central_config(mosquitto, store_url)
    svc = CentralService(config)
    await svc.start()
    try:
        await svc.save_settings({"lamp_pct_warn": 75, "nightly_off": ""}, "ivo")
    finally:
        await svc.stop()
    again = CentralService(config)
    await again.start()
    try:
        assert (again.fleet.cfg.lamp_pct_warn, again.fleet.cfg.nightly_off) == (75, "")
        assert again.fleet.cfg.filter_pct_warn == config.alerts.filter_pct_warn
    finally:
        await again.stop()


async def test_rooms_of_the_registry_file_are_placed(mosquitto: Any, tmp_path: Any) -> None:
    registry = tmp_path / "registry.toml"
    registry.write_text('[[rooms]]\ndevice_id = "rc-0000be06"\ntown = "Espoo"\n'
                        'school = "Koulu R"\nroom = "12"\n')
    svc = await _started(mosquitto, f"sqlite://{tmp_path}/r.db", registry_file=str(registry))
    try:
        assert svc.fleet.places["rc-0000be06"] == ("Espoo", "Koulu R", "12")
    finally:
        await svc.stop()
