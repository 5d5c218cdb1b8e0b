"""Telemetry throughput: events/s through the outbox vs raw paho QoS 1, and outbox replay time.

Run: ``.venv/bin/python -m benchmarks.bench_telemetry [N]``. One mosquitto on 127.0.0.1 with a
generated config; both paths publish QoS 1 to it and wait for every PUBACK. The outbox path
is the whole pipeline: bus event -> envelope -> SQLite commit (WAL, synchronous=FULL) ->
paho -> PUBACK -> row deleted.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import threading
import time
from dataclasses import replace
from pathlib import Path

import paho.mqtt.client as mqtt

from roomctl.config.model import Config, RoomConfig
from roomctl.core.bus import EventBus
from roomctl.core.events import HelpRequested
from roomctl.core.warnings import WarningsRegistry
from roomctl.room import Room
from roomctl.telemetry.config import MqttConfig
from roomctl.telemetry.service import TelemetryService
from tests.support.broker import Mosquitto

PAYLOAD = b'{"v":1,"type":"help.request","data":{"topic":"general"}}' + b" " * 200


def raw_paho(broker: Mosquitto, n: int) -> float:
    """Seconds for ``n`` QoS 1 publishes, all acknowledged, from a plain paho client."""
    done = threading.Event()
    acked = [0]

    def on_publish(*_: object) -> None:
        acked[0] += 1
        if acked[0] == n:
            done.set()

    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="raw", protocol=mqtt.MQTTv5)
    client.on_publish = on_publish
    client.connect(broker.host, broker.port)
    client.loop_start()
    start = time.perf_counter()
    for _ in range(n):
        client.publish("roomctl/v1/dev/rc-raw/evt/help", PAYLOAD, qos=1)
    assert done.wait(120), "raw publishes not acknowledged"
    elapsed = time.perf_counter() - start
    client.disconnect()
    client.loop_stop()
    return elapsed


def make(url: str, state: Path, **mq: object) -> tuple[Room, TelemetryService]:
    """Room + telemetry service with the given ``[mqtt]`` overrides."""
    base = MqttConfig(url=url, device_id="rc-00000bec", reconnect_jitter_s=0, reconnect_max_s=1)
    config = Config(room=RoomConfig(id="bench"), mqtt=replace(base, **mq), state_dir=str(state))
    room = Room(config, EventBus(), WarningsRegistry())
    return room, TelemetryService(config, room, state)


async def wait(predicate: object, timeout: float) -> None:
    """Poll ``predicate`` (a callable) until true."""
    deadline = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise TimeoutError("benchmark condition not reached")
        await asyncio.sleep(0.005)


async def through_outbox(broker: Mosquitto, n: int, state: Path, rate: int) -> float:
    """Seconds for ``n`` bus events to be committed, published and acknowledged."""
    room, service = make(broker.url, state, replay_rate=rate)
    await service.start()
    await wait(lambda: service.connected and service.outbox.depth == 0, 20)
    start = time.perf_counter()
    for _ in range(n):
        room.bus.publish(HelpRequested())
        if _ % 1000 == 999:
            await asyncio.sleep(0)  # let the pump drain the bus queue (bounded at 10,000)
    await wait(lambda: service.stats["acked"] >= n + 1 and service.outbox.depth == 0, 120)
    elapsed = time.perf_counter() - start
    await service.stop()
    return elapsed


async def replay(broker: Mosquitto, n: int, state: Path) -> tuple[float, int]:
    """Queue ``n`` events with the broker down; seconds to deliver them after it returns."""
    broker.stop()
    room, service = make(broker.url, state)
    await service.start()
    for i in range(n):
        room.bus.publish(HelpRequested())
        if i % 1000 == 999:
            await asyncio.sleep(0)
    await wait(lambda: service.outbox.depth >= n, 60)
    broker.start()
    await wait(lambda: service.connected, 30)
    start = time.perf_counter()
    await wait(lambda: service.outbox.depth == 0, 120)
    elapsed = time.perf_counter() - start
    await service.stop()
    return elapsed, service.config.mqtt.replay_rate


async def main(n: int) -> None:
    """Print the figures."""
    with tempfile.TemporaryDirectory() as tmp:
        broker = Mosquitto(Path(tmp) / "broker", extra="max_queued_messages 100000").start()
        try:
            raw = raw_paho(broker, n)
            capped = await through_outbox(broker, n, Path(tmp) / "a", rate=2000)
            free = await through_outbox(broker, n, Path(tmp) / "b", rate=10**9)
            replay_s, rate = await replay(broker, 10_000, Path(tmp) / "c")
        finally:
            broker.stop()
    print(f"raw paho QoS 1:            {n / raw:9.0f} msg/s  ({n} in {raw:.2f} s)")
    print(f"outbox, replay_rate 2000:  {n / capped:9.0f} ev/s   {raw / capped:.2f} of raw")
    print(f"outbox, unpaced:           {n / free:9.0f} ev/s   {raw / free:.2f} of raw")
    print(f"replay of 10,000 queued events: {replay_s:.2f} s (replay_rate {rate}/s)")


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 5000))
