"""Emulator families for the flat panels: Samsung MDC and LG ``ka`` (from the manuals).

Like ``families``, this imports nothing from ``roomctl.profiles``.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from roomctl.emulators.base import Family, Projector, Session, split_at, sum8

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
        return b"\xaa" + body + bytes([sum8(body)])

    def answer(self, request: bytes, session: Session) -> bytes | None:
        """One exchange; ID FE (broadcast) is never acknowledged."""
        if sum8(request[1:-1]) != request[-1]:
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
        return split_at(buf, b"\r")

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


MAKERS: dict[str, Callable[[Projector], Family]] = {
    "samsung/mdc": SamsungMdc,
    "lg/ka-serial": LgKa,
}
