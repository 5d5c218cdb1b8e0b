"""The paho-mqtt 2.x client and its bridge to asyncio.

Three threads meet here. paho's network thread (``loop_start``) runs the callbacks below;
each one only copies its arguments and hands them to the event loop with
``call_soon_threadsafe`` (or appends to a deque), so paho's keepalive never waits on us.
Every call *into* paho (connect, publish, disconnect) is made from the telemetry I/O thread,
so the event loop never takes paho's locks either. No lock of ours is held while calling
paho, which avoids the callback-lock deadlocks paho's issue tracker documents.
"""

from __future__ import annotations

import asyncio
import collections
import json
import logging
import random
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from roomctl.telemetry import payloads
from roomctl.telemetry.config import MqttConfig
from roomctl.telemetry.ids import ConnectCounter
from roomctl.telemetry.topics import Topics

logger = logging.getLogger(__name__)

WINDOW = 100  # QoS 1 messages in flight; also paho's max_inflight_messages


@dataclass(frozen=True)
class Identity:
    """Who we are on the broker for this process lifetime."""

    device_id: str
    boot_id: str
    sw: str


@dataclass
class Bridge:
    """Loop-side callbacks; each runs on the event loop, never on paho's thread."""

    connected: Callable[[bool, int], None]
    disconnected: Callable[[str], None]
    message: Callable[[str, bytes, bool], None]
    acked: Callable[[], None]
    clk_sync: Callable[[], bool]


def _dump(body: dict[str, Any]) -> bytes:
    return json.dumps(body, separators=(",", ":")).encode()


class MqttLink:
    """One MQTT 5 connection: Will, birth, subscriptions renewed on every connect, PUBACKs."""

    def __init__(
        self, config: MqttConfig, ident: Identity, counter: ConnectCounter, bridge: Bridge
    ) -> None:
        self.config = config
        self.ident = ident
        self.topics = Topics(ident.device_id)
        self.counter = counter
        self.bridge = bridge
        self.extra_subscriptions: list[str] = []
        self.acks: collections.deque[tuple[int, bool]] = collections.deque()
        self.conn_seq = 0
        self._client: mqtt.Client | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._failing = ""
        self._ack_signalled = False

    # -- called on the telemetry I/O thread ------------------------------------------------

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        """Create the client and start paho's network thread; connects in the background."""
        self._loop = loop
        cfg = self.config
        client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=self.ident.device_id,
            protocol=mqtt.MQTTv5,
        )
        client.username_pw_set(cfg.username or self.ident.device_id, cfg.password or None)
        if cfg.tls:
            client.tls_set(
                ca_certs=cfg.ca_file or None,
                certfile=cfg.cert_file or None,
                keyfile=cfg.key_file or None,
                tls_version=ssl.PROTOCOL_TLS_CLIENT,
            )
        client.max_inflight_messages_set(WINDOW)
        # paho doubles the delay without jitter; a per-device random start spreads a fleet out.
        first = cfg.reconnect_min_s + random.uniform(0, cfg.reconnect_jitter_s)
        client.reconnect_delay_set(
            min_delay=max(1, round(first)), max_delay=max(1, round(cfg.reconnect_max_s))
        )
        client.on_pre_connect = self._on_pre_connect
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        client.on_publish = self._on_publish
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = cfg.session_expiry_s
        host, port = cfg.host_port()
        self.counter.load()
        self._client = client
        client.connect_async(
            host, port, keepalive=cfg.keepalive_s, clean_start=False, properties=props
        )
        client.loop_start()

    def publish(self, topic: str, payload: bytes, qos: int = 1, retain: bool = False) -> int:
        """Queue a publish with paho; returns its mid (queued even while disconnected)."""
        if self._client is None:
            return -1
        return self._client.publish(topic, payload, qos=qos, retain=retain).mid

    def stop(self, timeout_s: float = 3.0) -> None:
        """Publish ``shutdown``, disconnect cleanly (no Will) and stop paho's thread."""
        client, self._client = self._client, None
        if client is None:
            return
        if client.is_connected():
            at = payloads.stamp(self.bridge_clk())
            body = payloads.status_offline(
                self.ident.device_id, self.ident.boot_id, self.conn_seq, "shutdown", at
            )
            info = client.publish(self.topics.status, _dump(body), qos=1, retain=True)
            try:
                info.wait_for_publish(timeout=timeout_s)
            except (RuntimeError, ValueError):
                logger.info("shutdown status not confirmed by the broker")
        client.disconnect()
        client.loop_stop()

    def bridge_clk(self) -> bool:
        """Whether the wall clock is synchronised (cheap; cached by the caller)."""
        return self.bridge.clk_sync()

    # -- paho's network thread: copy and hand over, never block ------------------------------

    def _call(self, func: Callable[..., None], *args: Any) -> None:
        try:
            if self._loop is not None:
                self._loop.call_soon_threadsafe(func, *args)
        except RuntimeError:  # the loop is closed: we are shutting down
            pass

    def _on_pre_connect(self, client: mqtt.Client, userdata: Any) -> None:
        # The Will is fixed at CONNECT, so each connection gets its own conn_seq in it.
        self.conn_seq = self.counter.next()
        will = payloads.status_offline(
            self.ident.device_id, self.ident.boot_id, self.conn_seq, "lost"
        )
        props = Properties(PacketTypes.WILLMESSAGE)
        props.WillDelayInterval = self.config.will_delay_s
        client.will_set(self.topics.status, _dump(will), qos=1, retain=True, properties=props)

    def _on_connect(
        self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any
    ) -> None:
        if reason.is_failure:
            self._log_failure(f"broker refused the connection: {reason}")
            return
        if self._failing:
            logger.info("MQTT connection recovered")
            self._failing = ""
        topics = [self.topics.cmd_filter, self.topics.cfg, *self.extra_subscriptions]
        client.subscribe([(t, 1) for t in topics])
        at = payloads.stamp(self.bridge_clk())
        birth = payloads.status_birth(
            self.ident.device_id, self.ident.boot_id, self.conn_seq, at, self.ident.sw
        )
        client.publish(self.topics.status, _dump(birth), qos=1, retain=True)
        self._call(self.bridge.connected, bool(flags.session_present), self.conn_seq)

    def _on_disconnect(
        self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any
    ) -> None:
        if reason != 0:
            self._log_failure(f"MQTT connection lost: {reason}")
        self._call(self.bridge.disconnected, str(reason))

    def _on_message(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        self._call(self.bridge.message, msg.topic, bytes(msg.payload), bool(msg.retain))

    def _on_publish(
        self, client: mqtt.Client, userdata: Any, mid: int, reason: Any, props: Any
    ) -> None:
        self.acks.append((mid, bool(getattr(reason, "is_failure", False))))
        if not self._ack_signalled:  # one loop wake-up per burst of PUBACKs, not per PUBACK
            self._ack_signalled = True
            self._call(self._acked)

    def _acked(self) -> None:
        self._ack_signalled = False
        self.bridge.acked()

    def _log_failure(self, message: str) -> None:
        if message != self._failing:
            logger.warning("%s", message)
        self._failing = message
