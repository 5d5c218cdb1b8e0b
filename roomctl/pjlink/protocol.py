"""PJLink class 1 and 2 wire format: pure encode/decode, the MD5 digest, error replies.

No I/O here. Every decoder raises ``ProtocolError`` (or a subclass) on anything the spec
does not allow, so garbage from a device never becomes a different exception.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from roomctl.core.errors import (
    AuthenticationFailed,
    CommandRejected,
    DeviceError,
    NotReady,
    ProtocolError,
)
from roomctl.drivers.base import Power

PORT = 4352
MAX_LINE = 136  # 1 header + 1 class + 4 body + 1 separator + 128 parameter + 1 CR
MAX_PARAM = 128
CR = b"\r"

# Class 1 bodies, then the class 2 additions (INPT and INST exist in both).
CLASS1 = frozenset(
    ["POWR", "INPT", "AVMT", "ERST", "LAMP", "INST", "NAME", "INF1", "INF2", "INFO", "CLSS"]
)
CLASS2 = frozenset(
    ["SNUM", "SVER", "INNM", "IRES", "RRES", "FILT", "RLMP", "RFIL", "SVOL", "MVOL", "FREZ"]
)

POWER = {"0": Power.OFF, "1": Power.ON, "2": Power.COOLING, "3": Power.WARMING}
ERST_PARTS = ("fan", "lamp", "temperature", "cover", "filter", "other")
ERST_LEVELS = {"1": "warning", "2": "error"}
INPUT_TYPES = {"1": "RGB", "2": "VIDEO", "3": "DIGITAL", "4": "STORAGE", "5": "NETWORK"}
INPUT_TYPES2 = {**INPUT_TYPES, "6": "INTERNAL"}

_GREETING = re.compile(rb"PJLINK (?:0|1 ([0-9A-Fa-f]{8}))\r\Z")
_RESPONSE = re.compile(rb"%([12])([A-Za-z0-9]{4})=([^\r]{0,128})\r\Z")
_INPUT = re.compile(r"^[1-6][1-9A-Z]$")
_MAC = re.compile(r"^[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){5}$")


class UndefinedCommand(CommandRejected):
    """ERR1: the device does not know the command (or has no lamp, filter, speaker)."""


class OutOfParameter(CommandRejected):
    """ERR2: the parameter is out of range, e.g. a nonexistent input."""


class UnavailableTime(NotReady):
    """ERR3: not now (standby, warm-up, cool-down, switching)."""


class ProjectorFailure(CommandRejected):
    """ERR4: the projector reports a failure of its own."""


class PasswordRefused(AuthenticationFailed):
    """``PJLINK ERRA``: the password is wrong (or one is needed)."""


ERRORS: dict[str, type[DeviceError]] = {
    "ERR1": UndefinedCommand,
    "ERR2": OutOfParameter,
    "ERR3": UnavailableTime,
    "ERR4": ProjectorFailure,
}


@dataclass(frozen=True)
class Greeting:
    """The projector's first line: whether it wants a digest, and its random salt."""

    auth: bool
    salt: str = ""


@dataclass(frozen=True)
class Response:
    """One response line: ``%<cls><body>=<param>``."""

    cls: str
    body: str
    param: str


def command_class(body: str) -> str:
    """The class digit a command is sent with."""
    return "2" if body in CLASS2 else "1"


def encode(body: str, param: str = "?", cls: str | None = None) -> bytes:
    """The command line for ``body`` with ``param`` (``?`` for a get)."""
    body = body.upper()
    if len(body) != 4 or not body.isalnum():
        raise ValueError(f"bad PJLink command body {body!r}")
    data = param.encode("utf-8")
    if len(data) > MAX_PARAM or b"\r" in data:
        raise ValueError("PJLink parameter too long or contains CR")
    return b"%" + (cls or command_class(body)).encode() + body.encode() + b" " + data + CR


def digest(salt: str, password: str) -> str:
    """The class 1 MD5 digest: md5(salt as received + password), 32 lowercase hex."""
    return hashlib.md5((salt + password).encode("utf-8"), usedforsecurity=False).hexdigest()


def decode_greeting(line: bytes) -> Greeting:
    """Parse ``PJLINK 0`` / ``PJLINK 1 <salt>``; ``PJLINK ERRA`` raises PasswordRefused."""
    if line == b"PJLINK ERRA\r":
        raise PasswordRefused("projector refused the password")
    match = _GREETING.fullmatch(line)
    if match is None:
        raise ProtocolError(f"bad PJLink greeting {line[:40]!r}")
    salt = match.group(1)
    return Greeting(auth=salt is not None, salt=salt.decode("ascii") if salt else "")


def decode(line: bytes) -> Response:
    """Parse one response line; ``PJLINK ERRA`` raises PasswordRefused."""
    if line == b"PJLINK ERRA\r":
        raise PasswordRefused("projector refused the password")
    match = _RESPONSE.fullmatch(line)
    if match is None:
        raise ProtocolError(f"bad PJLink response {line[:40]!r}")
    try:
        param = match.group(3).decode("utf-8")
    except UnicodeDecodeError as err:
        raise ProtocolError("PJLink response is not UTF-8") from err
    return Response(match.group(1).decode(), match.group(2).decode().upper(), param)


def check(response: Response, body: str) -> str:
    """The parameter of ``response`` to ``body``; error codes raise their exception types."""
    if response.body != body.upper():
        raise ProtocolError(f"reply to {response.body}, expected {body}")
    error = ERRORS.get(response.param.upper())
    if error is not None:
        raise error(f"{body}: {response.param}")
    return response.param


def expect_ok(param: str, body: str) -> None:
    """A set command must answer ``OK``."""
    if param.upper() != "OK":
        raise ProtocolError(f"{body}: expected OK, got {param[:20]!r}")


# -- parameter parsers ---------------------------------------------------------------------


def parse_power(param: str) -> Power:
    """POWR ? → Power."""
    try:
        return POWER[param]
    except KeyError:
        raise ProtocolError(f"POWR: bad state {param[:10]!r}") from None


def parse_input(param: str) -> str:
    """INPT ? → the two-character input code (``31``, class 2 also ``3A``, ``61``)."""
    code = param.upper()
    if not _INPUT.match(code):
        raise ProtocolError(f"INPT: bad input {param[:10]!r}")
    return code


def parse_inputs(param: str) -> tuple[str, ...]:
    """INST ? → input codes."""
    return tuple(parse_input(p) for p in param.split())


def parse_avmt(param: str) -> tuple[bool, bool]:
    """AVMT ? → (video muted, audio muted)."""
    states = {"10": (False, False), "11": (True, False), "20": (False, False)}
    states |= {"21": (False, True), "30": (False, False), "31": (True, True)}
    try:
        return states[param]
    except KeyError:
        raise ProtocolError(f"AVMT: bad state {param[:10]!r}") from None


def parse_erst(param: str) -> dict[str, str]:
    """ERST ? → {part: "warning"|"error"} for every part not OK."""
    if len(param) != 6 or any(c not in "012" for c in param):
        raise ProtocolError(f"ERST: bad status {param[:10]!r}")
    return {part: ERST_LEVELS[c] for part, c in zip(ERST_PARTS, param, strict=True) if c != "0"}


def parse_lamps(param: str) -> tuple[tuple[int, bool], ...]:
    """LAMP ? → ((hours, lit), ...) for up to 8 lamps."""
    fields = param.split()
    if not fields or len(fields) % 2 or len(fields) > 16:
        raise ProtocolError(f"LAMP: bad reply {param[:20]!r}")
    lamps = []
    for hours, lit in zip(fields[::2], fields[1::2], strict=True):
        if not hours.isdigit() or len(hours) > 5 or lit not in ("0", "1"):
            raise ProtocolError(f"LAMP: bad reply {param[:20]!r}")
        lamps.append((int(hours), lit == "1"))
    return tuple(lamps)


def parse_hours(param: str, body: str = "FILT") -> int:
    """FILT ? → hours (0-99999)."""
    if not param.isdigit() or len(param) > 5:
        raise ProtocolError(f"{body}: bad hours {param[:10]!r}")
    return int(param)


def parse_class(param: str) -> str:
    """CLSS ? → "1" or "2"; tolerates ``Class 1`` and ``Version1`` seen in the field."""
    digits = [c for c in param if c in "12"]
    if not digits:
        raise ProtocolError(f"CLSS: bad class {param[:20]!r}")
    return digits[-1]


def parse_bool(param: str, body: str) -> bool:
    """FREZ ? → bool."""
    if param not in ("0", "1"):
        raise ProtocolError(f"{body}: bad state {param[:10]!r}")
    return param == "1"


def input_name(code: str) -> str:
    """A readable default name for an input code: ``31`` → ``DIGITAL1``."""
    return f"{INPUT_TYPES2.get(code[0], 'INPUT')}{code[1]}"


def parse_ackn(datagram: bytes) -> str:
    """``%2ACKN=<mac>`` → the MAC address, lowercase."""
    response = decode(datagram if datagram.startswith(b"%") else b"")
    if response.body != "ACKN" or not _MAC.match(response.param):
        raise ProtocolError(f"bad search answer {datagram[:40]!r}")
    return response.param.lower()


@dataclass(frozen=True)
class Notification:
    """A class 2 status notification: LKUP (MAC), ERST, POWR or INPT with its value."""

    body: str
    value: str


def parse_notification(datagram: bytes) -> Notification:
    """Parse a status notification datagram; anything else raises ProtocolError."""
    response = decode(datagram if datagram.startswith(b"%") else b"")
    body, value = response.body, response.param
    valid = {
        "LKUP": lambda: bool(_MAC.match(value)),
        "ERST": lambda: parse_erst(value) is not None,
        "POWR": lambda: value in ("0", "1"),
        "INPT": lambda: parse_input(value) != "",
    }
    if response.cls != "2" or body not in valid or not valid[body]():
        raise ProtocolError(f"bad status notification {datagram[:40]!r}")
    return Notification(body, value.upper() if body == "INPT" else value)
