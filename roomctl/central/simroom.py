"""One simulated appliance: lessons, shares, projector, faults and help calls on a sim clock.

Pure: ``tick(now)`` and ``handle(...)`` return the messages to publish; the runner in
``simulator`` owns the MQTT clients. Payloads follow the v1 contract (§7 of the telemetry notes).
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from roomctl.central.ids import ulid
from roomctl.central.payloads import PREFIX, iso

Message = tuple[str, bytes, bool]  # topic, payload, retain
TZ = ZoneInfo("Europe/Helsinki")
LESSON_S = 45 * 60
LESSON_GAP_S = 20 * 60  # mean idle time between lessons in a room during school hours


def _dump(body: dict[str, Any]) -> bytes:
    return json.dumps(body, separators=(",", ":")).encode()


@dataclass
class SimRoom:
    """The observable state of one simulated room."""

    device_id: str
    rng: random.Random = field(default_factory=random.Random)
    boot_id: str = ""
    seq: int = 0
    conn_seq: int = 0
    power: bool = False
    casting: bool = False
    cast_since: float = 0.0
    lamp_hours: float = 0.0
    filter_hours: float = 0.0
    lamp_rated: int = 4000
    filter_rated: int = 2000
    errors: list[dict[str, Any]] = field(default_factory=list)
    cfg_version: int = 0
    lesson_end: float = 0.0
    last_tick: float = 0.0
    results: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.boot_id = self.boot_id or ulid()
        self.lamp_hours = float(self.rng.randint(100, 3000))
        self.filter_hours = self.lamp_hours % 1500

    def topic(self, kind: str) -> str:
        """A topic of this room."""
        return f"{PREFIX}{self.device_id}/{kind}"

    def _next_seq(self) -> int:
        self.seq += 1
        return self.seq

    def birth(self, now: float) -> Message:
        """The retained online status (same ``conn_seq`` as the Will of this connection)."""
        body = {"v": 1, "online": True, "dev": self.device_id, "boot_id": self.boot_id,
                "conn_seq": self.conn_seq, "ts": iso(now), "clk_sync": True, "sw": "roomctl-sim"}
        return self.topic("status"), _dump(body), True

    def will(self, reason: str = "lost") -> Message:
        """The offline status (as the Will, or published on the room's behalf)."""
        body = {"v": 1, "online": False, "reason": reason, "dev": self.device_id,
                "boot_id": self.boot_id, "conn_seq": self.conn_seq}
        return self.topic("status"), _dump(body), True

    def mode(self) -> str:
        """idle, in_use or casting, as the appliance derives it."""
        return "casting" if self.casting else "in_use" if self.power else "idle"

    def state(self, now: float) -> Message:
        """The retained full snapshot."""
        projector = {"reachable": True, "power": "on" if self.power else "off", "input": "hdmi1",
                     "lamp_hours": int(self.lamp_hours), "lamp_rated": self.lamp_rated,
                     "filter_hours": int(self.filter_hours), "filter_rated": self.filter_rated,
                     "errors": list(self.errors), "model": "SIM-1", "proto": "pjlink"}
        cast = {"active": self.casting, "since": iso(self.cast_since) if self.casting else None,
                "clients": int(self.casting), "pairing": "idle"}
        body = {"v": 1, "dev": self.device_id, "boot_id": self.boot_id, "seq": self._next_seq(),
                "ts": iso(now), "mode": self.mode(), "projector": projector, "cast": cast,
                "occupancy": None, "cfg_version": self.cfg_version,
                "health": {"outbox_depth": 0, "clk_sync": True}}
        return self.topic("state"), _dump(body), True

    def event(self, now: float, kind: str, data: dict[str, Any]) -> Message:
        """One event envelope on ``evt/{category}``."""
        body = {"v": 1, "id": ulid(now), "dev": self.device_id, "boot_id": self.boot_id,
                "seq": self._next_seq(), "ts": iso(now), "clk_sync": True, "type": kind,
                "data": data}
        return self.topic(f"evt/{kind.split('.')[0]}"), _dump(body), False

    # --- actions (each returns the messages it causes) ---

    def set_power(self, now: float, on: bool, source: str = "user") -> list[Message]:
        """Switch the projector."""
        if on == self.power:
            return []
        out = self.stop_cast(now) if not on else []
        self.power = on
        return [*out, self.event(now, "projector.power", {"on": on, "source": source}),
                self.state(now)]

    def start_cast(self, now: float) -> list[Message]:
        """Someone starts sharing a screen (the projector comes on first)."""
        out = self.set_power(now, True, "auto")
        if self.casting:
            return out
        self.casting, self.cast_since = True, now
        return [*out, self.event(now, "cast.session_start", {"session_id": ulid(now)}),
                self.state(now)]

    def stop_cast(self, now: float) -> list[Message]:
        """The share ends."""
        if not self.casting:
            return []
        self.casting = False
        data = {"started": iso(self.cast_since), "duration_s": int(now - self.cast_since),
                "clients_max": 1}
        return [self.event(now, "cast.session_end", data), self.state(now)]

    def fault(self, now: float, code: str = "lamp") -> list[Message]:
        """The projector reports an error."""
        self.errors = [{"code": code, "text": f"{code} failure"}]
        return [self.event(now, "projector.error", {"code": code}), self.state(now)]

    def help_request(self, now: float) -> list[Message]:
        """A teacher presses "Call for help"."""
        return [self.event(now, "help.request", {"from": "teacher"})]

    # --- commands and config ---

    def handle(self, now: float, name: str, payload: bytes) -> list[Message]:
        """Answer a ``cmd/{name}`` message and carry it out."""
        try:
            body = json.loads(payload)
            cmd_id = str(body["cmd_id"])
        except (ValueError, KeyError, TypeError):
            return []
        out: list[Message] = []
        status = "ok"
        if cmd_id in self.results:
            status = "duplicate"
        elif name == "projector.power":
            out = self.set_power(now, bool((body.get("args") or {}).get("on")), "cmd")
        elif name == "room.stop_all_shares":
            out = self.stop_cast(now)
        elif name != "display.message":
            status = "rejected"
        self.results = [*self.results[-99:], cmd_id]
        result = {"v": 1, "cmd_id": cmd_id, "name": name, "status": status, "ts": iso(now),
                  "detail": None}
        return [*out, (self.topic("cmd_result"), _dump(result), False)]

    def apply_cfg(self, now: float, payload: bytes) -> list[Message]:
        """Apply a retained ``cfg`` and report its version in the next state."""
        try:
            version = int(json.loads(payload)["cfg_version"])
        except (ValueError, KeyError, TypeError):
            return []
        if version == self.cfg_version:
            return []
        self.cfg_version = version
        return [self.state(now)]

    # --- the day ---

    def tick(self, now: float) -> list[Message]:
        """Advance to ``now``: wear, lesson start or end, rare faults and help calls."""
        dt = now - self.last_tick if self.last_tick else 0.0
        self.last_tick = now
        if self.power:
            self.lamp_hours += dt / 3600
            self.filter_hours += dt / 3600
        if self.lesson_end and now >= self.lesson_end:
            self.lesson_end = 0.0
            out = self.stop_cast(now)
            left_on = self.rng.random() < 0.05
            return out if left_on else out + self.set_power(now, False)
        if self.lesson_end or not self._school_time(now):
            return []
        if self.rng.random() < dt / LESSON_GAP_S:
            self.lesson_end = now + LESSON_S * self.rng.uniform(0.6, 1.2)
            out = self.set_power(now, True)
            if self.rng.random() < 0.7:
                out += self.start_cast(now)
            if self.rng.random() < 0.01:
                out += self.fault(now, "E-12")
            if self.rng.random() < 0.01:
                out += self.help_request(now)
            return out
        return []

    @staticmethod
    def _school_time(now: float) -> bool:
        local = datetime.fromtimestamp(now, TZ)
        return local.weekday() < 5 and 8 <= local.hour < 15
