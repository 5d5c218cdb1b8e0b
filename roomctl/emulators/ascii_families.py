"""Emulator families for the BenQ, Optoma and Casio ASCII protocols (from the manuals).

Like ``families``, this imports nothing from ``roomctl.profiles``: the replies below follow the
manuals cited in each class, so a wrong profile fails against them.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from roomctl.emulators.base import Family, Projector, Session

# Text replies damaged the way line noise or a parity mismatch damages them: the high bit set
# on every letter and digit, line ends intact (so a reader sees a complete but unreadable line).
_ALNUM = frozenset(b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")


def _garble(reply: bytes) -> bytes:
    return bytes(b | 0x80 if b in _ALNUM else b for b in reply)


# ---------------------------------------------------------------- BenQ <CR>*key=value#<CR>
# Source names from the BenQ command tables (LW500 p.10, L710 p.8); the emulated model has
# the connectors in BENQ_SOURCES only, so the others answer "*Unsupported item#".
BENQ_SOURCES = {
    "rgb": "computer1", "hdmi": "hdmi1", "hdmi2": "hdmi2", "vid": "video", "ypbr": "component",
}  # fmt: skip
BENQ_OTHER_SOURCES = frozenset(
    {"rgb2", "rgb3", "ypbr2", "dvia", "dvid", "svid", "network", "usbdisplay", "dp", "sdi"}
)
BENQ_SWITCHES = {"blank": "blank", "freeze": "freeze", "mute": "mute"}
BENQ_WHEN_OFF = frozenset({"pow", "ltim", "modelname"})
BENQ_ILLEGAL = "*Illegal format#"


class BenQ(Family):
    """BenQ RS-232 (MX613ST p.57): the projector echoes the command, then ``*KEY=VALUE#``.

    Serial connections end each answer with a ``>`` prompt; the native LAN port (TCP 8000)
    does not, and there a command needs no CR around it. One emulator serves one kind of
    port: a TCP client connecting (``greeting``) switches the prompt off.
    """

    def __init__(self, projector: Projector) -> None:
        super().__init__(projector)
        self.lan = False

    def greeting(self, session: Session) -> bytes:
        """Nothing is sent; a TCP connection is the LAN port, which prints no prompt."""
        self.lan = True
        return b""

    def split(self, buf: bytes) -> tuple[bytes | None, bytes]:
        """A command ends at ``#`` or at CR (a lone CR, the leading one, is an empty line)."""
        ends = [i for i in (buf.find(b"#"), buf.find(b"\r")) if i >= 0]
        if not ends:
            return None, buf
        end = min(ends) + 1
        return buf[:end], buf[end:]

    def answer(self, request: bytes, session: Session) -> bytes | None:
        """Echo, answer line, prompt; an empty line is skipped without echo (p.57 item 5)."""
        text = request.decode("ascii", "replace").strip("\r\n")
        if not text:
            return None
        return self._wrap(text, self._do(text))

    def _wrap(self, echo: str, line: str) -> bytes:
        prompt = "" if self.lan else ">"
        return f"{echo}\r\n{line}\r\n{prompt}".encode("ascii", "replace")

    def _do(self, text: str) -> str:
        m = re.fullmatch(r"\*([a-z0-9]+)=([^#]*)#", text.strip(), re.IGNORECASE)
        if m is None:
            return BENQ_ILLEGAL
        key, value = m.group(1).lower(), m.group(2).lower()
        handler = {
            "pow": self._pow,
            "sour": self._sour,
            "vol": self._vol,
            "ltim": self._read_only,
            "modelname": self._read_only,
        }.get(key) or (self._switch if key in BENQ_SWITCHES else None)
        if handler is None:
            return BENQ_ILLEGAL  # p.57 item 1: an unknown key ("*po=?#") is a format error
        if key not in BENQ_WHEN_OFF and self.p.power() != "on":
            return "*Block item#"  # valid, but not while off, warming or cooling
        return handler(key, value)

    def _pow(self, key: str, value: str) -> str:
        if value == "?":
            return "*POW=ON#" if self.p.power() in ("on", "warming") else "*POW=OFF#"
        if value not in ("on", "off"):
            return BENQ_ILLEGAL
        if not self.p.set_power(value == "on"):
            return "*Block item#"
        return f"*POW={value.upper()}#"

    def _sour(self, key: str, value: str) -> str:
        if value == "?":
            code = next((k for k, v in BENQ_SOURCES.items() if v == self.p.input), "hdmi")
            return f"*SOUR={code.upper()}#"
        if value in BENQ_OTHER_SOURCES:
            return "*Unsupported item#"  # the manual's example: RGB2 on a model without it
        if value not in BENQ_SOURCES:
            return BENQ_ILLEGAL
        self.p.input = BENQ_SOURCES[value]
        return f"*SOUR={value.upper()}#"

    def _switch(self, key: str, value: str) -> str:
        attr = BENQ_SWITCHES[key]
        current = bool(getattr(self.p, attr))
        if value == "?":
            return f"*{key.upper()}={'ON' if current else 'OFF'}#"
        if value not in ("on", "off"):
            return BENQ_ILLEGAL
        if key == "mute" and current == (value == "on"):
            return BENQ_ILLEGAL  # p.57 item 1: "*mute=on#" while already muted
        setattr(self.p, attr, value == "on")
        return f"*{key.upper()}={value.upper()}#"

    def _vol(self, key: str, value: str) -> str:
        if value == "?":
            return f"*VOL={self.p.volume}#"
        if value not in ("+", "-"):
            return BENQ_ILLEGAL
        self.p.volume = max(0, min(20, self.p.volume + (1 if value == "+" else -1)))
        return f"*VOL={value}#"

    def _read_only(self, key: str, value: str) -> str:
        if value != "?":
            return BENQ_ILLEGAL
        if key == "ltim":
            return f"*LTIM={self.p.lamp_hours}#"
        return f"*MODELNAME={self.p.model}#"

    def busy(self, request: bytes) -> bytes:
        """``*Block item#``: a valid command the projector cannot run now."""
        echo = request.decode("ascii", "replace").strip("\r\n")
        return self._wrap(echo, "*Block item#") if echo else b""

    def corrupt(self, reply: bytes) -> bytes:
        """A damaged line."""
        return _garble(reply)


# ---------------------------------------------------------------- Optoma ~XXnnn p
# Source codes differ between writing (~XX12 n, HD50 p.64) and reading (~XX121 1, W320UST
# p.102: 2 VGA1, 3 VGA2, 5 Video, 7 HDMI1, 8 HDMI2).
OPTOMA_SELECT = {"1": "hdmi1", "15": "hdmi2", "5": "vga", "8": "component", "10": "video"}
OPTOMA_READ = {"hdmi1": "7", "hdmi2": "8", "vga": "2", "component": "2", "video": "5"}
OPTOMA_SWITCHES = {"02": "blank", "03": "mute", "04": "freeze"}
# INFOn (HD75 p.50, EW615i p.64): 0 standby, 1 warming, 2 cooling, 4 lamp, 6 fan, 7 temperature.
OPTOMA_INFO = {"off": "0", "warming": "1", "cooling": "2"}
OPTOMA_ERROR_INFO = {"lamp": "4", "fan": "6", "temperature": "7"}


class Optoma(Family):
    """Optoma RS-232 (HD66 p.49, HD50 p.64): ``~`` ID command SP value CR; P, F or OKn.

    ID 00 addresses every projector; another ID than ours gets no answer. Power transitions
    and errors are announced by unsolicited ``INFOn`` lines, sent here before the reply to the
    next request (and right after the P of a power command).
    """

    def __init__(self, projector: Projector, projector_id: str = "01") -> None:
        super().__init__(projector)
        self.id = projector_id
        self._told_power = "off"
        self._told_error = ""

    def split(self, buf: bytes) -> tuple[bytes | None, bytes]:
        """Commands end with CR ("There is a <CR> after all ASCII commands")."""
        i = buf.find(b"\r")
        return (None, buf) if i < 0 else (buf[: i + 1], buf[i + 1 :])

    def answer(self, request: bytes, session: Session) -> bytes | None:
        """INFO lines due, the reply, then INFO lines the command caused."""
        text = request.decode("ascii", "replace").strip()
        m = re.fullmatch(r"~(\d\d)(\d{2,3}) (\d+)(?: ~\d{4})?", text)
        if m is not None and m.group(1) not in ("00", self.id):
            return None  # addressed to another projector on the bus
        before = self._news()
        reply = self._do(m.group(2), m.group(3)) if m else "F"
        return (before + reply + "\r" + self._news()).encode()

    def _news(self) -> str:
        lines = ""
        state = self.p.power()
        if state != self._told_power:
            self._told_power = state
            if state in OPTOMA_INFO:
                lines += f"INFO{OPTOMA_INFO[state]}\r"
        if self.p.error != self._told_error:
            self._told_error = self.p.error
            if self.p.error:
                lines += f"INFO{OPTOMA_ERROR_INFO.get(self.p.error, '4')}\r"
        return lines

    def _do(self, cmd: str, value: str) -> str:
        p = self.p
        state = p.power()
        if cmd == "00" and value in ("0", "1", "2"):
            return "P" if p.set_power(value == "1") else "F"
        if cmd == "124" and value == "1":
            return "OK1" if state in ("on", "warming") else "OK0"
        if cmd == "108" and value in ("1", "2"):
            return f"OK{p.lamp_hours:0{4 if value == '1' else 5}d}"
        if cmd == "151" and value == "1":
            return "OK1"  # a model code, not a name (HD75 p.50: "Oka, depends")
        if cmd == "150" and value == "1":
            source = OPTOMA_READ.get(p.input, "0") if state == "on" else "0"
            on = int(state in ("on", "warming"))
            return f"Ok{on}{p.lamp_hours:04d}{int(source):02d}C10A1"
        if state != "on":
            return "F"
        return self._do_on(cmd, value)

    def _do_on(self, cmd: str, value: str) -> str:
        p = self.p
        if cmd in OPTOMA_SWITCHES and value in ("0", "1", "2"):
            setattr(p, OPTOMA_SWITCHES[cmd], value == "1")
            return "P"
        if cmd == "12" and value in OPTOMA_SELECT:
            p.input = OPTOMA_SELECT[value]
            return "P"
        if cmd == "121" and value == "1":
            return "OK" + OPTOMA_READ.get(p.input, "0")
        return "F"

    def busy(self, request: bytes) -> bytes:
        """F: the command was not carried out."""
        return b"F\r"

    def corrupt(self, reply: bytes) -> bytes:
        """A damaged line."""
        return _garble(reply)


# ---------------------------------------------------------------- Casio (CMD value)
# Command list, XJ-M250 p.59 / XJ-M151 p.85: name -> (range shown in reads, accepted values).
CASIO_RANGES = {
    "PWR": ("0-1", range(2)),
    "SRC": ("0-13", (0, 1, 2, 5, 6, 7, 9)),
    "BLK": ("0-1", range(2)),
    "VOL": ("0-30", range(31)),
}
CASIO_SOURCES = {
    0: "computer", 1: "component", 2: "video", 5: "usb", 6: "computer", 7: "hdmi", 9: "svideo",
}  # fmt: skip


class Casio(Family):
    """Casio XJ RS-232C (XJ-S400U p.85): ``(CMDvalue)`` writes, ``(CMD?)`` -> ``(range,value)``.

    Writes are never answered and out-of-range values are ignored. An unrecognised command gets
    ``?``. While off only the PWR read, power on and the light-time read work; while a power
    transition runs the projector is busy ("wait until the projector completes the previous
    process") and takes no command at all.
    """

    def split(self, buf: bytes) -> tuple[bytes | None, bytes]:
        """From ``(`` to ``)``; bytes before the ``(`` are dropped."""
        start = buf.find(b"(")
        if start < 0:
            return None, b""
        end = buf.find(b")", start)
        return (None, buf[start:]) if end < 0 else (buf[start : end + 1], buf[end + 1 :])

    def answer(self, request: bytes, session: Session) -> bytes | None:
        """One exchange."""
        m = re.fullmatch(rb"\(([A-Z]{3})(\?|\d{1,3})\)", request)
        if m is None or m.group(1).decode() not in CASIO_RANGES:
            return b"?"
        name, arg = m.group(1).decode(), m.group(2).decode()
        state = self.p.power()
        if state in ("warming", "cooling"):
            return None
        if state == "off" and name != "PWR":
            return b"?" if arg == "?" else None  # "do not try to send any other command"
        if arg == "?":
            return f"({CASIO_RANGES[name][0]},{self._value(name)})".encode()
        self._write(name, int(arg))
        return None

    def _value(self, name: str) -> int:
        p = self.p
        if name == "PWR":
            return int(p.power() == "on")
        if name == "SRC":
            return next((k for k, v in CASIO_SOURCES.items() if v == p.input), 7)
        return int(p.blank) if name == "BLK" else p.volume

    def _write(self, name: str, value: int) -> None:
        p = self.p
        if value not in CASIO_RANGES[name][1]:
            return  # silently ignored, as the manual says
        if name == "PWR":
            if value == 1 or p.power() == "on":
                p.set_power(value == 1)
        elif name == "SRC":
            p.input = CASIO_SOURCES[value]
        elif name == "BLK":
            p.blank = value == 1
        else:
            p.volume = value

    def busy(self, request: bytes) -> bytes:
        """Busy with a previous process: the command is not taken, nothing is said."""
        return b""

    def corrupt(self, reply: bytes) -> bytes:
        """A damaged reply."""
        return _garble(reply)


MAKERS: dict[str, Callable[[Projector], Family]] = {
    "benq/ascii": BenQ,
    "optoma/ascii": Optoma,
    "casio/ascii": Casio,
}
