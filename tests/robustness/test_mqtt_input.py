"""Hostile MQTT input to the appliance (``cmd/*``, ``cfg``) and to the dashboard's ingest."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from roomctl.central import payloads as central
from roomctl.central.service import CentralService
from roomctl.core.errors import ProtocolError
from roomctl.telemetry import commands
from roomctl.telemetry.payloads import iso
from tests.central.conftest import central_config
from tests.central.mqtt_helpers import Publisher, event, topic
from tests.support.real import async_wait_for
from tests.telemetry.conftest import wait_json

ROOM = "rc-0000r201"
NESTED = b"[" * 8000 + b"]" * 8000  # under the 16 KiB limit, deeper than the parser's stack


def _command(cmd_id: str, args: Any) -> bytes:
    body = {"v": 1, "cmd_id": cmd_id, "expires_at": iso(time.time() + 60), "args": args}
    return json.dumps(body).encode().replace(b'"@"', NESTED)


def test_nested_command_and_cfg_are_refusals() -> None:
    parsed = commands.parse_command("display.message", _command("c1", "@"), time.time())
    assert isinstance(parsed, commands.Refusal) and parsed.status == "rejected"
    assert isinstance(commands.parse_cfg(b'{"cfg_version": 1, "x": ' + NESTED + b"}"), str)


@pytest.mark.parametrize(
    "body",
    [
        {"seq": 2**64},
        {"seq": -1},
        {"id": "e\ud800"},
        {"id": "e\x00"},
        {"boot_id": "b\x00"},
        {"data": "@"},
    ],
)
def test_event_fields_the_store_cannot_hold_are_protocol_errors(body: dict[str, Any]) -> None:
    payload = json.dumps({**event(ROOM, 1), **body}).encode().replace(b'"@"', NESTED)
    with pytest.raises(ProtocolError):
        central.decode_event(central.parse_topic(topic(ROOM, "evt/projector")), payload)


async def test_cfg_loop_survives_a_nested_cfg(
    mosquitto: Any, appliance_factory: Any, watcher_factory: Any
) -> None:
    app = await appliance_factory(mosquitto.url, device_id=ROOM)
    watcher = watcher_factory(mosquitto, f"roomctl/v1/dev/{ROOM}/#")
    pub = Publisher(mosquitto)
    base = f"roomctl/v1/dev/{ROOM}"
    try:
        await async_wait_for(lambda: app.service.connected, 10, "appliance connected")
        pub.publish(f"{base}/cfg", b'{"cfg_version": 4, "x": ' + NESTED + b"}", retain=True)
        pub.publish(f"{base}/cmd/display.message", _command("c-nested", "@"))
        result = await wait_json(watcher, "/cmd_result", lambda b: b["name"] == "display.message")
        assert result["status"] == "rejected"
        await async_wait_for(lambda: watcher.events("system.cfg_rejected"), 10, "cfg refusal")
        pub.publish(f"{base}/cfg", json.dumps({"v": 1, "cfg_version": 5}).encode(), retain=True)
        await async_wait_for(
            lambda: app.room.state.extra.get("central_cfg", {}).get("cfg_version") == 5,
            10,
            "the next good cfg applied",
        )
    finally:
        pub.publish(f"{base}/cfg", b"", retain=True)
        pub.close()


async def test_poison_events_do_not_take_good_ones_with_them(mosquitto: Any, tmp_path: Any) -> None:
    svc = CentralService(central_config(mosquitto, f"sqlite://{tmp_path}/c.db"))
    await svc.start()
    pub = Publisher(mosquitto)
    dev = "rc-0000r202"
    try:
        await async_wait_for(svc.connected.is_set, 10, "dashboard connected")
        poisons = [{"seq": 2**64}, {"id": "e\ud800"}, {"data": "@"}]
        for n, extra in enumerate(poisons):
            body = json.dumps({**event(dev, 10 + n), **extra}).encode()
            pub.publish(topic(dev, "evt/projector"), body.replace(b'"@"', NESTED))
        pub.publish(topic(dev, "evt/projector"), event(dev, 1))
        await async_wait_for(lambda: svc.stats["events_new"] == 1, 10, "good event stored")
        assert svc.stats["rejected"] == len(poisons)
        assert await svc.store.count_events(dev) == 1
    finally:
        pub.close()
        await svc.stop()
