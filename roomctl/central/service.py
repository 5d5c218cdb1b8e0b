"""The dashboard's ingest: a persistent MQTT 5 session, batched idempotent writes, live push.

paho runs its network loop in its own thread; ``on_message`` only appends to a deque and wakes
the asyncio writer once per burst. Messages are acknowledged (manual PUBACK) only after their
batch is committed, so a crash between receipt and commit makes the broker redeliver.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import deque
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlparse

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from roomctl.central import payloads as p
from roomctl.central.analytics import USAGE_TYPES, seconds, usage
from roomctl.central.config import AlertConfig, CentralConfig, apply_settings, load_registry_file
from roomctl.central.fleet import Fleet
from roomctl.central.ids import ulid
from roomctl.central.store import DeviceRow, Store, open_store
from roomctl.core.errors import ProtocolError

logger = logging.getLogger(__name__)

Raw = tuple[str, bytes, int, int, float]  # topic, payload, mid, qos, received
LIVE_QUEUE_MAX = 1000
FORECAST_DAYS = 28


STORE_RETRY_S = 0.25  # first retry after a failed store write; doubles up to the max
STORE_RETRY_MAX_S = 15.0

class CentralService:
    """Subscribes, stores, keeps the fleet view and pushes tile changes to live listeners."""

    def __init__(self, config: CentralConfig, store: Store | None = None) -> None:
        self.config = config
        self.store = store or open_store(config.store.url)
        self.fleet = Fleet(config.alerts)
        self.connected = asyncio.Event()
        self.stats = {"messages": 0, "events_new": 0, "events_dup": 0, "rejected": 0}
        self._inbox: deque[Raw] = deque()
        self._store_failures = 0
        self._wake = asyncio.Event()
        self._wake_pending = False
        self._listeners: set[asyncio.Queue[dict[str, Any]]] = set()
        self._client: mqtt.Client | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._bad_logged: set[str] = set()

    async def start(self) -> None:
        """Open the store, load the fleet, connect, and start the writer."""
        self._loop = asyncio.get_running_loop()
        await self.store.open()
        await self._load()
        self._tasks = [asyncio.create_task(self._writer(), name="central-writer"),
                       asyncio.create_task(self._housekeeping(), name="central-housekeeping")]
        self._client = self._make_client()
        url = urlparse(self.config.broker.url)
        self._client.connect_async(url.hostname or "127.0.0.1", url.port or 1883,
                                   keepalive=self.config.broker.keepalive_s,
                                   clean_start=False, properties=self._connect_props())
        self._client.loop_start()

    async def stop(self) -> None:
        """Disconnect, flush the inbox and close the store."""
        if self._client is not None:
            self._client.disconnect()
            await asyncio.to_thread(self._client.loop_stop)
            self._client = None
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        await self.store.close()

    async def _load(self) -> None:
        for dev in await self.store.devices():
            self.fleet.devices[dev.device_id] = dev
        for entry in self.config.rooms:
            await self.store.put_registry(entry.device_id, entry.town, entry.school, entry.room)
        if self.config.registry_file:
            for entry in await asyncio.to_thread(load_registry_file, self.config.registry_file):
                await self.store.put_registry(entry.device_id, entry.town, entry.school, entry.room)
        self.fleet.places = {r[0]: (r[1], r[2], r[3]) for r in await self.store.registry()}
        self.fleet.acks = await self.store.acks()
        self.fleet.cfg_pushed = await self.store.cfg_versions()
        self.fleet.cfg, skipped = apply_settings(self.config.alerts, await self.store.settings())
        if skipped:
            logger.warning("saved dashboard settings not applied (bad value or unknown name): %s;"
                           " the config file's values stay", ", ".join(sorted(skipped)))
        now = time.time()
        for device_id, ts, _kind, _data in await self.store.events_between(
                now - 7 * 86400, now + 86400, ("help.request",)):
            self.fleet.help[device_id].append((f"{device_id}@{ts}", ts))
        await self.refresh_forecasts()

    async def refresh_forecasts(self) -> None:
        """Average daily projector hours per device over the last four weeks."""
        now = time.time()
        start = now - FORECAST_DAYS * 86400
        u = usage(await self.store.events_between(start, now, USAGE_TYPES), start, now)
        self.fleet.daily_h = {d: seconds(i) / 3600 / FORECAST_DAYS for d, i in u.projector.items()}

    # --- MQTT (paho thread) ---

    def _connect_props(self) -> Properties:
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = self.config.broker.session_expiry_s
        return props

    def _make_client(self) -> mqtt.Client:
        broker = self.config.broker
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=broker.client_id,
                             protocol=mqtt.MQTTv5, manual_ack=True)
        if broker.username:
            client.username_pw_set(broker.username, broker.password or None)
        if broker.url.startswith("mqtts://"):
            client.tls_set(ca_certs=broker.ca_file or None)
        client.max_inflight_messages_set(1000)
        client.max_queued_messages_set(0)
        client.reconnect_delay_set(1, 30)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        return client

    def _subscriptions(self) -> list[tuple[str, int]]:
        group = self.config.broker.share_group
        topics = [f"$share/{group}/roomctl/v1/dev/+/evt/#"]
        topics += [f"roomctl/v1/dev/+/{k}" for k in ("status", "state", "meta", "cmd_result")]
        return [(t, 1) for t in topics]

    def _on_connect(self, client: mqtt.Client, _u: Any, flags: Any, reason: Any, _p: Any) -> None:
        if reason.is_failure:
            logger.warning("broker refused the dashboard: %s", reason)
            return
        logger.info("connected to broker (session present: %s)", flags.session_present)
        client.subscribe(self._subscriptions())
        assert self._loop is not None
        self._loop.call_soon_threadsafe(self.connected.set)

    def _on_disconnect(self, _c: Any, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        logger.warning("disconnected from broker: %s", reason)
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self.connected.clear)

    def _on_message(self, _c: Any, _u: Any, msg: mqtt.MQTTMessage) -> None:
        self._inbox.append((msg.topic, bytes(msg.payload), msg.mid, msg.qos, time.time()))
        if not self._wake_pending and self._loop is not None:
            self._wake_pending = True
            self._loop.call_soon_threadsafe(self._wake.set)

    # --- writer (event loop) ---

    async def _writer(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            self._wake_pending = False
            while self._inbox:
                batch = [self._inbox.popleft()
                         for _ in range(min(len(self._inbox), self.config.store.batch_max))]
                if await self._store_batch(batch):
                    self._ack(batch)

    async def _store_batch(self, batch: list[Raw]) -> bool:
        """Store ``batch``; during a store outage keep it (unacked) and retry with backoff.

        A batch that keeps failing while single messages of it store fine holds a message the
        store cannot take: that one is dropped (counted in ``stats["store_dropped"]``) so it
        cannot block the rest for ever.
        """
        try:
            await self._ingest(batch)
            self._store_failures = 0
            return True
        except Exception as err:
            self._store_failures += 1
            if self._store_failures == 1:
                logger.warning("storing a batch of %d messages failed: %s", len(batch), err)
        if self._store_failures >= 3 and await self._store_singly(batch):
            self._store_failures = 0
            return False  # _store_singly acknowledged what it stored or dropped
        self._inbox.extendleft(reversed(batch))
        await asyncio.sleep(min(STORE_RETRY_MAX_S, STORE_RETRY_S * 2 ** self._store_failures))
        return False

    async def _store_singly(self, batch: list[Raw]) -> bool:
        """One message at a time; False (nothing acked) when none stores: an outage."""
        stored, failed = [], []
        for raw in batch:
            try:
                await self._ingest([raw])
                stored.append(raw)
            except Exception:
                failed.append(raw)
        if not stored:
            return False
        for raw in failed:
            logger.warning("dropping a message the store refuses, on %s", raw[0][:120])
        self.stats["store_dropped"] = self.stats.get("store_dropped", 0) + len(failed)
        self._ack([*stored, *failed])
        return True

    def _ack(self, batch: Iterable[Raw]) -> None:
        client = self._client
        for _t, _p, mid, qos, _r in batch:
            if client is not None and qos > 0:
                client.ack(mid, qos)

    async def _ingest(self, batch: list[Raw]) -> None:
        events: list[p.Event] = []
        touched: dict[str, DeviceRow] = {}
        seqs: list[tuple[str, str, int]] = []
        results: list[tuple[str, dict[str, Any], float]] = []
        for topic, payload, _mid, _qos, received in batch:
            try:
                self._decode(topic, payload, received, events, touched, seqs, results)
            except ProtocolError as err:
                self.stats["rejected"] += 1
                self._log_bad(topic, err)
        self.stats["messages"] += len(batch)
        now = time.time()
        new = await self.store.write_batch(events, touched.values(), seqs, now)
        self.stats["events_new"] += len(new)
        self.stats["events_dup"] += len(events) - len(new)
        for event in new:
            if event.type == "help.request":
                self.fleet.help[event.device_id].append((event.event_id, event.ts))
                touched.setdefault(event.device_id, self.fleet.device(event.device_id, now))
        for cmd_id, data, at in results:
            await self._store_result(cmd_id, data, at)
        for device_id in touched:
            self.push({"t": "tile", "id": device_id, "status": self.fleet.status(device_id, now),
                       "ts": (self.fleet.devices[device_id].state or {}).get("ts")})

    def _decode(self, topic: str, payload: bytes, received: float, events: list[p.Event],
                touched: dict[str, DeviceRow], seqs: list[tuple[str, str, int]],
                results: list[tuple[str, dict[str, Any], float]]) -> None:
        t = p.parse_topic(topic)
        if t.kind == "evt":
            event = p.decode_event(t, payload)
            events.append(event)
            seqs.append((t.device_id, event.boot_id, event.seq))
        elif not payload:  # an empty retained payload: decommissioned, nothing to record
            return
        elif t.kind == "status":
            touched[t.device_id] = self.fleet.apply_status(t.device_id, p.decode_status(payload),
                                                           received)
        elif t.kind == "state":
            state = p.decode_state(payload)
            touched[t.device_id] = self.fleet.apply_state(t.device_id, state, received)
            if isinstance(state.get("seq"), int):
                seqs.append((t.device_id, str(state.get("boot_id", "")), state["seq"]))
        elif t.kind == "meta":
            dev = self.fleet.device(t.device_id, received)
            dev.meta = p.load_json(payload)
            touched[t.device_id] = dev
        elif t.kind == "cmd_result":
            results.append((t.device_id, p.decode_cmd_result(payload), received))

    async def _store_result(self, device_id: str, data: dict[str, Any], at: float) -> None:
        detail = data.get("detail")
        detail_text = "" if detail is None else json.dumps(detail) if not isinstance(detail, str) \
            else detail
        if await self.store.set_command_result(data["cmd_id"], str(data["status"])[:32],
                                               detail_text[:500], at):
            self.push({"t": "cmd", "id": device_id, "cmd_id": data["cmd_id"],
                       "status": data["status"]})

    def _log_bad(self, topic: str, err: ProtocolError) -> None:
        # Log each misbehaving topic once, so one broken device cannot flood the journal.
        if topic not in self._bad_logged and len(self._bad_logged) < 10_000:
            self._bad_logged.add(topic)
            logger.warning("rejected message on %s: %s", topic, err)

    async def _housekeeping(self) -> None:
        # Offline-for-N-minutes and after-hours alerts appear with time, not with a message.
        last: dict[str, str] = {}
        while True:
            await asyncio.sleep(30)
            now = time.time()
            for device_id in list(self.fleet.devices):
                status = self.fleet.status(device_id, now)
                if last.get(device_id) != status:
                    last[device_id] = status
                    self.push({"t": "tile", "id": device_id, "status": status})

    # --- live listeners ---

    def listen(self) -> asyncio.Queue[dict[str, Any]]:
        """A queue receiving every live update until ``unlisten``."""
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(LIVE_QUEUE_MAX)
        self._listeners.add(queue)
        return queue

    def unlisten(self, queue: asyncio.Queue[dict[str, Any]]) -> None:
        """Stop feeding a queue."""
        self._listeners.discard(queue)

    def push(self, update: dict[str, Any]) -> None:
        """Send an update to every listener; a listener that lags loses updates, not the loop."""
        for queue in self._listeners:
            if not queue.full():
                queue.put_nowait(update)

    # --- outbound: commands and config ---

    def publish(self, topic: str, body: dict[str, Any], *, retain: bool = False,
                expiry_s: int = 0) -> None:
        """Publish QoS 1 (non-blocking; paho queues while offline)."""
        assert self._client is not None
        props = Properties(PacketTypes.PUBLISH)
        if expiry_s:
            props.MessageExpiryInterval = expiry_s
        self._client.publish(topic, json.dumps(body, separators=(",", ":")), qos=1,
                             retain=retain, properties=props if expiry_s else None)

    async def command(self, device_ids: Iterable[str], name: str, args: dict[str, Any],
                      user: str) -> list[str]:
        """Send one command to each device, record it and audit it; the cmd_ids."""
        now = time.time()
        expiry = self.config.command_expiry_s
        ids = []
        for device_id in device_ids:
            cmd_id = ulid(now)
            body = {"v": 1, "cmd_id": cmd_id, "name": name, "args": args, "issued_at": p.iso(now),
                    "expires_at": p.iso(now + expiry), "by": user}
            await self.store.add_command((cmd_id, device_id, name, json.dumps(args), now,
                                          now + expiry, user, "sent", "", None))
            await self.store.audit(now, user, f"cmd:{name}", device_id, json.dumps(args), cmd_id)
            self.publish(f"{p.PREFIX}{device_id}/cmd/{name}", body, expiry_s=expiry)
            ids.append(cmd_id)
        return ids

    async def push_cfg(self, device_ids: Iterable[str], body: dict[str, Any], user: str) -> int:
        """Publish desired config as retained ``cfg``; the new cfg_version."""
        now = time.time()
        version = max([0, *self.fleet.cfg_pushed.values()]) + 1
        full = {"v": 1, "cfg_version": version, **body}
        text = json.dumps(full)
        for device_id in device_ids:
            await self.store.put_cfg(device_id, version, text, user, now)
            self.fleet.cfg_pushed[device_id] = version
            self.publish(f"{p.PREFIX}{device_id}/cfg", full, retain=True)
        await self.store.audit(now, user, "cfg", ",".join(device_ids)[:500], text[:500])
        return version

    async def save_settings(self, values: dict[str, Any], user: str) -> AlertConfig:
        """Apply thresholds and schedule changed on the dashboard and keep them over a restart.

        The audit line comes with the push of the new ``cfg`` that follows."""
        self.fleet.cfg, _skipped = apply_settings(self.fleet.cfg, values)
        await self.store.put_settings(values, user, time.time())
        return self.fleet.cfg

    async def acknowledge(self, device_id: str, kind: str, key: str, user: str) -> None:
        """Acknowledge an alert and audit it."""
        now = time.time()
        await self.store.ack(device_id, kind, key, user, now)
        await self.store.audit(now, user, "ack", device_id, f"{kind}:{key}")
        self.fleet.acks[(device_id, kind, key)] = user
        self.push({"t": "tile", "id": device_id, "status": self.fleet.status(device_id, now)})

    async def enrol(self, device_id: str, place: tuple[str, str, str], user: str) -> None:
        """Place a device in the estate (IT's decision) and audit it."""
        await self.store.put_registry(device_id, *place)
        await self.store.audit(time.time(), user, "enrol", device_id, "/".join(place))
        self.fleet.places[device_id] = place
