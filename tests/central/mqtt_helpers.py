"""A small real MQTT publisher for tests and payload builders in the v1 shape."""

from __future__ import annotations

import json
import socket
import threading
from typing import Any

import paho.mqtt.client as mqtt

from roomctl.central.ids import ulid
from roomctl.central.payloads import iso


class Publisher:
    """A paho client connected to the test broker; ``publish`` waits for the PUBACK."""

    def __init__(self, broker: Any, client_id: str = "", will: tuple[str, dict[str, Any]] | None
                 = None) -> None:
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id,
                                  protocol=mqtt.MQTTv5)
        if will:
            self.client.will_set(will[0], json.dumps(will[1]), qos=1, retain=True)
        self.received: list[tuple[str, bytes]] = []
        self.client.on_message = lambda _c, _u, m: self.received.append((m.topic, m.payload))
        connected = threading.Event()
        self.client.on_connect = lambda *_a: connected.set()
        self.client.connect(broker.host, broker.port)
        self.client.loop_start()
        assert connected.wait(10), "publisher did not connect"

    def publish(self, topic: str, body: dict[str, Any] | bytes, retain: bool = False) -> None:
        """QoS 1 publish, waiting for the broker's acknowledgement."""
        payload = body if isinstance(body, bytes) else json.dumps(body)
        self.client.publish(topic, payload, qos=1, retain=retain).wait_for_publish(10)

    def subscribe(self, topic: str) -> None:
        """Subscribe (messages land in ``received``)."""
        done = threading.Event()
        self.client.on_subscribe = lambda *_a: done.set()
        self.client.subscribe(topic, qos=1)
        assert done.wait(10)

    def drop(self) -> None:
        """Lose the connection without DISCONNECT, so the broker sends the Will."""
        self.client.loop_stop()
        sock = self.client.socket()
        assert isinstance(sock, socket.socket)
        sock.close()

    def close(self) -> None:
        """Clean disconnect."""
        self.client.disconnect()
        self.client.loop_stop()


def event(dev: str, seq: int, kind: str = "projector.power", boot: str = "b1",
          data: dict[str, Any] | None = None, ts: float = 1_756_710_000.0) -> dict[str, Any]:
    """An event envelope."""
    return {"v": 1, "id": ulid(ts + seq), "dev": dev, "boot_id": boot, "seq": seq, "ts": iso(ts),
            "clk_sync": True, "type": kind, "data": data or {"on": True}}


def state(dev: str, seq: int, mode: str = "idle", boot: str = "b1", **projector: Any
          ) -> dict[str, Any]:
    """A state snapshot."""
    proj = {"reachable": True, "power": "off", "lamp_hours": 100, "lamp_rated": 4000,
            "filter_hours": 10, "filter_rated": 2000, "errors": [], **projector}
    return {"v": 1, "dev": dev, "boot_id": boot, "seq": seq, "ts": iso(1_756_710_000.0),
            "mode": mode, "projector": proj, "cast": {"active": mode == "casting"},
            "cfg_version": 0}


def topic(dev: str, kind: str) -> str:
    """A device topic."""
    return f"roomctl/v1/dev/{dev}/{kind}"
