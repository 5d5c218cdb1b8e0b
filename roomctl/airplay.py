"""AirPlay mirroring through a supervised UxPlay, behind the teacher's switch.

UxPlay has no interactive approval hook, so access control is what the installed version
offers: 1.62 (Debian Bookworm) has no PIN and no allow/deny lists and holds the first client
until it disconnects; newer releases have ``-pin`` (a PIN per pairing, printed on stdout).
Without a PIN, UxPlay runs (and so is advertised) only while the teacher has switched AirPlay
on, for a bounded time. With a PIN, it runs while enabled and the PIN is read from its output
for the display. UxPlay runs with ``-d``: the lines that tell a client's sockets opening and
closing, and a stream being set up (a source, not a Mac's menu peeking at ``/info``), are debug
lines. Its stdout is a pipe, so it runs under ``stdbuf -oL`` to get each line as it is written.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import shutil
import time
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from roomctl.config.model import Config
from roomctl.core.errors import CommandRejected
from roomctl.core.events import CastSessionEnded, CastSessionStarted

if TYPE_CHECKING:
    from roomctl.room import Room

logger = logging.getLogger(__name__)

BACKOFF_S = (1.0, 2.0, 5.0, 10.0, 30.0, 60.0)  # tests patch these down
STABLE_S = 30.0  # a run this long resets the backoff
STOP_GRACE_S = 5.0
PROBE_TIMEOUT_S = 5.0
MAX_MINUTES = 240

VERSION = re.compile(r"UxPlay\s+(?:version\s+)?(\d+(?:\.\d+)+)", re.I)
PIN_LINE = re.compile(r'ENTER PIN = "(\d{4})"')
CONNECTIONS = re.compile(r"Open connections: (\d+)")
ACCEPTED = re.compile(r"Accepted IPv[46] client on socket (\d+)")
CLOSED = re.compile(r"Connection closed for socket (\d+)")
SETUP = re.compile(r"Handling request SETUP\b")
REGISTERED = re.compile(r"^registered new client", re.I)


@dataclass(frozen=True)
class Abilities:
    """What the installed UxPlay can do, read from ``uxplay -h``."""

    version: str = ""
    pin: bool = False  # -pin: a 4-digit PIN the client must enter
    password: bool = False  # -pw: a fixed password
    allow_lists: bool = False  # -restrict / -allow / -block by device id


def parse_help(text: str) -> Abilities:
    """Abilities from the help text (options are listed at the start of a line)."""
    options = set(re.findall(r"^\s*(-[a-z0-9]+)", text, re.M | re.I))
    version = VERSION.search(text)
    return Abilities(
        version=version.group(1) if version else "",
        pin="-pin" in options,
        password="-pw" in options,
        allow_lists={"-restrict", "-allow", "-block"} <= options,
    )


@dataclass(frozen=True)
class Observation:
    """One meaningful line of UxPlay output."""

    opened: int | None = None  # a client's socket
    closed: int | None = None
    connections: int | None = None  # newer releases print the count itself
    setup: bool = False  # a client set up a stream: a source, not a menu peeking at /info
    pin: str | None = None
    registered: bool = False


def parse_line(line: str) -> Observation | None:
    """What a line of UxPlay output tells us, or None for everything else."""
    if match := ACCEPTED.search(line):
        return Observation(opened=int(match.group(1)))
    if match := CLOSED.search(line):
        return Observation(closed=int(match.group(1)))
    if match := CONNECTIONS.search(line):
        return Observation(connections=int(match.group(1)))
    if match := PIN_LINE.search(line):
        return Observation(pin=match.group(1))
    if SETUP.search(line):
        return Observation(setup=True)
    if REGISTERED.search(line):
        return Observation(registered=True)
    return None


@dataclass
class Connections:
    """Client sockets UxPlay reports and whether one of them set up a stream."""

    sockets: set[int] = field(default_factory=set)
    setup: bool = False
    pin: str | None = None

    @property
    def source_active(self) -> bool:
        """A client is mirroring (or streaming audio) right now."""
        return self.setup and bool(self.sockets)

    def apply(self, seen: Observation) -> None:
        """Fold one observation into the state."""
        if seen.opened is not None:
            self.sockets.add(seen.opened)
        if seen.closed is not None:
            self.sockets.discard(seen.closed)
        if seen.connections == 0:
            self.sockets.clear()
        self.setup = (self.setup or seen.setup) and bool(self.sockets)
        if seen.pin is not None:
            self.pin = seen.pin
        if seen.registered or not self.sockets:
            self.pin = None  # paired, or the client went away: the PIN is spent


def build_argv(binary: str, config: Config, abilities: Abilities) -> list[str]:
    """The UxPlay command line: the room's name, PIN when possible, debug for the signals."""
    name = (config.room.name or config.room.id)[:63]
    stdbuf = shutil.which("stdbuf")
    argv = [*([stdbuf, "-oL", "-eL"] if stdbuf else []), binary, "-n", name, "-nh", "-d"]
    if abilities.pin:
        argv.append("-pin")  # no value: a fresh random PIN for each pairing
    return [*argv, *config.airplay.extra_args]


class Airplay:
    """Supervises UxPlay while AirPlay is switched on; reports it as a room snapshot part."""

    def __init__(self, config: Config, room: Room) -> None:
        self.config = config
        self.room = room
        self.binary: str | None = None
        self.abilities = Abilities()
        self.active = False
        self.until: float | None = None  # time.time() when the teacher's switch ends
        self.clients = Connections()
        self.restarts = 0
        self.running = False
        self._task: asyncio.Task[None] | None = None
        self._timer: asyncio.Task[None] | None = None
        self._proc: asyncio.subprocess.Process | None = None
        self._source_since: float | None = None
        self._sessions = 0
        self._failing = False

    # -- lifecycle -----------------------------------------------------------------------

    async def start(self) -> None:
        """Find and probe UxPlay; with a PIN-capable one, switch AirPlay on at once."""
        self.room.add_snapshot_part("airplay", self.status)
        if not self.config.airplay.enabled:
            return
        self.binary = shutil.which(self.config.airplay.binary)
        if self.binary is None:
            self.room.warnings.add("airplay", "airplay.missing",
                                   f"{self.config.airplay.binary} is not installed")
            return
        self.abilities = await probe(self.binary)
        logger.info("UxPlay %s: pin=%s allow_lists=%s", self.abilities.version or "?",
                    self.abilities.pin, self.abilities.allow_lists)
        if self.abilities.pin:
            await self.enable(None)

    async def stop(self) -> None:
        """Stop UxPlay and the timer; idempotent."""
        await self._switch_off()

    # -- the teacher's switch --------------------------------------------------------------

    async def enable(self, minutes: float | None = None) -> dict[str, Any]:
        """Switch AirPlay on, for ``minutes`` (None: the configured session length)."""
        if self.binary is None:
            raise CommandRejected("AirPlay is not available in this room")
        if minutes is None and not self.abilities.pin:
            minutes = self.config.airplay.session_minutes
        if minutes is not None:
            if not 0 < minutes <= MAX_MINUTES:
                raise CommandRejected(f"minutes must be between 1 and {MAX_MINUTES}")
            self._set_timer(minutes * 60)
        self.active = True
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._supervise(), name="airplay-uxplay")
        self.room.changed("airplay")
        return self.status()

    async def disable(self) -> dict[str, Any]:
        """Switch AirPlay off at once: the current source is cut and UxPlay leaves the network."""
        await self._switch_off()
        self.room.changed("airplay")
        return self.status()

    def status(self) -> dict[str, Any]:
        """JSON-ready AirPlay state for the snapshot (no client names: they stay in the room)."""
        return {
            "available": self.binary is not None,
            "active": self.active,
            "until": round(self.until) if self.until else None,
            "pin": self.clients.pin,
            "source_active": self.clients.source_active,
            "running": self.running,
            "restarts": self.restarts,
            "capabilities": asdict(self.abilities),
        }

    # -- internals ---------------------------------------------------------------------------

    def _set_timer(self, seconds: float) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self.until = time.time() + seconds
        self._timer = asyncio.create_task(self._expire(seconds), name="airplay-timer")

    async def _expire(self, seconds: float) -> None:
        await asyncio.sleep(seconds)
        self._timer = None  # keep _switch_off from cancelling this very task
        logger.info("AirPlay session time is over")
        await self.disable()

    async def _switch_off(self) -> None:
        self.active = False
        self.until = None
        for task in (self._timer, self._task):
            if task is not None and task is not asyncio.current_task():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._timer = self._task = None

    async def _supervise(self) -> None:
        attempt = 0
        try:
            while self.active:
                started = time.monotonic()
                code = await self._run_once()
                if time.monotonic() - started >= STABLE_S:
                    attempt, self._failing = 0, False  # it had recovered: a new failure logs again
                if not self.active:
                    break
                delay = BACKOFF_S[min(attempt, len(BACKOFF_S) - 1)]
                if not self._failing:
                    logger.warning("uxplay exited (%s); restarting with backoff", code)
                    self._failing = True
                self.restarts += 1
                attempt += 1
                self.room.changed("airplay")
                await asyncio.sleep(delay)
        finally:
            await self._kill()

    async def _run_once(self) -> int | None:
        assert self.binary is not None
        argv = build_argv(self.binary, self.config, self.abilities)
        try:
            self._proc = await asyncio.create_subprocess_exec(
                *argv, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT)
        except OSError as err:
            logger.debug("could not start uxplay: %s", err)
            return None
        self.running = True
        self.room.changed("airplay")
        try:
            await self._read_output(self._proc)
            return await self._proc.wait()
        finally:
            self.running = False
            self._observe(Observation(connections=0))

    async def _read_output(self, proc: asyncio.subprocess.Process) -> None:
        assert proc.stdout is not None
        while raw := await proc.stdout.readline():
            seen = parse_line(raw.decode("utf-8", "replace"))
            if seen is not None:
                self._observe(seen)

    def _observe(self, seen: Observation) -> None:
        before = (self.clients.source_active, self.clients.pin)
        self.clients.apply(seen)
        if (self.clients.source_active, self.clients.pin) != before:
            self._source_changed(before[0])
            self.room.changed("airplay")

    def _source_changed(self, was_active: bool) -> None:
        now_active = self.clients.source_active
        if now_active == was_active:
            return
        if now_active:
            self._sessions += 1
            self._source_since = time.monotonic()
            self.room.bus.publish(CastSessionStarted(
                session_id=f"airplay-{self._sessions}", role="airplay", kind="airplay"))
        else:
            duration = time.monotonic() - (self._source_since or time.monotonic())
            self.room.bus.publish(CastSessionEnded(
                session_id=f"airplay-{self._sessions}", role="airplay",
                duration_s=round(duration, 1), kind="airplay"))

    async def _kill(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None or proc.returncode is not None:
            return
        proc.terminate()
        try:
            await asyncio.wait_for(proc.wait(), STOP_GRACE_S)
        except TimeoutError:
            proc.kill()
            await proc.wait()


async def probe(binary: str) -> Abilities:
    """Run ``uxplay -h`` and read what it can do; nothing known when it fails."""
    try:
        proc = await asyncio.create_subprocess_exec(
            binary, "-h", stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT)
    except OSError as err:
        logger.warning("could not probe %s: %s", binary, err)
        return Abilities()
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), PROBE_TIMEOUT_S)
    except TimeoutError:  # a hung probe must not outlive it
        proc.kill()
        await proc.wait()
        logger.warning("could not probe %s: no answer in %s s", binary, PROBE_TIMEOUT_S)
        return Abilities()
    return parse_help(out.decode("utf-8", "replace"))
