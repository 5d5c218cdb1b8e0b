"""A PJLink class 1/2 projector emulator on loopback, written apart from the client's codec.

It shares no code with ``roomctl.pjlink`` on purpose: a misreading of the spec in the client
must not be mirrored here and pass its own test. Third-party clients (pypjlink2, aiopjlink)
are run against it in the tests to show it speaks PJLink.

Faults (``Emulator.fault``): ``none``, ``no_reply``, ``garbage``, ``disconnect`` (half a
reply, then close), ``busy`` (ERR3 to everything), ``slow`` (replies after ``slow_s``).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import random
import secrets
import time
from dataclasses import dataclass, field

logger = logging.getLogger(__name__)

FAULTS = ("none", "no_reply", "garbage", "disconnect", "busy", "slow")
CLASS1_BODIES = {"POWR", "INPT", "AVMT", "ERST", "LAMP", "INST", "NAME", "INF1", "INF2", "INFO"}
CLASS1_BODIES |= {"CLSS"}
CLASS2_ONLY = {"SNUM", "SVER", "INNM", "IRES", "RRES", "FILT", "RLMP", "RFIL", "SVOL", "MVOL"}
CLASS2_ONLY |= {"FREZ"}
AVMT_SETS = {"10", "11", "20", "21", "30", "31"}


@dataclass
class ProjectorModel:
    """The emulated projector's state and timings."""

    pjlink_class: int = 2
    password: str = ""
    warmup_s: float = 3.0
    cooldown_s: float = 3.0
    inputs: dict[str, str] = field(
        default_factory=lambda: {"11": "Computer", "31": "HDMI 1", "32": "HDMI 2", "52": "LAN"}
    )
    input: str = "31"
    name: str = "Room projector"
    manufacturer: str = "Emulated"
    product: str = "PJ-2000"
    info: str = "roomctl emulator"
    serial: str = "EMU0001"
    software: str = "1.0"
    mac: str = "02:00:00:00:43:52"
    lamp_hours: int = 1200
    filter_hours: int = 300
    errors: str = "000000"
    video_mute: bool = False
    audio_mute: bool = False
    freeze: bool = False
    volume: int = 10
    microphone: int = 5
    resolution: str = "1920x1080"
    power_since: float = 0.0
    power_target: str = "0"  # "0" standby or "1" on; transitions follow from power_since

    def power(self) -> str:
        """ "0" standby, "1" on, "2" cooling, "3" warming, computed from the clock."""
        elapsed = time.monotonic() - self.power_since
        if self.power_target == "1":
            return "1" if elapsed >= self.warmup_s else "3"
        return "0" if elapsed >= self.cooldown_s or self.power_since == 0.0 else "2"


class Emulator:
    """Serves one ``ProjectorModel`` over TCP (commands) and UDP (search, notifications)."""

    def __init__(
        self,
        model: ProjectorModel | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        udp_port: int | None = None,
        notify_port: int = 4352,
        idle_s: float = 30.0,
        fault: str = "none",
        slow_s: float = 1.5,
        search_delay_s: float = 0.0,
    ) -> None:
        self.model = model or ProjectorModel()
        self.host = host
        self.port = port
        self.udp_port = udp_port  # None: no UDP side (class 1, or not wanted)
        self.notify_port = notify_port
        self.notify_to: set[tuple[str, int]] = set()
        self.idle_s = idle_s
        self.fault = fault
        self.slow_s = slow_s
        self.search_delay_s = search_delay_s
        self.connections = 0
        self.commands = 0
        self._server: asyncio.Server | None = None
        self._udp: asyncio.DatagramTransport | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()

    # -- lifecycle -----------------------------------------------------------------------

    async def start(self) -> None:
        """Listen on TCP (and UDP for class 2 when ``udp_port`` is set)."""
        self._server = await asyncio.start_server(self._serve, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        if self.udp_port is not None and self.model.pjlink_class == 2:
            loop = asyncio.get_running_loop()
            self._udp, _ = await loop.create_datagram_endpoint(
                lambda: _Udp(self), local_addr=(self.host, self.udp_port)
            )
            self.udp_port = self._udp.get_extra_info("sockname")[1]

    async def stop(self) -> None:
        """Close every socket and connection."""
        if self._server is not None:
            self._server.close()
            self._server = None
        if self._udp is not None:
            self._udp.close()
            self._udp = None
        for writer in list(self._writers):
            writer.close()  # sessions end on their own once their connection is gone
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=2)
        for task in list(self._tasks):
            task.cancel()

    async def __aenter__(self) -> Emulator:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # -- TCP ---------------------------------------------------------------------------

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self._writers.add(writer)
        self.connections += 1
        peer = writer.get_extra_info("peername")
        if peer and self.model.pjlink_class == 2:
            self.notify_to.add(
                (peer[0], self.notify_port)
            )  # like firmware that learns its controller
        try:
            await self._session(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError, TimeoutError):
            pass
        finally:
            self._tasks.discard(task)
            self._writers.discard(writer)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        salt = secrets.token_hex(4) if self.model.password else ""
        writer.write(f"PJLINK 1 {salt}\r".encode() if salt else b"PJLINK 0\r")
        await writer.drain()
        first = True
        while True:
            async with asyncio.timeout(self.idle_s):  # the spec's 30 s idle disconnect
                line = await reader.readuntil(b"\r")
            if first and salt:
                line, ok = self._check_digest(line, salt)
                if not ok:
                    writer.write(b"PJLINK ERRA\r")
                    await writer.drain()
                    return
            first = False
            reply = self.handle(line[:-1].decode("utf-8", "replace"))
            if reply is not None and not await self._send(writer, reply):
                return

    def _check_digest(self, line: bytes, salt: str) -> tuple[bytes, bool]:
        expected = hashlib.md5((salt + self.model.password).encode(), usedforsecurity=False)
        given = line[:32].decode("ascii", "replace").lower()
        return line[32:], secrets.compare_digest(given, expected.hexdigest())

    async def _send(self, writer: asyncio.StreamWriter, reply: str) -> bool:
        """Write one reply as the current fault dictates; False ends the session."""
        fault = self.fault
        data = (reply + "\r").encode("utf-8")
        if fault == "no_reply":
            return True
        if fault == "slow":
            await asyncio.sleep(self.slow_s)
        if fault == "garbage":
            data = bytes(random.randrange(256) for _ in range(random.randrange(1, 40))) + b"\r"
        if fault == "disconnect":
            writer.write(data[: max(1, len(data) // 2)])
            await writer.drain()
            return False
        writer.write(data)
        await writer.drain()
        return True

    # -- commands ----------------------------------------------------------------------

    def handle(self, line: str) -> str | None:
        """The reply line (without CR) to one command line, or None to stay silent."""
        if len(line) < 7 or line[0] != "%" or line[1] not in "12" or line[6] != " ":
            return None  # not a PJLink command line: real projectors ignore these
        self.commands += 1
        cls, body, param = line[1], line[2:6].upper(), line[7:]
        prefix = f"%{cls}{body}="
        if self.fault == "busy":
            return prefix + "ERR3"
        if cls == "2" and self.model.pjlink_class < 2:
            return prefix + "ERR1"
        if body not in CLASS1_BODIES | CLASS2_ONLY or (cls == "1" and body in CLASS2_ONLY):
            return prefix + "ERR1"
        handler = getattr(self, f"_do_{body.lower()}")
        return prefix + handler(param, cls)

    def _do_powr(self, param: str, cls: str) -> str:
        m = self.model
        now = m.power()
        if param == "?":
            return now
        if param not in ("0", "1"):
            return "ERR2"
        if now in ("2", "3"):
            return "ERR3"  # not during warm-up or cool-down (as Sony documents)
        if param != m.power_target:
            m.power_target, m.power_since = param, time.monotonic()
            self.notify(f"%2POWR={param}")
        return "OK"

    def _do_inpt(self, param: str, cls: str) -> str:
        m = self.model
        if param == "?":
            return m.input
        code = param.upper()
        if len(code) != 2 or code[0] not in "123456" or not code[1].isalnum():
            return "ERR2"
        if cls == "1" and (code[0] == "6" or not code[1].isdigit()):
            return "ERR2"
        if code not in m.inputs:
            return "ERR2"
        if m.power() != "1":
            return "ERR3"
        if code != m.input:
            m.input = code
            self.notify(f"%2INPT={code}")
        return "OK"

    def _do_avmt(self, param: str, cls: str) -> str:
        m = self.model
        if param == "?":
            return {(False, False): "30", (True, False): "11", (False, True): "21"}.get(
                (m.video_mute, m.audio_mute), "31"
            )
        if param not in AVMT_SETS:
            return "ERR2"
        if m.power() != "1":
            return "ERR3"
        on = param[1] == "1"
        if param[0] in "13":
            m.video_mute = on
        if param[0] in "23":
            m.audio_mute = on
        return "OK"

    def _getter(self, param: str, value: str) -> str:
        return value if param == "?" else "ERR2"

    def _do_erst(self, param: str, cls: str) -> str:
        return self._getter(param, self.model.errors)

    def _do_lamp(self, param: str, cls: str) -> str:
        lit = "1" if self.model.power() in ("1", "3") else "0"
        return self._getter(param, f"{self.model.lamp_hours} {lit}")

    def _do_inst(self, param: str, cls: str) -> str:
        codes = [c for c in self.model.inputs if cls == "2" or (c[0] != "6" and c[1].isdigit())]
        return self._getter(param, " ".join(codes))

    def _do_name(self, param: str, cls: str) -> str:
        return self._getter(param, self.model.name)

    def _do_inf1(self, param: str, cls: str) -> str:
        return self._getter(param, self.model.manufacturer)

    def _do_inf2(self, param: str, cls: str) -> str:
        return self._getter(param, self.model.product)

    def _do_info(self, param: str, cls: str) -> str:
        return self._getter(param, self.model.info)

    def _do_clss(self, param: str, cls: str) -> str:
        return self._getter(param, str(self.model.pjlink_class))

    def _do_snum(self, param: str, cls: str) -> str:
        return self._getter(param, self.model.serial)

    def _do_sver(self, param: str, cls: str) -> str:
        return self._getter(param, self.model.software)

    def _do_innm(self, param: str, cls: str) -> str:
        name = self.model.inputs.get(param[1:].upper()) if param.startswith("?") else None
        return name if name is not None else "ERR2"

    def _do_ires(self, param: str, cls: str) -> str:
        return self._getter(param, self.model.resolution if self.model.power() == "1" else "-")

    def _do_rres(self, param: str, cls: str) -> str:
        return self._getter(param, "1920x1080")

    def _do_filt(self, param: str, cls: str) -> str:
        return self._getter(param, str(self.model.filter_hours))

    def _do_rlmp(self, param: str, cls: str) -> str:
        return self._getter(param, "ELPLP96")

    def _do_rfil(self, param: str, cls: str) -> str:
        return self._getter(param, "ELPAF60")

    def _do_svol(self, param: str, cls: str) -> str:
        if param not in ("0", "1"):
            return "ERR2"
        self.model.volume = max(0, min(20, self.model.volume + (1 if param == "1" else -1)))
        return "OK"  # at the limits the spec still answers OK

    def _do_mvol(self, param: str, cls: str) -> str:
        if param not in ("0", "1"):
            return "ERR2"
        self.model.microphone = max(0, min(20, self.model.microphone + (1 if param == "1" else -1)))
        return "OK"

    def _do_frez(self, param: str, cls: str) -> str:
        if param == "?":
            return "1" if self.model.freeze else "0"
        if param not in ("0", "1"):
            return "ERR2"
        if self.model.power() != "1":
            return "ERR3"
        self.model.freeze = param == "1"
        return "OK"

    # -- UDP (class 2) -------------------------------------------------------------------

    def set_errors(self, errors: str) -> None:
        """Change the ERST status (six digits) and notify controllers."""
        if errors != self.model.errors:
            self.model.errors = errors
            self.notify(f"%2ERST={errors}")

    def notify(self, message: str) -> None:
        """Send a status notification to every known controller (class 2 with UDP only)."""
        if self._udp is None:
            return
        for target in sorted(self.notify_to):
            self._udp.sendto((message + "\r").encode(), target)

    def link_up(self) -> None:
        """Announce that PJLink communication is possible (``%2LKUP``)."""
        self.notify(f"%2LKUP={self.model.mac}")

    def answer_search(self, source_host: str) -> None:
        """Answer a SRCH to the controller's port 4352 (``notify_port``) after a random delay."""
        if self._udp is None:
            return
        udp = self._udp
        reply = f"%2ACKN={self.model.mac}\r".encode()
        target = (source_host, self.notify_port)
        delay = random.uniform(0, self.search_delay_s)
        asyncio.get_running_loop().call_later(delay, lambda: udp.sendto(reply, target))


class _Udp(asyncio.DatagramProtocol):
    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        if data == b"%2SRCH\r":
            self.emulator.answer_search(addr[0])


async def serve_forever(emulator: Emulator) -> None:
    """Run ``emulator`` until cancelled."""
    await emulator.start()
    try:
        await asyncio.Event().wait()
    finally:
        await emulator.stop()
