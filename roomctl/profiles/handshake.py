"""Session handshakes selected by a profile's ``handshake.kind``.

The digest and hello functions are pure; ``perform`` runs one handshake over anything with
``write(bytes)`` and ``read(timeout) -> bytes`` and returns the bytes to put in front of the
first command of the connection (PJLink, NTCONTROL and Hitachi prefix a digest there).
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from typing import Protocol

from roomctl.core.errors import AuthenticationFailed, ProtocolError, Unavailable
from roomctl.profiles.schema import Profile

ESCVPNET_MAGIC = b"ESC/VP.net"
ESCVPNET_STATUS = {
    0x40: "bad request",
    0x41: "unauthorized",
    0x43: "forbidden",
    0x45: "service unavailable",
    0x55: "protocol version not supported",
}


class Link(Protocol):
    """The byte stream a handshake talks over (a transport)."""

    async def write(self, data: bytes) -> None:
        """Send bytes."""

    async def read(self, timeout: float) -> bytes:
        """Some bytes; raise Unavailable on timeout or end of stream."""


def pjlink_digest(random: str, password: str) -> str:
    """PJLink class 1 §5.1: md5 of the random text followed by the password, lowercase hex."""
    return hashlib.md5((random + password).encode()).hexdigest()


def ntcontrol_digest(user: str, password: str, random: str) -> str:
    """Panasonic NTCONTROL protect mode: md5 of ``user:password:random``."""
    return hashlib.md5(f"{user}:{password}:{random}".encode()).hexdigest()


def hitachi_digest(random: str, password: str) -> str:
    """Hitachi/Maxell TCP 9715: md5 of the 8 random characters followed by the password."""
    return hashlib.md5((random + password).encode()).hexdigest()


def adcp_digest(challenge: str, password: str) -> str:
    """Sony ADCP: sha256 of the challenge followed by the password, lowercase hex."""
    return hashlib.sha256((challenge + password).encode()).hexdigest()


def escvpnet_hello(password: str = "") -> bytes:
    """The 16-byte ESC/VP.net CONNECT request, with a password header when one is set."""
    if not password:
        return ESCVPNET_MAGIC + bytes([0x10, 0x03, 0, 0, 0, 0])
    secret = password.encode("ascii", "replace")[:16].ljust(16, b"\x00")
    return ESCVPNET_MAGIC + bytes([0x10, 0x03, 0, 0, 0, 1]) + b"\x01\x01" + secret


def escvpnet_check(reply: bytes) -> None:
    """Raise unless ``reply`` is a 16-byte ESC/VP.net answer with status OK (0x20)."""
    if len(reply) < 16 or not reply.startswith(ESCVPNET_MAGIC):
        raise ProtocolError(f"not an ESC/VP.net reply: {reply[:16]!r}")
    status = reply[14]
    if status == 0x41:
        raise AuthenticationFailed("ESC/VP.net: wrong monitor password")
    if status != 0x20:
        raise Unavailable(f"ESC/VP.net: {ESCVPNET_STATUS.get(status, hex(status))}")


async def _read_until(link: Link, end: bytes, timeout: float, limit: int = 256) -> bytes:
    buf = b""
    async with asyncio.timeout(timeout):
        while end not in buf:
            buf += await link.read(timeout)
            if len(buf) > limit:
                raise ProtocolError(f"greeting too long: {buf[:40]!r}")
    return buf


async def _read_exactly(link: Link, size: int, timeout: float) -> bytes:
    buf = b""
    async with asyncio.timeout(timeout):
        while len(buf) < size:
            buf += await link.read(timeout)
    return buf


async def perform(profile: Profile, link: Link, password: str = "") -> bytes:
    """Run the profile's handshake; return the prefix for the first command."""
    kind = profile.handshake.kind
    timeout = profile.handshake.greeting_timeout_s
    try:
        if kind == "pjlink_md5":
            return _pjlink(await _read_until(link, b"\r", timeout), password)
        if kind == "panasonic_ntcontrol":
            greeting = await _read_until(link, b"\r", timeout)
            return _ntcontrol(greeting, profile.handshake.user or "admin1", password)
        if kind == "sony_adcp":
            return await _adcp(link, await _read_until(link, b"\n", timeout), password, timeout)
        if kind == "epson_escvpnet":
            await link.write(escvpnet_hello(password))
            escvpnet_check(await _read_exactly(link, 16, timeout))
            return b""
        if kind == "hitachi_9715":
            return await _hitachi(link, password, timeout)
    except TimeoutError:
        raise Unavailable(f"no {kind} greeting within {timeout} s") from None
    return b""


def _pjlink(greeting: bytes, password: str) -> bytes:
    text = greeting.decode("ascii", "replace").strip()
    if text == "PJLINK 0":
        return b""
    if text == "PJLINK ERRA":
        raise AuthenticationFailed("PJLink: password refused")
    m = re.fullmatch(r"PJLINK 1 ([0-9A-Fa-f]{8})", text)
    if m is None:
        raise ProtocolError(f"bad PJLink greeting {text[:40]!r}")
    if not password:
        raise AuthenticationFailed("PJLink: the projector wants a password")
    return pjlink_digest(m.group(1), password).encode()


def _ntcontrol(greeting: bytes, user: str, password: str) -> bytes:
    text = greeting.decode("ascii", "replace").strip()
    if text == "NTCONTROL 0":
        return b""
    m = re.fullmatch(r"NTCONTROL 1 ([0-9A-Fa-f]{8})", text)
    if m is None:
        raise ProtocolError(f"bad NTCONTROL greeting {text[:40]!r}")
    if not password:
        raise AuthenticationFailed("NTCONTROL: the projector wants a password")
    return ntcontrol_digest(user, password, m.group(1)).encode()


async def _adcp(link: Link, greeting: bytes, password: str, timeout: float) -> bytes:
    text = greeting.decode("ascii", "replace").strip()
    if text == "NOKEY":
        return b""
    if not re.fullmatch(r"[0-9A-Za-z]{1,64}", text):
        raise ProtocolError(f"bad ADCP challenge {text[:40]!r}")
    await link.write(adcp_digest(text, password).encode() + b"\r\n")
    answer = (await _read_until(link, b"\n", timeout)).decode("ascii", "replace").strip()
    if answer.lower() == "err_auth":
        raise AuthenticationFailed("ADCP: password refused")
    if answer.upper() != "OK":
        raise ProtocolError(f"unexpected ADCP answer {answer[:40]!r}")
    return b""


async def _hitachi(link: Link, password: str, timeout: float) -> bytes:
    # With authentication off the projector says nothing, so silence means "no auth".
    try:
        random = await _read_exactly(link, 8, min(timeout, 0.5))
    except (TimeoutError, Unavailable):
        return b""
    text = random.decode("ascii", "replace")
    if not password:
        raise AuthenticationFailed("Hitachi 9715: the projector wants a password")
    return hitachi_digest(text, password).encode()
