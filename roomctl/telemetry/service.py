"""The telemetry service: room state and events out to MQTT, commands and config in.

Event loop side: bus events become outbox rows (``_emit``/``_flush``); one publisher task
hands unsent rows to MQTT in order, ``WINDOW`` at a time, paced by ``replay_rate``; PUBACKs
delete them. Blocking work (SQLite, /proc, every paho call) runs on one dedicated I/O thread,
which also makes "register the mid, then match its PUBACK" race-free: PUBACKs are queued by
paho's thread and matched by the I/O thread in a later job than the publish that made them.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import platform
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import paho.mqtt

from roomctl import __version__
from roomctl.config.model import Config
from roomctl.room import Room
from roomctl.telemetry import commands, homeassistant, payloads, system
from roomctl.telemetry.ids import ConnectCounter, load_or_create_device_id, new_boot_id, ulid
from roomctl.telemetry.mapping import PRECIOUS, event_data
from roomctl.telemetry.mqtt import WINDOW, Bridge, Identity, MqttLink
from roomctl.telemetry.outbox import HIGH, LOW, Outbox, Pacer, Row
from roomctl.telemetry.topics import Topics
from roomctl.telemetry.usage import UsageTracker

logger = logging.getLogger(__name__)
T = TypeVar("T")
USAGE_TICK_S = 60.0
INCOMING_MAX = 100


def _dump(body: dict[str, Any]) -> bytes:
    return json.dumps(body, separators=(",", ":")).encode()


class TelemetryService:
    """MQTT 5 telemetry for one room; a no-op when ``[mqtt] url`` is empty."""

    def __init__(self, config: Config, room: Room, state_dir: Path) -> None:
        self.config = config
        self.mqtt = config.mqtt
        self.room = room
        self.state_dir = Path(state_dir) / "telemetry"
        self.boot_id = new_boot_id()
        self.device_id = config.mqtt.device_id
        self.sw = f"roomctl {__version__}"
        self.connected = False
        self.refresh_s: float = config.mqtt.state_refresh_s
        self.metrics_s: float = config.mqtt.metrics_interval_s
        self.outbox = Outbox(
            self.state_dir / "outbox.sqlite3",
            max_events=config.mqtt.outbox_max_events,
            max_age_s=config.mqtt.outbox_max_age_days * 86400.0,
        )
        self.stats = {"sent": 0, "acked": 0, "refused": 0, "dropped": 0, "incoming_dropped": 0}
        self._seq = 0
        self._pending: list[Row] = []
        self._tasks: set[asyncio.Task[Any]] = set()
        self._io: ThreadPoolExecutor | None = None
        self._link: MqttLink | None = None
        self._topics = Topics(self.device_id or "unset")
        self._wake = asyncio.Event()
        self._state_dirty = asyncio.Event()
        self._incoming: asyncio.Queue[tuple[str, bytes, bool]] = asyncio.Queue(INCOMING_MAX)
        self._cfg_payload: bytes | None = None
        self._cfg_wake = asyncio.Event()
        self._cfg: dict[str, Any] | None = None
        self._usage = UsageTracker(config.room.timezone)
        self._health: dict[str, Any] = {}
        self._clk = False
        self._inflight: dict[int, int] = {}  # mid -> rowid; I/O thread only
        self._last_sent = 0  # rowid; I/O thread only
        self._started_mono = time.monotonic()
        self._pacer = Pacer(config.mqtt.replay_rate, burst=WINDOW)

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Open the outbox, start the tasks and connect in the background."""
        if not self.mqtt.enabled:
            logger.info("telemetry is off (no [mqtt] url)")
            return
        if self._io is not None:
            return
        self._io = ThreadPoolExecutor(1, thread_name_prefix="telemetry-io")
        try:
            cfg, usage = await self._run(self._open)
        except Exception:  # the appliance reports it and serves the room without telemetry
            self._io.shutdown(wait=False)
            self._io = None
            raise
        if self.outbox.moved_aside is not None:
            self.room.warnings.add(
                "mqtt.outbox",
                "telemetry.outbox_corrupt",
                f"the outbox was corrupt and was replaced (old file: {self.outbox.moved_aside})",
            )
        self._topics = Topics(self.device_id)
        if cfg is not None:
            self._apply_parsed(commands.parse_cfg(_dump(cfg)))
        self._usage.restore(usage)
        self._sub = self.room.bus.subscribe(maxsize=10_000)
        self._emit("system.boot", {"version": __version__}, HIGH)
        await self._flush()
        for job in (
            self._pump,
            self._publisher,
            self._state_loop,
            self._metrics_loop,
            self._usage_loop,
            self._command_loop,
            self._cfg_loop,
        ):
            self._spawn(job())
        self._link = self._make_link()
        await self._run(self._link.start, asyncio.get_running_loop())

    async def stop(self) -> None:
        """Deliver what can be delivered quickly, say ``shutdown`` and disconnect."""
        if self._io is None:
            return
        self._sub.close()
        await self._flush()
        if self.connected:
            await self.drain(timeout_s=2.0)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        with contextlib.suppress(Exception):
            await self._run(self.outbox.put, "usage", self._usage.dump())
        if self._link is not None:
            await self._run(self._link.stop)
            await self._run(self._drain_acks)
        await self._run(self.outbox.close)
        self._io.shutdown(wait=False)
        self._io, self._link, self.connected = None, None, False

    async def drain(self, timeout_s: float = 10.0) -> bool:
        """Wait until every queued event is acknowledged (or the timeout passes)."""
        deadline = time.monotonic() + timeout_s
        while self._pending or self.outbox.depth > 0:
            if time.monotonic() > deadline:
                return False
            await asyncio.sleep(0.01)
        return True

    def _open(self) -> tuple[Any, Any]:
        self.outbox.open()
        self.device_id = load_or_create_device_id(self.state_dir, self.mqtt.device_id)
        self._clk = system.clock_synced()
        return self.outbox.get("central_cfg"), self.outbox.get("usage")

    def _make_link(self) -> MqttLink:
        bridge = Bridge(
            connected=self._on_connected,
            disconnected=self._on_disconnected,
            message=self._on_message,
            acked=self._wake.set,
            clk_sync=lambda: self._clk,
        )
        ident = Identity(self.device_id, self.boot_id, self.sw)
        link = MqttLink(self.mqtt, ident, ConnectCounter(self.state_dir / "conn_seq"), bridge)
        if self.mqtt.homeassistant:
            link.extra_subscriptions.append(homeassistant.STATUS_TOPIC)
        return link

    async def _run(self, func: Callable[..., T], *args: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._io, functools.partial(func, *args))

    def _spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error("telemetry task failed", exc_info=task.exception())

    # -- events into the outbox -------------------------------------------------------------

    def _next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def _emit(self, event_type: str, data: dict[str, Any], priority: int = LOW) -> None:
        """Queue one event envelope; ``_flush`` commits it."""
        at = payloads.stamp(self._clk)
        event_id = ulid()
        body = payloads.envelope(
            self.device_id, self.boot_id, self._next_seq(), event_id, at, event_type, data
        )
        topic = self._topics.event(event_type)
        self._pending.append(Row(event_id, topic, _dump(body), time.time(), priority))

    async def _flush(self) -> None:
        """Commit pending rows (in order: one I/O thread) and wake the publisher."""
        if not self._pending:
            return
        rows, self._pending = self._pending, []
        trimmed = await self._run(self.outbox.add, rows)
        if trimmed.dropped:
            self.stats["dropped"] += trimmed.dropped
            logger.warning("outbox full: dropped %s oldest events", trimmed.dropped)
            oldest = payloads.iso(trimmed.oldest_ts) if trimmed.oldest_ts else None
            self._emit(
                "system.outbox_overflow", {"dropped": trimmed.dropped, "oldest": oldest}, HIGH
            )
            await self._flush()
        self._wake.set()

    async def _pump(self) -> None:
        while True:
            batch = [await self._sub.get()]
            while len(batch) < 500 and (more := self._sub.get_nowait()) is not None:
                batch.append(more)
            for event in batch:
                self._state_dirty.set()
                for day in self._usage.feed(event, time.time()):
                    self.room.bus.publish(day)
                mapped = event_data(event)
                if mapped is not None:
                    self._emit(*mapped, HIGH if mapped[0] in PRECIOUS else LOW)
            await self._flush()

    # -- the publisher (outbox -> MQTT) ----------------------------------------------------

    async def _publisher(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            budget = self._pacer.available() if self.connected else 0
            if self.connected and budget < 1:
                # Paced: a fleet returning after an outage must not flood the broker.
                await asyncio.sleep(self._pacer.wait_s())
                self._wake.set()
                continue
            sent = await self._run(self._exchange, budget)
            self._pacer.spend(sent)
            if sent:
                self._wake.set()

    def _exchange(self, budget: int) -> int:
        """I/O thread: delete acknowledged rows, then send up to ``budget`` new ones."""
        if self._link is not None and self._link.acks:
            self._drain_acks()
        return self._send_batch(budget) if budget > 0 else 0

    def _send_batch(self, budget: int) -> int:
        """I/O thread: publish unsent rows in order while the window has room."""
        free = min(budget, WINDOW - len(self._inflight))
        if free <= 0 or self._link is None:
            return 0
        rows = self.outbox.after(self._last_sent, free)
        for rowid, topic, payload in rows:
            mid = self._link.publish(topic, payload, qos=1)
            self._inflight[mid] = rowid
            self._last_sent = rowid
        self.stats["sent"] += len(rows)
        return len(rows)

    def _drain_acks(self) -> None:
        """I/O thread: delete the rows whose PUBACK arrived."""
        if self._link is None:
            return
        done = []
        while self._link.acks:
            mid, refused = self._link.acks.popleft()
            rowid = self._inflight.pop(mid, None)
            if rowid is not None:
                done.append(rowid)
                self.stats["refused" if refused else "acked"] += 1
        self.outbox.ack(done)

    # -- connection callbacks (on the loop) ----------------------------------------------------

    def _on_connected(self, session_present: bool, conn_seq: int) -> None:
        logger.info("telemetry connected (conn_seq %s, session %s)", conn_seq, session_present)
        self.connected = True
        self._state_dirty.set()
        self._wake.set()
        self._spawn(self._publish_retained())

    def _on_disconnected(self, reason: str) -> None:
        self.connected = False

    def _on_message(self, topic: str, payload: bytes, retain: bool) -> None:
        if topic == self._topics.cfg:
            self._cfg_payload = payload
            self._cfg_wake.set()
        elif topic == homeassistant.STATUS_TOPIC:
            if payload.strip() == b"online" and self.mqtt.homeassistant:
                self._spawn(self._publish_retained())
        else:
            name = self._topics.command_name(topic)
            try:
                self._incoming.put_nowait((name or "", payload, retain))
            except asyncio.QueueFull:
                self.stats["incoming_dropped"] += 1

    async def _publish(
        self, topic: str, body: dict[str, Any], qos: int = 1, retain: bool = False
    ) -> None:
        if self._link is not None:
            await self._run(self._link.publish, topic, _dump(body), qos, retain)

    async def _publish_retained(self) -> None:
        devices = {i: {"role": d.role, **d.snapshot()} for i, d in self.room.devices.items()}
        room = self.config.room
        versions = {
            "roomctl": __version__,
            "python": platform.python_version(),
            "paho": str(paho.mqtt.__version__),
        }
        body = payloads.meta(
            self.device_id,
            self.boot_id,
            {"id": room.id, "name": room.name, "site": room.site},
            devices,
            versions,
        )
        await self._publish(self._topics.meta, body, retain=True)
        if self.mqtt.homeassistant:
            disco = homeassistant.discovery(self._topics, room.name, self.sw)
            await self._publish(homeassistant.discovery_topic(self.device_id), disco, retain=True)

    # -- state and metrics ------------------------------------------------------------------

    def build_state(self) -> dict[str, Any]:
        """The current retained ``state`` payload."""
        snapshot = self.room.snapshot()
        display = self.room.main_display()
        devices = snapshot.get("devices", {})
        at = payloads.stamp(self._clk)
        head = {
            "v": 1,
            "dev": self.device_id,
            "boot_id": self.boot_id,
            "seq": self._next_seq(),
            "ts": at.ts,
            "mono_ms": at.mono_ms,
        }
        health = {
            "outbox_depth": self.outbox.depth,
            "clk_sync": self._clk,
            "temp_c": self._health.get("cpu_temp_c"),
            "disk_free_mb": self._health.get("disk_free_mb"),
        }
        body = payloads.state(
            snapshot,
            extra=self.room.state.extra,
            display=devices.get(display.device_id) if display else None,
            head=head,
            health=health,
            cfg_version=self._cfg_version(),
        )
        self._usage.participants(body["participants"])
        return body

    async def _state_loop(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.refresh_s):
                    await self._state_dirty.wait()
            self._state_dirty.clear()
            if self.connected:
                await self._publish(self._topics.state, self.build_state(), retain=True)
            await asyncio.sleep(self.mqtt.state_min_interval_s)  # coalescing window

    async def _metrics_loop(self) -> None:
        while True:
            self._health = await self._run(system.sample, self.state_dir)
            self._clk = await self._run(system.clock_synced)
            if self.connected:
                at = payloads.stamp(self._clk)
                body = {
                    "v": 1,
                    "dev": self.device_id,
                    "boot_id": self.boot_id,
                    "ts": at.ts,
                    "uptime_s": round(time.monotonic() - self._started_mono),
                    "outbox_depth": self.outbox.depth,
                    "clk_sync": self._clk,
                    **self._health,
                }
                await self._publish(self._topics.metrics, body, qos=0)
            await asyncio.sleep(self.metrics_s)

    async def _usage_loop(self) -> None:
        while True:
            await asyncio.sleep(USAGE_TICK_S)
            for day in self._usage.tick(time.time()):
                self.room.bus.publish(day)
            await self._run(self.outbox.put, "usage", self._usage.dump())

    # -- commands and central config ----------------------------------------------------------

    async def _command_loop(self) -> None:
        while True:
            name, payload, retain = await self._incoming.get()
            try:
                status, detail, cmd_id = await self._handle_command(name, payload, retain)
            except Exception:  # a bug here must not stop all later commands
                logger.exception("command %s could not be handled", name)
                status, detail, cmd_id = "error", "internal error", None
            body = payloads.cmd_result(cmd_id, name, status, payloads.stamp(self._clk), detail)
            event_id = ulid()
            self._pending.append(
                Row(event_id, self._topics.cmd_result, _dump(body), time.time(), HIGH)
            )
            await self._flush()

    async def _handle_command(
        self, name: str, payload: bytes, retain: bool
    ) -> tuple[str, Any, str | None]:
        now = time.time()
        parsed = commands.parse_command(name, payload, now)
        if isinstance(parsed, commands.Command) and retain:
            parsed = commands.Refusal(parsed.cmd_id, name, "rejected", "retained commands refused")
        if isinstance(parsed, commands.Command) and not await self._run(
            self.outbox.remember_command, parsed.cmd_id, now
        ):
            parsed = commands.Refusal(parsed.cmd_id, name, "duplicate", "cmd_id already seen")
        if isinstance(parsed, commands.Refusal):
            logger.info("command %s refused: %s (%s)", name, parsed.status, parsed.detail)
            return parsed.status, parsed.detail, parsed.cmd_id
        logger.info("command %s %s by %s", name, parsed.cmd_id, parsed.by or "?")
        status, detail = await commands.execute(self.room, parsed)
        return status, detail, parsed.cmd_id

    async def _cfg_loop(self) -> None:
        while True:
            await self._cfg_wake.wait()
            self._cfg_wake.clear()
            payload, self._cfg_payload = self._cfg_payload, None
            if payload:  # an empty retained payload only clears the broker's copy
                await self._apply_cfg(payload)

    async def _apply_cfg(self, payload: bytes) -> None:
        parsed = commands.parse_cfg(payload)
        if not isinstance(parsed, str):
            if self._cfg is not None and self._cfg.get("cfg_version") == parsed[0].cfg_version:
                return
            await self._run(self.outbox.put, "central_cfg", parsed[1])
        if self._apply_parsed(parsed):
            self._emit("system.cfg_applied", {"cfg_version": self._cfg_version()})
        else:
            self._emit("system.cfg_rejected", {"problems": str(parsed)[:500]})
        await self._flush()

    def _cfg_version(self) -> int | None:
        return self._cfg.get("cfg_version") if self._cfg else None

    def _apply_parsed(self, parsed: tuple[commands.CentralConfig, dict[str, Any]] | str) -> bool:
        """Swap in a validated central config in one step; a bad one changes nothing."""
        if isinstance(parsed, str):
            logger.warning("central config refused: %s", parsed)
            self.room.warnings.add(
                "mqtt.cfg", "telemetry.cfg_invalid", f"central config refused: {parsed}"
            )
            return False
        cfg, body = parsed
        self._cfg = body
        self.refresh_s = cfg.telemetry.state_refresh_s or self.mqtt.state_refresh_s
        self.metrics_s = cfg.telemetry.metrics_s or self.mqtt.metrics_interval_s
        self.room.state.extra["central_cfg"] = body
        self.room.warnings.clear("mqtt.cfg")
        self.room.changed("cfg")
        return True
