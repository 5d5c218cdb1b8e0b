"""Wire-protocol sides of the family emulators, written from the manuals, not from the codec.

This module and its siblings (``display_families``, ``ascii_families``, ``binary_families``)
deliberately import nothing from ``roomctl.profiles``: if a profile were wrong, an emulator
built from it would agree with it. Each family turns one request into one reply against a
shared ``Projector`` state machine (``base``). The registry of all of them is at the end.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import ClassVar

from roomctl.emulators.base import Family, Projector, Session, split_at, sum8

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
        return split_at(buf, b"\r")

    def is_handshake(self, request: bytes, session: Session) -> bool:
        """The ESC/VP.net hello."""
        return request.startswith(b"ESC/VP.net")

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
        return head + bytes([sum8(head)])

    def answer(self, request: bytes, session: Session) -> bytes | None:
        """One exchange; a bad checksum gets no answer (as the manual says)."""
        if sum8(request[:-1]) != request[-1]:
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
            return split_at(buf, b"\r")
        start = buf.find(b"\x02")
        return (None, b"") if start < 0 else split_at(buf[start:], b"\x03")

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

    def is_handshake(self, request: bytes, session: Session) -> bool:
        """The answer to the challenge."""
        return not session.authenticated

    def split(self, buf: bytes) -> tuple[bytes | None, bytes]:
        """Lines end with LF."""
        return split_at(buf, b"\n")

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


MAKERS: dict[str, Callable[[Projector], Family]] = {
    "epson/escvp21": Epson,
    "epson/escvpnet": lambda p: Epson(p, network=True),
    "nec/binary-serial": Nec,
    "nec/binary-tcp": Nec,
    "panasonic/serial": Panasonic,
    "panasonic/ntcontrol": lambda p: Panasonic(p, network=True),
    "sony/adcp": SonyAdcp,
}


def _all_makers() -> dict[str, Callable[[Projector], Family]]:
    """These families and their siblings'."""
    from roomctl.emulators import ascii_families, binary_families, display_families

    siblings = (display_families, ascii_families, binary_families)
    return {**MAKERS, **{k: v for m in siblings for k, v in m.MAKERS.items()}}


def family_for(profile_id: str, projector: Projector) -> Family:
    """The emulator family serving ``profile_id``; KeyError if there is none."""
    return _all_makers()[profile_id](projector)


def families() -> tuple[str, ...]:
    """Every profile id an emulator serves."""
    return tuple(_all_makers())
