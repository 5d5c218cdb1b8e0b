"""Emulator families for Hitachi (serial and TCP 9715), ViewSonic and Sony binary (manuals).

Like ``families``, this imports nothing from ``roomctl.profiles``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from roomctl.emulators.base import Family, Projector, Session

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


def _sum(data: bytes) -> int:
    return sum(data) & 0xFF


def _or(data: bytes) -> int:
    out = 0
    for b in data:
        out |= b
    return out


# ---------------------------------------------------------------- ViewSonic (2019+ binary)
# ViewSonic LS625W-S user guide p. 71: power 11 00/11 01, power read 11 00, projector status
# 11 26 (00 off, 01 warm up, 02 on, 03 cool down), ACK 03 14 00 00 00 14. PJD5111 user guide
# p. 54: blank 12 09 and freeze 13 00 (toggles), source 13 01 (VGA 00, VGA2 08, composite 05,
# S-video 06), mute 14 00. Neither documents an error reply: refusals get none.
VIEWSONIC_INPUTS = {0x00: "computer1", 0x08: "computer2", 0x05: "video", 0x06: "svideo"}
VIEWSONIC_STATUS = {"off": 0x00, "warming": 0x01, "on": 0x02, "cooling": 0x03}
VIEWSONIC_MAX = 64  # no documented packet is longer; a bigger length field is noise


class ViewSonic(Family):
    """``06`` write / ``07`` read packets: 14 00 len-lo len-hi 34 ... sum-of-all-but-first."""

    binary = True

    def split(self, buf: bytes) -> tuple[bytes | None, bytes]:
        """Resynchronise on 06/07; bytes 3-4 (little-endian) count the bytes after byte 4."""
        while buf and buf[0] not in (0x06, 0x07):
            buf = buf[1:]
        if len(buf) < 5:
            return None, buf
        size = 6 + int.from_bytes(buf[3:5], "little")
        if size > VIEWSONIC_MAX:
            return self.split(buf[1:])
        return (buf[:size], buf[size:]) if len(buf) >= size else (None, buf)

    def _frame(self, kind: int, data: bytes = b"") -> bytes:
        head = bytes([kind, 0x14, 0x00]) + len(data).to_bytes(2, "little") + data
        return head + bytes([_sum(head[1:])])

    def answer(self, request: bytes, session: Session) -> bytes | None:
        """One exchange; a bad checksum or anything not carried out gets no reply."""
        body = request[5:-1]
        if _sum(request[1:-1]) != request[-1] or request[1:3] != b"\x14\x00":
            return None
        if body[:1] != b"\x34":
            return None
        if request[0] == 0x06:
            return self._frame(0x03) if self._write(body[1:]) else None
        if body[1:3] == b"\x00\x00" and (value := self._read(body[3:])) is not None:
            return self._frame(0x05, bytes([0, 0, value]))
        return None

    def _write(self, cmd: bytes) -> bool:
        p = self.p
        if cmd in (b"\x11\x00\x00", b"\x11\x01\x00"):
            return p.set_power(cmd[1] == 0x00)
        if p.power() != "on":
            return False
        if cmd == b"\x12\x09":
            p.blank = not p.blank
        elif cmd == b"\x13\x00":
            p.freeze = not p.freeze
        elif cmd[:2] == b"\x13\x01" and cmd[2:] and cmd[2] in VIEWSONIC_INPUTS:
            p.input = VIEWSONIC_INPUTS[cmd[2]]
        elif cmd in (b"\x14\x00\x00", b"\x14\x00\x01"):
            p.mute = cmd[2] == 0x01
        else:
            return False
        return True

    def _read(self, cmd: bytes) -> int | None:
        p = self.p
        state = p.power()
        if cmd == b"\x11\x26":
            return VIEWSONIC_STATUS[state]
        if cmd == b"\x11\x00":
            return int(state in ("warming", "on"))
        if state != "on":
            return None
        codes = {v: k for k, v in VIEWSONIC_INPUTS.items()}
        return {
            b"\x12\x09": int(p.blank),
            b"\x13\x00": int(p.freeze),
            b"\x13\x01": codes.get(p.input, 0x00),
            b"\x14\x00": int(p.mute),
        }.get(cmd)

    def busy(self, request: bytes) -> bytes:
        """The protocol has no busy reply: a busy ViewSonic is a silent one."""
        return b""


# ---------------------------------------------------------------- Sony binary RS-232C
# Sony VPL-F500X protocol p. 22: A9 item(2) type data(2) OR(bytes 1-5) 9A; type 00 set, 01 get,
# 02 data reply, 03 ACK/NAK reply. VPL-CX76 p. 28 table 3: ACK 00 00, NAK 01 01 undefined,
# 01 04 size, 01 05 select, 01 06 range over, 01 0A not applicable, F0 10 checksum, F0 20
# framing. Status power 01 02, status error 01 01 (bits), lamp timer 01 13 (hours, hi lo).
# VPL-BW5 p. 11: "No response may be returned when turning on the power."
SONY_POWER = {"off": 0x00, "warming": 0x01, "on": 0x03, "cooling": 0x04}
SONY_ERRORS = {"": 0x00, "lamp": 0x01, "fan": 0x02, "cover": 0x04, "temperature": 0x08}
# Input codes are model-dependent and were not found in a manual (the profile says so too).
SONY_INPUTS = {0x00: "video", 0x01: "svideo", 0x02: "input_a", 0x03: "input_b", 0x04: "hdmi1"}
ACK, UNDEFINED, SELECT, RANGE, NOT_APPLICABLE = 0x0000, 0x0101, 0x0105, 0x0106, 0x010A
CHECKSUM_ERROR, FRAMING_ERROR = 0xF010, 0xF020
POWER_ON, POWER_OFF, INPUT, MUTING = 0x172E, 0x172F, 0x0001, 0x0030
STATUS_ERROR, STATUS_POWER, LAMP_TIMER = 0x0101, 0x0102, 0x0113


class SonyBinary(Family):
    """8-byte frames A9 … 9A with an OR checksum; ``quiet_power_on`` drops that one ACK."""

    binary = True

    def __init__(self, projector: Projector, quiet_power_on: bool = False) -> None:
        super().__init__(projector)
        self.quiet_power_on = quiet_power_on

    def split(self, buf: bytes) -> tuple[bytes | None, bytes]:
        """Resynchronise on the A9 start code; frames are 8 bytes."""
        start = buf.find(b"\xa9")
        if start < 0:
            return None, b""
        buf = buf[start:]
        return (buf[:8], buf[8:]) if len(buf) >= 8 else (None, buf)

    def _reply(self, item: int, kind: int, data: int) -> bytes:
        body = item.to_bytes(2, "big") + bytes([kind]) + data.to_bytes(2, "big")
        return b"\xa9" + body + bytes([_or(body)]) + b"\x9a"

    def _status(self, code: int) -> bytes:
        return self._reply(code, 0x03, 0)

    def answer(self, request: bytes, session: Session) -> bytes | None:
        """One exchange."""
        if request[7] != 0x9A:
            return self._status(FRAMING_ERROR)
        if _or(request[1:6]) != request[6]:
            return self._status(CHECKSUM_ERROR)
        item, kind = int.from_bytes(request[1:3], "big"), request[3]
        data = int.from_bytes(request[4:6], "big")
        if kind == 0x00:
            return self._set(item, data)
        return self._get(item) if kind == 0x01 else self._status(UNDEFINED)

    def _set(self, item: int, data: int) -> bytes | None:
        p = self.p
        if item in (POWER_ON, POWER_OFF):
            was = p.power()
            if not p.set_power(item == POWER_ON):
                return self._status(NOT_APPLICABLE)
            quiet = self.quiet_power_on and item == POWER_ON and was == "off"
            return None if quiet else self._status(ACK)
        if item not in (INPUT, MUTING):
            return self._status(UNDEFINED)
        if p.power() != "on":
            return self._status(NOT_APPLICABLE)
        if item == INPUT:
            if data not in SONY_INPUTS:
                return self._status(SELECT)
            p.input = SONY_INPUTS[data]
        elif data > 1:
            return self._status(RANGE)
        else:
            p.blank = data == 1
        return self._status(ACK)

    def _get(self, item: int) -> bytes:
        p = self.p
        state = p.power()
        if item == STATUS_POWER:
            return self._reply(item, 0x02, SONY_POWER[state])
        if item == STATUS_ERROR:
            return self._reply(item, 0x02, SONY_ERRORS.get(p.error, 0x40))
        if item == LAMP_TIMER:
            return self._reply(item, 0x02, min(p.lamp_hours, 0xFFFF))
        if item not in (INPUT, MUTING):
            return self._status(UNDEFINED)
        if state != "on":
            return self._status(NOT_APPLICABLE)
        if item == MUTING:
            return self._reply(item, 0x02, int(p.blank))
        code = next((k for k, v in SONY_INPUTS.items() if v == p.input), 0x04)
        return self._reply(item, 0x02, code)

    def busy(self, request: bytes) -> bytes:
        """NAK 01 0A: not applicable at present (the protocol has no busy code)."""
        return self._status(NOT_APPLICABLE)

    def corrupt(self, reply: bytes) -> bytes:
        """The checksum byte (before the 9A end code) made wrong."""
        return reply[:-2] + bytes([reply[-2] ^ 0x5A]) + reply[-1:] if reply else reply


# ---------------------------------------------------------------- Hitachi TCP 9715
# Hitachi CP-A100W manual p. 139 and CP-A220N p. 13: 02 + 0D + the 13-byte RS-232C command +
# a checksum that makes header..checksum sum to 0 (low 8 bits) + a connection ID (0-255)
# attached to the reply. CP-AW250N p. 14: replies 06 id, 15 id, 1C 00 00 id, 1D lo hi id,
# 1F 04 00 id (authentication error), 1F lo hi id (busy); with authentication on the projector
# sends 8 random bytes and the client puts md5(random + password) in front of the commands.
HITACHI_FRAME = 17
DIGEST = 32


def _is_hex(data: bytes) -> bool:
    return all(c in b"0123456789abcdefABCDEF" for c in data)


class Hitachi9715(Family):
    """The serial Hitachi family inside the TCP 9715 wrapper, with the MD5 challenge."""

    binary = True

    def __init__(self, projector: Projector) -> None:
        super().__init__(projector)
        self.serial = Hitachi(projector)

    def greeting(self, session: Session) -> bytes:
        """8 random characters when authentication is on; nothing otherwise."""
        return session.random.encode() if session.password else b""

    def split(self, buf: bytes) -> tuple[bytes | None, bytes]:
        """A 17-byte packet, optionally after a 32-character digest; other bytes are junk."""
        start = buf.find(b"\x02")
        if start < 0:
            head_only = len(buf) <= DIGEST and _is_hex(buf)
            return (None, buf) if head_only else (buf, b"")
        if start not in (0, DIGEST) or not _is_hex(buf[:start]):
            return buf[:start], buf[start:]
        size = start + HITACHI_FRAME
        return (buf[:size], buf[size:]) if len(buf) >= size else (None, buf)

    def is_handshake(self, request: bytes, session: Session) -> bool:
        """The command that carries the digest authenticates the session: faults spare it."""
        return bool(session.password) and not session.authenticated

    def answer(self, request: bytes, session: Session) -> bytes | None:
        """Check the digest (first command), the wrapper, then let the serial family answer."""
        digest, frame = request[:-HITACHI_FRAME], request[-HITACHI_FRAME:]
        if len(frame) != HITACHI_FRAME or frame[:2] != b"\x02\x0d":
            return None  # junk: the manual promises nothing for it
        cid = frame[-1:]
        if session.password and not session.authenticated:
            want = hashlib.md5((session.random + session.password).encode()).hexdigest()
            if digest.decode("ascii", "replace").lower() != want:
                return b"\x1f\x04\x00" + cid
            session.authenticated = True
        if _sum(frame[:16]):
            return b"\x15" + cid  # not understood: "send the same command again"
        return (self.serial.answer(frame[2:15], session) or b"") + cid

    def busy(self, request: bytes) -> bytes:
        """1F 00 00 + connection ID: busy, send the same command again."""
        return b"\x1f\x00\x00" + (request[-1:] if len(request) >= HITACHI_FRAME else b"\x00")

    def corrupt(self, reply: bytes) -> bytes:
        """9715 replies carry no checksum: an impossible reply code instead."""
        return b"\x7f" + reply[1:] if reply else reply


MAKERS: dict[str, Callable[[Projector], Family]] = {
    "hitachi/serial": Hitachi,
    "viewsonic/binary": ViewSonic,
    "sony/binary-serial": SonyBinary,
    "hitachi/tcp9715": Hitachi9715,
}
