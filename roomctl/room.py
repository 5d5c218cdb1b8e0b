"""The room core: the one owner of the room's state (participants, roles, pairing, devices,
shares), publishing typed events on the bus. Web, MQTT, mDNS and the kiosk are adapters that
read ``snapshot()`` and call the operations here; none of them keeps room state of its own.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol

from roomctl.config.model import Config
from roomctl.core.bus import EventBus
from roomctl.core.errors import PairingError, PermissionDenied, RateLimited
from roomctl.core.events import (
    DisplayMessage,
    HelpRequested,
    PairingFailed,
    PairingRotated,
    ParticipantJoined,
    ParticipantLeft,
    RoomChanged,
)
from roomctl.core.tasks import cancel
from roomctl.core.warnings import WarningsRegistry
from roomctl.pairing import Pairing, PairingInfo, RateLimiter, Verdict
from roomctl.passwords import verify_password
from roomctl.roles import Role
from roomctl.roster import Participant, Roster, clean_name
from roomctl.sessions import Session, SessionSigner, new_sid
from roomctl.statedir import StateDir

logger = logging.getLogger(__name__)


class DeviceHandle(Protocol):
    """What the room needs of a device coordinator (``roomctl.coordinator.Coordinator``)."""

    device_id: str
    role: str  # "main_display" | "display" | "plug" | "sensor" | "lamp" | ...

    def snapshot(self) -> dict[str, Any]:
        """JSON-ready state: state, capabilities, available, last_error, lockout."""

    async def command(self, name: str, **args: Any) -> None:
        """Queue one command and wait for its result."""

    async def make_ready(self) -> dict[str, Any]:
        """Power on and select the configured input; returns e.g. {"warming_s": 23}."""


@dataclass(frozen=True)
class Message:
    """A message on the display: an announcement, the identify banner, a notice."""

    text: str
    kind: str
    until: float  # time.time()


@dataclass
class RoomState:
    """Mutable room state owned by Room; everything else reads snapshots."""

    messages: list[Message] = field(default_factory=list)
    locked: bool = False
    maintenance: bool = False
    display_heartbeat: float = 0.0  # time.monotonic() of the display page's last heartbeat
    extra: dict[str, Any] = field(default_factory=dict)


def _saved_state(saved: Any) -> tuple[int, int, dict[str, float]]:
    """(epoch, generation, revoked) from room.json's content; TypeError/ValueError if bad."""
    if not isinstance(saved, dict):
        raise TypeError(f"expected an object, got {type(saved).__name__}")
    revoked = saved.get("revoked", {})
    if not isinstance(revoked, dict):
        raise TypeError("revoked is not an object")
    epoch, generation = saved.get("epoch", 0), saved.get("generation", 0)
    if not all(isinstance(v, int) and v >= 0 for v in (epoch, generation)):
        raise ValueError("epoch and generation must be whole numbers")
    return epoch, generation, {str(k): float(v) for k, v in revoked.items()}


class Room:
    """The room core. Constructed with the config, the bus and the warnings registry."""

    TICK_S = 0.5

    def __init__(
        self,
        config: Config,
        bus: EventBus,
        warnings: WarningsRegistry,
        *,
        secret: bytes | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self.bus = bus
        self.warnings = warnings
        self.clock = clock
        self.state = RoomState()
        self.devices: dict[str, DeviceHandle] = {}
        self.roster = Roster()
        secret = secret or secrets.token_bytes(32)
        pc = config.pairing
        self.pairing = Pairing(
            secret,
            period_s=pc.period_s,
            grace_windows=pc.grace_windows,
            digits=pc.digits,
            clock=clock,
        )
        self.sessions = SessionSigner(secret, clock)
        self.client_limiter = RateLimiter(pc.per_client_attempts, pc.per_client_window_s)
        self.room_limiter = RateLimiter(pc.per_room_attempts, pc.per_room_window_s)
        self.pin_limiter = RateLimiter(5, 300)
        # per room too: a per-address cap alone falls to many addresses (IPv6, several devices)
        self.secret_limiter = RateLimiter(20, 300)
        self.hooks: dict[str, Callable[..., Awaitable[Any] | Any]] = {}
        self._snapshot_parts: dict[str, Callable[[], Any]] = {}
        self._task: asyncio.Task[None] | None = None
        self._last_window = -1
        self._state: StateDir | None = None
        self._writer: ThreadPoolExecutor | None = None
        self._writes: set[asyncio.Future[None]] = set()

    # -- lifecycle -------------------------------------------------------------------------

    PERSISTED = "room.json"

    def restore(self, state: StateDir) -> None:
        """Load the rotation epoch and session generation, so a restart cannot bring back an
        ended lesson's sessions or a code that was rotated away."""
        self._state = state
        exists = (state.path / self.PERSISTED).exists()
        saved = state.read_json(self.PERSISTED, None)
        try:
            epoch, generation, revoked = _saved_state({} if saved is None else saved)
        except (TypeError, ValueError, AttributeError) as err:
            state.set_aside(self.PERSISTED, f"unexpected content: {err}")
            saved = None
        else:
            self.pairing.epoch, self.sessions.generation = epoch, generation
            self.sessions.revoked = revoked
        if exists and saved is None:
            # The saved generation is lost: start one no earlier cookie can carry, so a lost
            # file cannot bring back an ended lesson's sessions (and codes move on too).
            self.sessions.generation = int(time.time())
            self.pairing.epoch = secrets.randbelow(1 << 20)
            self._persist()

    def _persist(self) -> None:
        """Save what ``restore`` loads; on the event loop the fsync'd write runs on one worker
        thread (in order), since an SD card can take tens of milliseconds to sync."""
        if self._state is None:
            return
        data = {
            "epoch": self.pairing.epoch,
            "generation": self.sessions.generation,
            "revoked": dict(self.sessions.revoked),
        }
        write = functools.partial(self._state.write_json, self.PERSISTED, data)
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            write()
            return
        if self._writer is None:
            self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="room-state")
        future = loop.run_in_executor(self._writer, write)
        self._writes.add(future)
        future.add_done_callback(self._writes.discard)

    async def start(self) -> None:
        """Start the room's clock: pairing rotation events and session expiry."""
        self._last_window = self.pairing.window()
        self._task = asyncio.create_task(self._tick_loop(), name="room-tick")

    async def stop(self) -> None:
        """Stop the room's clock; finish writing the saved state."""
        await cancel(self._task)
        self._task = None
        if self._writes:
            await asyncio.gather(*self._writes)
        if self._writer is not None:
            self._writer.shutdown(wait=True)
            self._writer = None

    async def _tick_loop(self) -> None:
        while True:
            await asyncio.sleep(self.TICK_S)
            self.tick()

    def tick(self) -> None:
        """Publish a rotation when the window moved; expire idle participants."""
        window = self.pairing.window()
        if window != self._last_window:
            self._last_window = window
            self.bus.publish(PairingRotated(window=window))
            self.changed("pairing")
        idle_s = self.config.roles.session_idle_min * 60
        for person in self.roster.expire(idle_s):
            self.bus.publish(ParticipantLeft(role=str(person.role)))
            self.changed("participants")

    # -- extension points used by other services ---------------------------------------

    def add_device(self, device: DeviceHandle) -> None:
        """Attach a device coordinator (the device layer calls this)."""
        self.devices[device.device_id] = device
        self.changed("devices")

    def add_snapshot_part(self, name: str, provider: Callable[[], Any]) -> None:
        """Add a named section to ``snapshot()`` (e.g. casting, airplay, environment)."""
        self._snapshot_parts[name] = provider

    def changed(self, what: str) -> None:
        """Tell adapters that part of the snapshot changed."""
        self.bus.publish(RoomChanged(what=what))

    # -- operations ----------------------------------------------------------------------

    def main_display(self) -> DeviceHandle | None:
        """The device with role ``main_display`` (or the first display), if any."""
        for dev in self.devices.values():
            if dev.role == "main_display":
                return dev
        return next((d for d in self.devices.values() if d.role == "display"), None)

    async def ensure_display_ready(self) -> dict[str, Any]:
        """Power on the main display and select its input; {} when there is none."""
        display = self.main_display()
        if display is None:
            return {}
        return await display.make_ready()

    async def device_command(self, device_id: str, name: str, **args: Any) -> None:
        """Send one command to a device; KeyError when the device is unknown."""
        await self.devices[device_id].command(name, **args)

    def show_message(self, text: str, seconds: float = 30.0, kind: str = "announcement") -> None:
        """Show ``text`` on the display for ``seconds``."""
        until = time.time() + max(1.0, min(seconds, 3600.0))
        self.state.messages = [m for m in self.state.messages if m.kind != kind]
        self.state.messages.append(Message(text=text[:500], kind=kind, until=until))
        self.bus.publish(DisplayMessage(text=text[:500], seconds=seconds, kind=kind))
        self.changed("messages")

    def clear_message(self, kind: str, text: str | None = None) -> None:
        """Take the ``kind`` message off the display (only if it says ``text``, when given)."""
        kept = [
            m for m in self.state.messages
            if not (m.kind == kind and (text is None or m.text == text))
        ]  # fmt: skip
        if len(kept) != len(self.state.messages):
            self.state.messages = kept
            self.changed("messages")

    def request_help(self, topic: str = "general") -> None:
        """The teacher asked for help (``help.request``)."""
        self.bus.publish(HelpRequested(topic=topic))

    def rotate_pairing(self) -> None:
        """New code and QR now; every earlier one stops working."""
        self.pairing.rotate()
        self._persist()
        self._last_window = self.pairing.window()
        self.bus.publish(PairingRotated(window=self._last_window))
        self.changed("pairing")

    def pairing_info(self) -> PairingInfo:
        """The code and token the display shows now."""
        return self.pairing.current()

    def set_locked(self, locked: bool) -> None:
        """Lock the room: no new joins or share requests."""
        self.state.locked = locked
        self.changed("locked")

    async def call_hook(self, name: str, *args: Any, **kw: Any) -> Any:
        """Run an operation another service registered (casting, scenes, airplay)."""
        hook = self.hooks.get(name)
        if hook is None:
            raise PermissionDenied(f"{name} is not available in this room")
        result = hook(*args, **kw)
        return await result if asyncio.iscoroutine(result) else result

    async def stop_all_shares(self) -> Any:
        """End every screen share (the casting service registers ``stop_all_shares``)."""
        if "stop_all_shares" not in self.hooks:
            return None
        return await self.call_hook("stop_all_shares")

    async def run_scene(self, name: str) -> Any:
        """Run a configured scene (the scenes service registers ``run_scene``)."""
        return await self.call_hook("run_scene", name)

    def display_heartbeat(self) -> None:
        """The display page is alive (the kiosk watchdog reads ``state.display_heartbeat``)."""
        self.state.display_heartbeat = time.monotonic()

    # -- joining ---------------------------------------------------------------------------

    def _new_session(self, role: Role, name: str, sid: str | None = None) -> Session:
        now = self.clock()
        exp = min(now + self.config.roles.session_idle_min * 60, self._end_of_day(now))
        return Session(sid or new_sid(), role, name, exp, self.sessions.generation, now)

    def _end_of_day(self, now: float) -> float:
        hh, mm = (int(x) for x in self.config.roles.session_end_of_day.split(":"))
        local = time.localtime(now)
        end = time.mktime((*local[:3], hh, mm, 0, 0, 0, -1))
        return end if end > now else end + 86400

    def _refuse(self, reason: str, client: str, message: str = "") -> PairingError:
        self.client_limiter.hit(client)
        self.room_limiter.hit("room")
        self.bus.publish(PairingFailed(reason=reason))
        return PairingError(reason, message)

    def _check_limits(self, client: str) -> None:
        wait = max(self.client_limiter.retry_after(client), self.room_limiter.retry_after("room"))
        if wait > 0:
            self.bus.publish(PairingFailed(reason="rate_limited"))
            raise RateLimited(wait)

    def join(self, *, name: str, client: str, code: str = "", token: str = "") -> Session:
        """Admit someone who proved presence with the code or the QR token."""
        if self.state.locked:
            raise PairingError("locked", "the room is locked")
        self._check_limits(client)
        verdict = self.pairing.check_token(token) if token else self.pairing.check_code(code)
        if verdict is Verdict.STALE:
            # an expired but genuine code is no guess: it does not count against the limits
            self.bus.publish(PairingFailed(reason="stale"))
            raise PairingError("stale", "the code has changed, scan again")
        if verdict is not Verdict.OK:
            raise self._refuse("invalid_code" if code else "invalid_token", client)
        display_name = clean_name(name)
        if not display_name:
            raise PairingError("name_required", "choose a display name")
        role = Role.PARTICIPANT
        if (
            self.config.roles.policy == "first_joiner_is_presenter"
            and not self.roster.has_presenter()
        ):
            role = Role.PRESENTER
        session = self._new_session(role, display_name)
        self.admit(session, via="qr" if token else "code")
        return session

    def admit(self, session: Session, via: str = "session") -> None:
        """Put the holder of a valid in-room session into the roster."""
        if session.role not in (Role.PARTICIPANT, Role.PRESENTER):
            return
        existing = self.roster.get(session.sid)
        if existing:
            self.roster.touch(session.sid)
            return
        self.roster.upsert(Participant(session.sid, session.name, session.role))
        self.bus.publish(ParticipantJoined(role=str(session.role), via=via))
        self.changed("participants")

    def become_presenter(self, session: Session, pin: str, client: str) -> Session:
        """Upgrade a participant with the teacher PIN."""
        self._check_secret_limits(client, "pin")
        pin_hash = self.config.roles.teacher_pin_hash
        if not pin_hash or not verify_password(pin.strip(), pin_hash):
            self._secret_failed(client, "pin")
            self.bus.publish(PairingFailed(reason="bad_pin"))
            raise PairingError("bad_pin", "wrong PIN")
        upgraded = self._new_session(Role.PRESENTER, session.name, session.sid)
        self.roster.set_role(session.sid, Role.PRESENTER)
        self.admit(upgraded)
        self.changed("participants")
        return upgraded

    def caretaker_login(self, password: str, client: str) -> Session:
        """A caretaker session for the status page."""
        self._check_secret_limits(client, "password")
        pw_hash = self.config.roles.caretaker_password_hash
        if not pw_hash or not verify_password(password, pw_hash):
            self._secret_failed(client, "password")
            raise PairingError("bad_password", "wrong password")
        return self._new_session(Role.CARETAKER, "caretaker")

    def _check_secret_limits(self, client: str, what: str) -> None:
        wait = max(self.pin_limiter.retry_after(client), self.secret_limiter.retry_after(what))
        if wait > 0:
            raise RateLimited(wait)

    def _secret_failed(self, client: str, what: str) -> None:
        self.pin_limiter.hit(client)
        self.secret_limiter.hit(what)

    def logout(self, session: Session) -> None:
        """Leave and end the session on the server too: its cookie no longer works anywhere."""
        self.sessions.revoke(session)
        self._persist()
        self.leave(session.sid)

    def leave(self, sid: str) -> None:
        """A participant left."""
        person = self.roster.remove(sid)
        if person:
            self.bus.publish(ParticipantLeft(role=str(person.role)))
            self.changed("participants")

    def end_lesson(self) -> None:
        """Everyone out: end every session and rotate the code."""
        self.sessions.generation += 1
        self._persist()
        for person in self.roster.people():
            self.bus.publish(ParticipantLeft(role=str(person.role)))
        self.roster.clear()
        self.rotate_pairing()
        self.changed("participants")

    def people(self) -> list[dict[str, Any]]:
        """Participants with names, for the teacher's page only (never for telemetry)."""
        return [
            {"id": p.sid[:8], "name": p.name, "role": str(p.role), "joined_at": p.joined_at}
            for p in self.roster.people()
        ]

    # -- reading ---------------------------------------------------------------------------

    def mode(self) -> str:
        """idle | in_use | casting | maintenance | error (the telemetry ``state.mode``)."""
        if self.state.maintenance:
            return "maintenance"
        if self._part("casting").get("active") or self._part("airplay").get("source_active"):
            return "casting"
        if self.roster.count():
            return "in_use"
        return "idle"

    def _part(self, name: str) -> dict[str, Any]:
        provider = self._snapshot_parts.get(name)
        value = provider() if provider else None
        return value if isinstance(value, dict) else {}

    def participant_view(self, snap: dict[str, Any] | None = None) -> dict[str, Any]:
        """The snapshot without what only staff need: warnings and device error texts (which
        may name hosts and file paths)."""
        snap = dict(snap or self.snapshot())
        snap["warnings"] = []
        snap["devices"] = {
            dev_id: {k: v for k, v in dev.items() if k != "last_error"}
            for dev_id, dev in snap.get("devices", {}).items()
        }
        return snap

    def snapshot(self) -> dict[str, Any]:
        """A JSON-ready, name-free view of the whole room (safe to leave the room)."""
        now = time.time()
        snap: dict[str, Any] = {
            "room": {
                "id": self.config.room.id,
                "name": self.config.room.name,
                "site": self.config.room.site,
                "language": self.config.room.language,
            },
            "mode": self.mode(),
            "locked": self.state.locked,
            "participants": {
                "total": self.roster.count(),
                "presenter": self.roster.count(Role.PRESENTER),
                "participant": self.roster.count(Role.PARTICIPANT),
                "peak": self.roster.peak,
            },
            "devices": {i: d.snapshot() for i, d in self.devices.items()},
            "messages": [
                {"text": m.text, "kind": m.kind, "seconds_left": round(m.until - now)}
                for m in self.state.messages
                if m.until > now
            ],
            "warnings": [
                {"source": w.source, "key": w.key, "message": w.message}
                for w in self.warnings.all()
            ],
        }
        for name, provider in self._snapshot_parts.items():
            snap[name] = provider()
        return snap
