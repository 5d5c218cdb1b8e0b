"""Wire-protocol sides of the family emulators, written from the manuals, not from the codec.

This module deliberately imports nothing from ``roomctl.profiles``: if a profile were wrong,
an emulator built from it would agree with it. Each family turns one request into one reply
against a shared ``Projector`` state machine.
"""

from __future__ import annotations

import hashlib
import re
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import ClassVar


@dataclass
class Projector:
    """A projector's state: power with warm-up/cool-down, input, picture, lamp and errors."""

    warmup_s: float = 3.0
    cooldown_s: float = 3.0
    clock: Callable[[], float] = time.monotonic
    lamp_hours: int = 1234
    filter_hours: int = 321
    input: str = "hdmi1"
    blank: bool = False
    freeze: bool = False
    volume: int = 10
    mute: bool = False
    error: str = ""  # "" = none; a family-neutral name ("lamp", "fan", "temperature")
    model: str = "EMU-1000"
    _power: str = "off"
    _since: float = field(default=0.0)

    def power(self) -> str:
        """off, warming, on or cooling, advancing timed transitions."""
        elapsed = self.clock() - self._since
        if self._power == "warming" and elapsed >= self.warmup_s:
            self._power = "on"
        elif self._power == "cooling" and elapsed >= self.cooldown_s:
            self._power = "off"
        return self._power

    def set_power(self, on: bool) -> bool:
        """Start warming or cooling; False when the request is not allowed now."""
        state = self.power()
        if state in ("warming", "cooling"):
            return (state == "warming") == on  # repeating the same request is fine
        if on and state == "off":
            self._power, self._since = "warming", self.clock()
        elif not on and state == "on":
            self._power, self._since = "cooling", self.clock()
        return True


@dataclass
class Session:
    """Per-connection state: handshake progress and the password check."""

    password: str = ""
    greeted: bool = False
    authenticated: bool = False
    random: str = "23181e1e"
    close_after_reply: bool = False


class Family(ABC):
    """One protocol family's request splitting and answering."""

    binary = False

    def __init__(self, projector: Projector) -> None:
        self.p = projector

    def greeting(self, session: Session) -> bytes:
        """Bytes sent when a client connects."""
        return b""

    @abstractmethod
    def split(self, buf: bytes) -> tuple[bytes | None, bytes]:
        """One complete request off the front of ``buf``."""

    def is_handshake(self, request: bytes, session: Session) -> bool:
        """Whether ``request`` belongs to the session set-up (faults leave it alone)."""
        return request.startswith(b"ESC/VP.net") or (
            isinstance(self, SonyAdcp) and not session.authenticated
        )

    @abstractmethod
    def answer(self, request: bytes, session: Session) -> bytes | None:
        """The reply to one request (None: say nothing)."""

    @abstractmethod
    def busy(self, request: bytes) -> bytes:
        """The family's "not now" reply."""

    def corrupt(self, reply: bytes) -> bytes:
        """``reply`` with a wrong checksum (text families: a damaged line)."""
        return reply[:-1] + bytes([reply[-1] ^ 0x5A]) if reply else reply


def _split_at(buf: bytes, end: bytes) -> tuple[bytes | None, bytes]:
    i = buf.find(end)
    return (None, buf) if i < 0 else (buf[: i + len(end)], buf[i + len(end) :])


def _sum(data: bytes) -> int:
    return sum(data) & 0xFF


# ---------------------------------------------------------------- Epson ESC/VP21, ESC/VP.net
EPSON_POWER = {"off": "04", "warming": "02", "on": "01", "cooling": "03"}
EPSON_SOURCE = {"computer1": "11", "computer2": "21", "hdmi1": "30", "hdmi2": "A0", "video": "41"}


class Epson(Family):
    """ESC/VP21: ``CMD PARAM\\r`` or ``CMD?\\r``; replies end with the ':' prompt."""

    def __init__(self, projector: Projector, network: bool = False) -> None:
        super().__init__(projector)
        self.network = network

    def split(self, buf: bytes) -> tuple[bytes | None, bytes]:
        """Requests end with CR; on ESC/VP.net the first request is the 16-byte hello."""
        if self.network and buf.startswith(b"ESC/VP.net"):
            size = 16 + (18 if len(buf) > 15 and buf[15] else 0)
            return (buf[:size], buf[size:]) if len(buf) >= size else (None, buf)
        return _split_at(buf, b"\r")

    def answer(self, request: bytes, session: Session) -> bytes | None:
        """One ESC/VP21 exchange."""
        if request.startswith(b"ESC/VP.net"):
            given = request[18:34].rstrip(b"\x00").decode() if len(request) >= 34 else ""
            session.authenticated = not session.password or given == session.password
            status = 0x20 if session.authenticated else 0x41
            return b"ESC/VP.net\x10\x03\x00\x00" + bytes([status, 0])
        if self.network and not session.authenticated:
            return None
        text = request.decode("ascii", "replace").strip()
        value = self._get(text[:-1]) if text.endswith("?") else self._set(text)
        return (value + "\r:" if value else ":").encode() if value is not None else b"ERR\r:"

    def _get(self, name: str) -> str | None:
        p = self.p
        state = p.power()
        if name == "PWR":
            return f"PWR={EPSON_POWER[state]}"
        if name == "LAMP":
            return f"LAMP={p.lamp_hours}"
        if name == "ERR":
            return "ERR=" + {"": "00", "fan": "01", "lamp": "06", "temperature": "04"}[p.error]
        if name == "SNO":
            return f"SNO={p.model}"
        if state != "on":
            return None
        return {
            "SOURCE": f"SOURCE={EPSON_SOURCE.get(p.input, '30')}",
            "MUTE": f"MUTE={'ON' if p.blank else 'OFF'}",
            "FREEZE": f"FREEZE={'ON' if p.freeze else 'OFF'}",
            "VOL": f"VOL={p.volume}",
        }.get(name)

    def _set(self, text: str) -> str | None:
        if not text:
            return ""
        name, _, arg = text.partition(" ")
        p = self.p
        if name == "PWR" and arg in ("ON", "OFF"):
            return "" if p.set_power(arg == "ON") else None
        if p.power() != "on":
            return None
        if name == "SOURCE" and arg in EPSON_SOURCE.values():
            p.input = next(k for k, v in EPSON_SOURCE.items() if v == arg)
        elif name in ("MUTE", "FREEZE") and arg in ("ON", "OFF"):
            setattr(p, "blank" if name == "MUTE" else "freeze", arg == "ON")
        elif name == "VOL" and arg.isdigit():
            p.volume = int(arg)
        else:
            return None
        return ""

    def busy(self, request: bytes) -> bytes:
        """Epson answers ERR to a command it cannot run now."""
        return b"ERR\r:"

    def corrupt(self, reply: bytes) -> bytes:
        """A damaged line."""
        return b"P\xffR=\x0001\r:"


# ---------------------------------------------------------------- NEC binary
NEC_INPUTS = {0x01: "computer", 0x1A: "hdmi1", 0x1B: "hdmi2", 0x06: "video"}


class Nec(Family):
    """NEC control commands: 5-byte header + data + sum checksum."""

    binary = True
    ID, MODEL = 0x01, 0x23

    def split(self, buf: bytes) -> tuple[bytes | None, bytes]:
        """Header byte 4 is the data length."""
        if len(buf) < 5:
            return None, buf
        size = 6 + buf[4]
        return (buf[:size], buf[size:]) if len(buf) >= size else (None, buf)

    def _frame(self, id1: int, id2: int, data: bytes = b"") -> bytes:
        head = bytes([id1, id2, self.ID, self.MODEL, len(data)]) + data
        return head + bytes([_sum(head)])

    def answer(self, request: bytes, session: Session) -> bytes | None:
        """One exchange; a bad checksum gets no answer (as the manual says)."""
        if _sum(request[:-1]) != request[-1]:
            return None
        id1, id2, data = request[0], request[1], request[5:-1]
        p = self.p
        state = p.power()
        if (id1, id2) in ((0x02, 0x00), (0x02, 0x01)):
            if not p.set_power(id2 == 0x00):
                return self._frame(0xA2, id2, b"\x02\x0d")
            return self._frame(0x22, id2)
        if (id1, id2) == (0x00, 0x85) and data == b"\x01":
            processing = 1 if state in ("warming", "cooling") else 0
            op = {"off": 0x00, "warming": 0x04, "on": 0x04, "cooling": 0x05}[state]
            status = bytes([0, 0, int(state in ("on", "warming")), int(state == "cooling")])
            return self._frame(0x20, 0x85, status + bytes([processing, op]) + bytes(10))
        if (id1, id2) == (0x00, 0x88):
            errors = bytearray(12)
            if p.error:
                errors[1] = 0x04
            return self._frame(0x20, 0x88, bytes(errors))
        if state != "on":
            return self._frame(0xA0 | id1, id2, b"\x02\x03")
        if (id1, id2) == (0x02, 0x03) and data[:1] == b"\x01" and data[1:2]:
            if data[1] not in NEC_INPUTS:
                return self._frame(0xA2, 0x03, b"\x01\x01")
            p.input = NEC_INPUTS[data[1]]
            return self._frame(0x22, 0x03, b"\x00")
        if (id1, id2) in ((0x02, 0x10), (0x02, 0x11)):
            p.blank = id2 == 0x10
            return self._frame(0x22, id2)
        return self._frame(0xA0 | id1, id2, b"\x00\x00")

    def busy(self, request: bytes) -> bytes:
        """Error 07 00: projector not ready."""
        return self._frame(0xA0 | request[0], request[1], b"\x07\x00")


# ---------------------------------------------------------------- Samsung MDC
SAMSUNG_INPUTS = {0x14: "pc", 0x18: "dvi", 0x21: "hdmi1", 0x23: "hdmi2", 0x25: "displayport"}


class SamsungMdc(Family):
    """MDC: AA cmd id len data cks; ACK 'A', NAK 'N'."""

    binary = True

    def split(self, buf: bytes) -> tuple[bytes | None, bytes]:
        """Resynchronise on the AA header; byte 3 is the data length."""
        start = buf.find(b"\xaa")
        if start < 0:
            return None, b""
        buf = buf[start:]
        if len(buf) < 4:
            return None, buf
        size = 5 + buf[3]
        return (buf[:size], buf[size:]) if len(buf) >= size else (None, buf)

    def _reply(self, ok: bool, dev: int, cmd: int, value: int) -> bytes:
        body = bytes([0xFF, dev, 0x03, 0x41 if ok else 0x4E, cmd, value])
        return b"\xaa" + body + bytes([_sum(body)])

    def answer(self, request: bytes, session: Session) -> bytes | None:
        """One exchange; ID FE (broadcast) is never acknowledged."""
        if _sum(request[1:-1]) != request[-1]:
            return None
        cmd, dev, data = request[1], request[2], request[4:-1]
        if dev == 0xFE:
            return None
        p = self.p
        if cmd == 0x11:
            if data and not p.set_power(data[0] == 1):
                return self._reply(False, dev, cmd, 0x02)
            return self._reply(True, dev, cmd, int(p.power() in ("on", "warming")))
        if cmd == 0x12:
            if data:
                p.volume = data[0]
            return self._reply(True, dev, cmd, p.volume)
        if cmd == 0x13:
            if data:
                p.mute = data[0] == 1
            return self._reply(True, dev, cmd, int(p.mute))
        if cmd == 0x14:
            if data and data[0] not in SAMSUNG_INPUTS:
                return self._reply(False, dev, cmd, 0x01)
            if data:
                p.input = SAMSUNG_INPUTS[data[0]]
            code = next((k for k, v in SAMSUNG_INPUTS.items() if v == p.input), 0x21)
            return self._reply(True, dev, cmd, code)
        return self._reply(False, dev, cmd, 0x00)

    def busy(self, request: bytes) -> bytes:
        """Samsung has no busy reply: a NAK."""
        return self._reply(False, request[2], request[1], 0x02)


# ---------------------------------------------------------------- LG ka
LG_INPUTS = {"60": "rgb", "70": "dvi", "90": "hdmi1", "91": "hdmi2"}


class LgKa(Family):
    """LG: ``ka 01 01\\r`` -> ``a 01 OK01x``; lowercase hex data, ff reads."""

    def split(self, buf: bytes) -> tuple[bytes | None, bytes]:
        """Requests end with CR."""
        return _split_at(buf, b"\r")

    def answer(self, request: bytes, session: Session) -> bytes | None:
        """One exchange."""
        m = re.fullmatch(rb"([a-z])([a-z]) ([0-9a-f]{2}) ([0-9a-f]{2})\r", request)
        if m is None:
            return None
        cmd = (m.group(1) + m.group(2)).decode()
        set_id, data = m.group(3).decode(), m.group(4).decode()
        if set_id == "00":
            return None
        out = self._do(cmd, data)
        status = f"OK{out}" if out is not None else "NG01"
        return f"{cmd[1]} {set_id} {status}x".encode()

    def _do(self, cmd: str, data: str) -> str | None:
        p = self.p
        read = data == "ff"
        if cmd == "ka":
            if not read:
                p.set_power(data == "01")
            return "01" if p.power() in ("on", "warming") else "00"
        if p.power() != "on":
            return None
        if cmd == "kd":
            p.blank = p.blank if read else data == "01"
            return "01" if p.blank else "00"
        if cmd == "ke":
            p.mute = p.mute if read else data == "00"
            return "00" if p.mute else "01"
        if cmd == "kf":
            p.volume = p.volume if read else int(data, 16)
            return f"{p.volume:02x}"
        if cmd == "xb":
            if not read and data not in LG_INPUTS:
                return None
            p.input = p.input if read else LG_INPUTS[data]
            return next((k for k, v in LG_INPUTS.items() if v == p.input), "90")
        if cmd == "kz":
            return "00"
        return None

    def busy(self, request: bytes) -> bytes:
        """NG 03: wait more time."""
        text = request.decode("ascii", "replace")
        return f"{text[1:2] or 'a'} {text[3:5] or '01'} NG03x".encode()

    def corrupt(self, reply: bytes) -> bytes:
        """A damaged reply."""
        return b"a 01 O\x80K0"


# ---------------------------------------------------------------- Panasonic NTCONTROL / serial
PANASONIC_INPUTS = {"RG1": "computer1", "HD1": "hdmi1", "DVI": "dvi", "VID": "video"}


class Panasonic(Family):
    """Panasonic commands, STX/ETX framed on serial or ``00`` + CR on NTCONTROL."""

    def __init__(self, projector: Projector, network: bool = False) -> None:
        super().__init__(projector)
        self.network = network

    def greeting(self, session: Session) -> bytes:
        """NTCONTROL 1 <random> in protect mode, NTCONTROL 0 without a password."""
        if not self.network:
            return b""
        session.close_after_reply = True
        return f"NTCONTROL 1 {session.random}\r".encode() if session.password else b"NTCONTROL 0\r"

    def split(self, buf: bytes) -> tuple[bytes | None, bytes]:
        """CR-terminated on the network, STX..ETX on serial."""
        if self.network:
            return _split_at(buf, b"\r")
        start = buf.find(b"\x02")
        return (None, b"") if start < 0 else _split_at(buf[start:], b"\x03")

    def answer(self, request: bytes, session: Session) -> bytes | None:
        """One exchange."""
        if not self.network:
            return b"\x02" + self._do(request[1:-1].decode("ascii", "replace")).encode() + b"\x03"
        text = request.decode("ascii", "replace").rstrip("\r")
        if session.password:
            secret = f"admin1:{session.password}:{session.random}"
            want = hashlib.md5(secret.encode()).hexdigest()
            if text[:32] != want:
                return b"ERRA\r"
            text = text[32:]
        if not text.startswith("00"):
            return b"ERR1\r"
        out = self._do(text[2:])
        return (out if out.startswith("ER") else "00" + out).encode() + b"\r"

    def _do(self, cmd: str) -> str:
        p = self.p
        err = "ERR3" if self.network else "ER401"
        if cmd in ("PON", "POF"):
            return cmd if p.set_power(cmd == "PON") else err
        state = p.power()
        if cmd == "QPW":
            return "001" if state in ("on", "warming") else "000"
        if cmd == "Q$S":
            return {"off": "0", "warming": "1", "on": "2", "cooling": "3"}[state]
        if cmd == "Q$L":
            return f"{p.lamp_hours:04d}"
        if state != "on":
            return err
        if cmd.startswith("IIS:") and cmd[4:] in PANASONIC_INPUTS:
            p.input = PANASONIC_INPUTS[cmd[4:]]
            return cmd
        if cmd == "QIN":
            return next((k for k, v in PANASONIC_INPUTS.items() if v == p.input), "HD1")
        if cmd in ("OSH:0", "OSH:1"):
            p.blank = cmd == "OSH:1"
            return cmd
        if cmd == "QSH":
            return "1" if p.blank else "0"
        return "ERR1" if self.network else "ER401"

    def busy(self, request: bytes) -> bytes:
        """ERR3 (network) or ER401 (serial)."""
        return b"ERR3\r" if self.network else b"\x02ER401\x03"

    def corrupt(self, reply: bytes) -> bytes:
        """A damaged reply."""
        return b"00\xff\xfe\r" if self.network else b"\x02\xff\x03"


# ---------------------------------------------------------------- Sony ADCP
class SonyAdcp(Family):
    """ADCP: ``NOKEY`` or a challenge, then ``command args`` lines ending CR LF."""

    STATES: ClassVar[dict[str, str]] = {
        "off": "standby",
        "warming": "startup",
        "on": "on",
        "cooling": "cooling1",
    }

    def greeting(self, session: Session) -> bytes:
        """NOKEY without a password, else a random challenge."""
        session.authenticated = not session.password
        return b"NOKEY\r\n" if not session.password else f"{session.random}\r\n".encode()

    def split(self, buf: bytes) -> tuple[bytes | None, bytes]:
        """Lines end with LF."""
        return _split_at(buf, b"\n")

    def answer(self, request: bytes, session: Session) -> bytes | None:
        """One exchange (the first line answers the challenge when a password is set)."""
        text = request.decode("ascii", "replace").strip()
        if not session.authenticated:
            want = hashlib.sha256((session.random + session.password).encode()).hexdigest()
            session.authenticated = text == want
            return b"OK\r\n" if session.authenticated else b"err_auth\r\n"
        return (self._do(text) + "\r\n").encode()

    def _do(self, text: str) -> str:
        p = self.p
        name, _, arg = text.partition(" ")
        arg = arg.strip('"')
        state = p.power()
        if name == "power" and arg in ("on", "off"):
            return "ok" if p.set_power(arg == "on") else "err_inactive"
        if name == "power_status":
            return f'"{self.STATES[state]}"'
        if name == "modelname":
            return f'"{p.model}"'
        if name == "error":
            return '"err_lamp"' if p.error else '"no_err"'
        if name == "timer":
            return f'[{{"light_src":{p.lamp_hours}}}]'
        if state != "on":
            return "err_inactive"
        if name in ("input", "blank", "freeze") and arg != "?":
            attr = {"input": "input", "blank": "blank", "freeze": "freeze"}[name]
            setattr(p, attr, arg if name == "input" else arg == "on")
            return "ok"
        if name == "input":
            return f'"{p.input}"'
        if name == "blank":
            return '"on"' if p.blank else '"off"'
        return "err_cmd"

    def busy(self, request: bytes) -> bytes:
        """err_inactive: not available now."""
        return b"err_inactive\r\n"

    def corrupt(self, reply: bytes) -> bytes:
        """A damaged reply."""
        return b'"st\xffrtup\r\n'


# ---------------------------------------------------------------- Hitachi serial
HITACHI = {
    "BAD2010000600100": ("power", True),
    "2AD3010000600000": ("power", False),
    "19D3020000600000": ("get_power", None),
    "C2FF020090100000": ("get_lamp", None),
    "C2F00200A0100000": ("get_filter", None),
    "CDD2020000200000": ("get_input", None),
    "D9D8020020600000": ("get_error", None),
    "0ED2010000200300": ("input", "hdmi1"),
    "FED2010000200000": ("input", "computer1"),
}
HITACHI_INPUT = {"computer1": 0x00, "hdmi1": 0x03, "hdmi2": 0x0D}


class Hitachi(Family):
    """Hitachi/Maxell 13-byte frames BE EF 03 06 00 ...; replies 06, 15, 1C, 1D lo hi, 1F."""

    binary = True

    def split(self, buf: bytes) -> tuple[bytes | None, bytes]:
        """Fixed 13-byte requests."""
        return (buf[:13], buf[13:]) if len(buf) >= 13 else (None, buf)

    def answer(self, request: bytes, session: Session) -> bytes | None:
        """One exchange."""
        if request[:5] != b"\xbe\xef\x03\x06\x00":
            return b"\x15"
        action, arg = HITACHI.get(request[5:].hex().upper(), ("", None))
        p = self.p
        state = p.power()
        if action == "power":
            return b"\x06" if p.set_power(bool(arg)) else b"\x1f\x00\x00"
        if state == "warming":
            return b"\x1f\x00\x00"  # "commands are not accepted during warm-up"
        value = {
            "get_power": {"off": 0, "on": 1, "cooling": 2}.get(state, 0),
            "get_lamp": p.lamp_hours,
            "get_filter": p.filter_hours,
            "get_error": 3 if p.error else 0,
            "get_input": HITACHI_INPUT.get(p.input, 3),
        }.get(action)
        if value is not None:
            return b"\x1d" + value.to_bytes(2, "little")
        if action == "input" and state == "on":
            p.input = str(arg)
            return b"\x06"
        return b"\x15" if not action else b"\x1c\x00\x00"

    def busy(self, request: bytes) -> bytes:
        """1F: busy, send the same command again."""
        return b"\x1f\x00\x00"

    def corrupt(self, reply: bytes) -> bytes:
        """Hitachi replies carry no checksum: an impossible first byte instead."""
        return b"\x7f" + reply[1:]


MAKERS: dict[str, Callable[[Projector], Family]] = {
    "epson/escvp21": Epson,
    "epson/escvpnet": lambda p: Epson(p, network=True),
    "nec/binary-serial": Nec,
    "nec/binary-tcp": Nec,
    "samsung/mdc": SamsungMdc,
    "lg/ka-serial": LgKa,
    "panasonic/serial": Panasonic,
    "panasonic/ntcontrol": lambda p: Panasonic(p, network=True),
    "sony/adcp": SonyAdcp,
    "hitachi/serial": Hitachi,
}


def _all_makers() -> dict[str, Callable[[Projector], Family]]:
    """These families and the ones in ``ascii_families`` and ``binary_families``."""
    from roomctl.emulators import ascii_families, binary_families

    return {**MAKERS, **ascii_families.MAKERS, **binary_families.MAKERS}


def family_for(profile_id: str, projector: Projector) -> Family:
    """The emulator family serving ``profile_id``; KeyError if there is none."""
    return _all_makers()[profile_id](projector)


def families() -> tuple[str, ...]:
    """Every profile id an emulator serves."""
    return tuple(_all_makers())
