"""Telemetry test support: a watching MQTT client, configs with fast timings, a room + service."""

from __future__ import annotations

import json
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from roomctl.config.model import Config, RoomConfig
from roomctl.core.bus import EventBus
from roomctl.core.warnings import WarningsRegistry
from roomctl.room import Room
from roomctl.telemetry.config import MqttConfig
from roomctl.telemetry.service import TelemetryService
from tests.support.broker import Mosquitto
from tests.support.real import async_wait_for

DEV = "rc-0000a101"


@dataclass(frozen=True)
class Received:
    """One message seen by the watcher."""

    topic: str
    payload: bytes
    retain: bool

    def json(self) -> Any:
        """The payload parsed as JSON."""
        return json.loads(self.payload)


class Watcher:
    """A real paho client subscribed to device topics, recording everything it receives."""

    def __init__(self, broker: Mosquitto, topic: str = "roomctl/v1/dev/#", **auth: Any) -> None:
        self.broker = broker
        self.topic = topic
        self.messages: list[Received] = []
        self._lock = threading.Lock()
        self._subscribed = threading.Event()
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=auth.pop("client_id", "watcher"),
            protocol=mqtt.MQTTv5,
        )
        if auth.get("username"):
            self.client.username_pw_set(auth["username"], auth.get("password"))
        if auth.get("tls"):
            self.client.tls_set(**auth["tls"])
        self.persistent = bool(auth.get("persistent"))
        self.client.reconnect_delay_set(1, 1)
        self.client.on_connect = lambda c, u, f, rc, p: c.subscribe(self.topic, qos=1)
        self.client.on_subscribe = lambda *a: self._subscribed.set()
        self.client.on_message = self._on_message

    def _on_message(self, client: Any, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        with self._lock:
            self.messages.append(Received(msg.topic, bytes(msg.payload), bool(msg.retain)))

    def start(self) -> Watcher:
        """Connect and wait for the subscription."""
        props = None
        if self.persistent:  # the broker queues for us while we are away
            props = Properties(PacketTypes.CONNECT)
            props.SessionExpiryInterval = 300
        self.client.connect(
            self.broker.host,
            self.broker.port,
            keepalive=10,
            clean_start=not self.persistent,
            properties=props,
        )
        self.client.loop_start()
        assert self._subscribed.wait(10), "watcher did not subscribe"
        return self

    def stop(self) -> None:
        """Disconnect."""
        self.client.disconnect()
        self.client.loop_stop()

    def of(self, suffix: str) -> list[Received]:
        """Messages whose topic ends with ``suffix``."""
        with self._lock:
            return [m for m in self.messages if m.topic.endswith(suffix)]

    def bodies(self, suffix: str) -> list[Any]:
        """Parsed payloads of ``of(suffix)``."""
        return [m.json() for m in self.of(suffix) if m.payload]

    def events(self, event_type: str | None = None) -> list[dict[str, Any]]:
        """Event envelopes (optionally of one type), in arrival order."""
        with self._lock:
            found = [m.json() for m in self.messages if "/evt/" in m.topic]
        return [e for e in found if event_type is None or e["type"] == event_type]

    def clear(self) -> None:
        """Forget what was received so far."""
        with self._lock:
            self.messages.clear()


def mqtt_config(url: str, **overrides: Any) -> MqttConfig:
    """An ``[mqtt]`` section with timings patched down for tests."""
    base: dict[str, Any] = dict(
        url=url,
        device_id=DEV,
        keepalive_s=2,
        will_delay_s=1,
        state_min_interval_s=0.05,
        state_refresh_s=60,
        metrics_interval_s=60,
        reconnect_min_s=0.0,
        reconnect_jitter_s=0.0,
        reconnect_max_s=1.0,
        replay_rate=100_000,
    )
    base.update(overrides)
    return MqttConfig(**base)


def room_config(mqtt_cfg: MqttConfig, state_dir: Path) -> Config:
    """A minimal appliance config for room a101."""
    return Config(
        room=RoomConfig(id="a101", name="A101 Physics", site="Koulu"),
        mqtt=mqtt_cfg,
        state_dir=str(state_dir),
    )


@pytest.fixture
def watcher_factory() -> Iterator[Callable[..., Watcher]]:
    """Start watchers; all stopped at the end."""
    started: list[Watcher] = []

    def make(broker: Mosquitto, topic: str = "roomctl/v1/dev/#", **auth: Any) -> Watcher:
        auth.setdefault("client_id", f"watcher-{len(started)}")
        watcher = Watcher(broker, topic, **auth).start()
        started.append(watcher)
        return watcher

    yield make
    for watcher in started:
        watcher.stop()


@dataclass
class Appliance:
    """A room core plus its telemetry service, in this test's event loop."""

    room: Room
    service: TelemetryService
    config: Config

    async def restart(self, **overrides: Any) -> Appliance:
        """Stop the service and start a fresh one on the same state dir."""
        await self.service.stop()
        mq = replace(self.config.mqtt, **overrides)
        self.config = replace(self.config, mqtt=mq)
        self.service = TelemetryService(self.config, self.room, Path(self.config.state_dir))
        await self.service.start()
        return self


@pytest.fixture
async def appliance_factory(tmp_path: Path) -> AsyncIterator[Callable[..., Any]]:
    """Build and start Room + TelemetryService; stopped at the end of the test."""
    made: list[Appliance] = []

    async def make(url: str, state_dir: Path | None = None, **overrides: Any) -> Appliance:
        config = room_config(mqtt_config(url, **overrides), state_dir or tmp_path / "state")
        room = Room(config, EventBus(), WarningsRegistry())
        await room.start()
        service = TelemetryService(config, room, Path(config.state_dir))
        await service.start()
        made.append(Appliance(room, service, config))
        return made[-1]

    yield make
    for app in made:
        await app.service.stop()
        await app.room.stop()


async def wait_json(
    watcher: Watcher, suffix: str, predicate: Callable[[Any], bool] = bool, timeout: float = 10
) -> Any:
    """Wait until a message on ``suffix`` satisfies ``predicate``; returns its body."""

    def found() -> Any:
        return next((b for b in reversed(watcher.bodies(suffix)) if predicate(b)), None)

    return await async_wait_for(found, timeout, f"a matching message on {suffix}")
