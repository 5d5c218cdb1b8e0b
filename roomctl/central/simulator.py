"""Run many SimRooms against a broker on accelerated time.

Up to a few hundred rooms, each room has its own paho client with a Will, so outages are real
broker-side connection losses. For load tests (``clients`` > 0) a few clients publish on behalf
of many rooms — this needs a broker without per-device ACLs — and an outage is the offline
status published on the room's behalf.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlparse

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from roomctl.central.payloads import PREFIX
from roomctl.central.simroom import Message, SimRoom

logger = logging.getLogger(__name__)

OUTAGE_PER_SIM_DAY = 0.05  # chance per room per simulated day of a network outage
OUTAGE_SIM_S = 3 * 3600


def device_ids(n: int, prefix: str = "rc-sim") -> list[str]:
    """Stable simulated device ids."""
    return [f"{prefix}{i:05x}" for i in range(n)]


class Simulator:
    """N simulated appliances publishing status, state and events."""

    def __init__(self, broker_url: str, rooms: int, *, speed: float = 60.0, clients: int = 0,
                 tick_s: float = 1.0, seed: int = 1, prefix: str = "rc-sim",
                 outages: bool = True) -> None:
        self.url = urlparse(broker_url)
        self.speed = speed
        self.tick_s = tick_s
        self.shared = clients > 0
        self.outages = outages
        rng = random.Random(seed)
        self.rooms = {d: SimRoom(d, random.Random(rng.random())) for d in device_ids(rooms, prefix)}
        self._n_clients = clients or rooms
        self._clients: dict[str, mqtt.Client] = {}  # device_id → the client publishing for it
        self._down: dict[str, float] = {}  # device_id → sim time the outage ends
        self._t0 = time.time()
        self._m0 = time.monotonic()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self.published = 0

    def now(self) -> float:
        """The simulated clock: starts at wall time and runs ``speed`` times faster."""
        return self._t0 + (time.monotonic() - self._m0) * self.speed

    async def start(self) -> None:
        """Connect every client, publish births and states, start ticking."""
        self._loop = asyncio.get_running_loop()
        ids = list(self.rooms)
        groups = [ids[i :: self._n_clients] for i in range(self._n_clients)]
        for n, group in enumerate(groups):
            client = self._make_client(f"sim-{n}" if self.shared else group[0], group)
            for device_id in group:
                self._clients[device_id] = client
        waiting = {id(c): c for c in self._clients.values()}.values()
        await asyncio.gather(*(asyncio.to_thread(self._wait_connected, c) for c in waiting))
        now = self.now()
        for room in self.rooms.values():
            self.send(room.device_id, [room.birth(now), room.state(now)])
        self._task = asyncio.create_task(self._run(), name="simulator")

    async def stop(self, graceful: bool = True, decommission: bool = False) -> None:
        """Stop ticking; ``graceful`` publishes offline/shutdown before disconnecting;
        ``decommission`` clears the rooms' retained topics instead (tests on a shared broker)."""
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        last: list[mqtt.MQTTMessageInfo] = []
        for room in self.rooms.values() if graceful or decommission else ():
            if decommission:
                last += self.send(room.device_id, [(room.topic(k), b"", True)
                                                   for k in ("status", "state", "cfg")])
            else:
                last += self.send(room.device_id, [room.will("shutdown")])
        # Let the goodbyes reach the broker before DISCONNECT (bounded: a dead link won't).
        await asyncio.to_thread(_wait_published, last[-2000:])
        for client in {id(c): c for c in self._clients.values()}.values():
            client.disconnect()
            await asyncio.to_thread(client.loop_stop)

    def _make_client(self, client_id: str, group: list[str]) -> mqtt.Client:
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id,
                             protocol=mqtt.MQTTv5)
        client.max_inflight_messages_set(1000)
        client.max_queued_messages_set(0)
        if not self.shared:
            self.rooms[group[0]].conn_seq += 1
            topic, payload, retain = self.rooms[group[0]].will()
            props = Properties(PacketTypes.WILLMESSAGE)
            props.WillDelayInterval = 0
            client.will_set(topic, payload, qos=1, retain=retain, properties=props)
        client.on_connect = lambda c, _u, _f, _r, _p: c.subscribe(
            [(f"{PREFIX}{d}/cmd/+", 1) for d in group] + [(f"{PREFIX}{d}/cfg", 1) for d in group])
        client.on_message = self._on_message
        client.user_data_set(threading_event())
        client.on_subscribe = lambda _c, u, _m, _r, _p: u.set()
        client.connect_async(self.url.hostname or "127.0.0.1", self.url.port or 1883, keepalive=30)
        client.loop_start()
        return client

    @staticmethod
    def _wait_connected(client: mqtt.Client) -> None:
        if not client._userdata.wait(20):  # the subscription is acknowledged after CONNACK
            raise TimeoutError("simulator client did not connect")

    def _on_message(self, _c: Any, _u: Any, msg: mqtt.MQTTMessage) -> None:
        assert self._loop is not None
        self._loop.call_soon_threadsafe(self._dispatch, msg.topic, bytes(msg.payload))

    def _dispatch(self, topic: str, payload: bytes) -> None:
        parts = topic[len(PREFIX) :].split("/")
        room = self.rooms.get(parts[0])
        if room is None or parts[0] in self._down:
            return
        if parts[1] == "cfg":
            self.send(room.device_id, room.apply_cfg(self.now(), payload))
        elif parts[1] == "cmd" and len(parts) == 3:
            self.send(room.device_id, room.handle(self.now(), parts[2], payload))

    def send(self, device_id: str, messages: Iterable[Message]) -> list[mqtt.MQTTMessageInfo]:
        """Publish a room's messages through its client (QoS 1)."""
        client = self._clients[device_id]
        infos = [client.publish(topic, payload, qos=1, retain=retain)
                 for topic, payload, retain in messages]
        self.published += len(infos)
        return infos

    def act(self, device_id: str, action: Callable[[SimRoom, float], list[Message]]) -> None:
        """Make one room do something now (tests and demos), e.g. ``SimRoom.start_cast``."""
        self.send(device_id, action(self.rooms[device_id], self.now()))

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.tick_s)
            now = self.now()
            for device_id, room in self.rooms.items():
                if device_id in self._down:
                    if now >= self._down[device_id]:
                        await self._recover(room, now)
                    continue
                self.send(device_id, room.tick(now))
                sim_dt = self.tick_s * self.speed
                if self.outages and room.rng.random() < OUTAGE_PER_SIM_DAY * sim_dt / 86400:
                    await self._outage(room, now)

    async def _outage(self, room: SimRoom, now: float) -> None:
        self._down[room.device_id] = now + OUTAGE_SIM_S * room.rng.uniform(0.2, 1.0)
        client = self._clients[room.device_id]
        if self.shared:
            self.send(room.device_id, [room.will()])
            return
        await asyncio.to_thread(client.loop_stop)
        sock = client.socket()
        if sock is not None:
            sock.close()  # no DISCONNECT: the broker publishes the Will

    async def _recover(self, room: SimRoom, now: float) -> None:
        del self._down[room.device_id]
        client = self._clients[room.device_id]
        if not self.shared:
            await asyncio.to_thread(client.reconnect)
            client.loop_start()
        self.send(room.device_id, [room.birth(now), room.state(now)])


def _wait_published(infos: list[mqtt.MQTTMessageInfo]) -> None:
    for info in infos:
        try:
            info.wait_for_publish(5)
        except (RuntimeError, ValueError):  # not connected, or the queue dropped it
            return


def threading_event() -> Any:
    """A threading.Event (kept here so the client's user data has one obvious type)."""
    import threading

    return threading.Event()
