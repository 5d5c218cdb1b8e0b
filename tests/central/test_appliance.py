"""The dashboard against a real appliance process (``python -m roomctl run``)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from roomctl.central.service import CentralService
from roomctl.central.web import cfg_body
from tests.central.mqtt_helpers import Publisher, topic
from tests.central.test_topology import dashboard
from tests.support.appliance import start_appliance
from tests.support.real import async_wait_for, free_port

DEV = "rc-0000ce01"
FAST_MQTT = {"device_id": DEV, "keepalive_s": 5, "will_delay_s": 1, "reconnect_jitter_s": 0,
             "reconnect_max_s": 1}


async def _result(svc: CentralService, cmd_id: str) -> str:
    return next((c[6] for c in await svc.store.commands(DEV) if c[0] == cmd_id), "")


async def test_command_and_cfg_round_trip_to_a_real_appliance(mosquitto: Any, tmp_path: Path
                                                              ) -> None:
    appliance = await asyncio.to_thread(start_appliance, tmp_path, web={"tls_port": free_port()},
                                        mqtt={"url": mosquitto.url, **FAST_MQTT})
    try:
        async with dashboard(mosquitto, tmp_path, (DEV,)) as svc:
            await async_wait_for(lambda: (svc.fleet.devices.get(DEV) and
                                          svc.fleet.devices[DEV].state), 30, "appliance state")
            assert svc.fleet.status(DEV, time.time()) != "offline"
            ids = await svc.command([DEV], "display.message", {"text": "Hei", "seconds": 5}, "t")

            async def answered() -> bool:
                return await _result(svc, ids[0]) not in ("", "sent")

            await async_wait_for(answered, 15, "cmd_result from the appliance")
            assert await _result(svc, ids[0]) == "ok"
            version = await svc.push_cfg([DEV], cfg_body(svc.fleet.cfg), "test:ivo")
            await async_wait_for(lambda: (svc.fleet.devices[DEV].state or {}).get(
                "cfg_version") == version, 20, "cfg_version reported in state")
            assert svc.stats["events_new"] >= 1  # at least system.boot from the outbox
    finally:
        await asyncio.to_thread(appliance.stop)
        cleaner = Publisher(mosquitto)  # the shared broker keeps retained messages: clear them
        for kind in ("status", "state", "meta", "cfg"):
            cleaner.publish(topic(DEV, kind), b"", retain=True)
        cleaner.close()
