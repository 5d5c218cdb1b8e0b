"""An asyncio PJLink class 1/2 client: one command at a time, one reused connection.

PJLink projectors close a connection about 30 s after its last exchange (spec §5.4) and often
accept a single controller, so the client keeps one connection and reuses it while it is
younger than ``idle_s``; an older one is closed and a fresh one authenticated. A reused
connection the projector has already dropped is reopened once, transparently, for commands
that are safe to repeat.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from roomctl.core.errors import AuthenticationFailed, ProtocolError, Unavailable
from roomctl.drivers.base import Power
from roomctl.pjlink import protocol as p

logger = logging.getLogger(__name__)

NOT_REPEATABLE = frozenset({"SVOL", "MVOL"})  # steps: repeating one changes the result


class PjlinkClient:
    """Talks PJLink to one projector. Constructing it does no I/O."""

    def __init__(
        self,
        host: str,
        port: int = p.PORT,
        password: str = "",
        *,
        timeout_s: float = 5.0,
        idle_s: float = 25.0,
    ) -> None:
        self.host = host
        self.port = port
        self._password = password
        self.timeout_s = timeout_s
        self.idle_s = idle_s  # below the projector's 30 s so we close first
        self._lock = asyncio.Lock()
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._prefix = b""
        self._last = 0.0
        self.connections = 0  # opened so far; the benchmark and tests read it

    def __repr__(self) -> str:
        return f"PjlinkClient({self.host!r}, {self.port})"  # never the password

    async def close(self) -> None:
        """Close the connection if open; safe to call twice."""
        writer, self._reader, self._writer = self._writer, None, None
        if writer is not None:
            writer.close()
            with contextlib.suppress(OSError, asyncio.CancelledError):
                await writer.wait_closed()

    async def request(self, body: str, param: str = "?", cls: str | None = None) -> str:
        """Send one command and return the reply's parameter; error codes raise."""
        line = p.encode(body, param, cls)
        async with self._lock:
            reused = await self._ensure_connected()
            try:
                return await self._exchange(body, line)
            except _DroppedError:
                if not reused or body.upper() in NOT_REPEATABLE:
                    raise Unavailable("projector closed the connection") from None
            await self._ensure_connected()
            try:
                return await self._exchange(body, line)
            except _DroppedError:
                raise Unavailable("projector closed the connection") from None

    async def _ensure_connected(self) -> bool:
        """Open and greet a connection unless a young one is open; True when reused."""
        writer = self._writer
        if writer and not writer.is_closing() and time.monotonic() - self._last < self.idle_s:
            return True
        await self.close()
        try:
            async with asyncio.timeout(self.timeout_s):
                self._reader, self._writer = await asyncio.open_connection(
                    self.host, self.port, limit=p.MAX_LINE * 2
                )
                greeting = p.decode_greeting(await self._readline())
        except TimeoutError:
            await self.close()
            raise Unavailable(f"no PJLink greeting within {self.timeout_s} s") from None
        except (OSError, _DroppedError) as err:
            await self.close()
            raise Unavailable(f"cannot connect: {type(err).__name__}") from None
        except BaseException:
            await self.close()
            raise
        self.connections += 1
        self._prefix = b""
        if greeting.auth:
            if not self._password:
                await self.close()
                raise p.PasswordRefused("projector wants a password and none is configured")
            self._prefix = p.digest(greeting.salt, self._password).encode("ascii")
        self._last = time.monotonic()
        return False

    async def _exchange(self, body: str, line: bytes) -> str:
        assert self._writer is not None
        try:
            async with asyncio.timeout(self.timeout_s):
                self._writer.write(self._prefix + line)
                self._prefix = b""  # the digest goes with the first command only
                await self._writer.drain()
                reply = await self._readline()
            response = p.decode(reply)
        except TimeoutError:
            await self.close()
            raise Unavailable(f"no reply to {body} within {self.timeout_s} s") from None
        except (ConnectionError, OSError):
            await self.close()
            raise _DroppedError from None
        except (_DroppedError, ProtocolError, AuthenticationFailed):
            await self.close()  # out of step with the projector: start afresh
            raise
        self._last = time.monotonic()
        if response.body != body.upper():
            await self.close()
        return p.check(response, body)

    async def _readline(self) -> bytes:
        assert self._reader is not None
        try:
            return await self._reader.readuntil(p.CR)
        except asyncio.IncompleteReadError as err:
            if err.partial:
                raise ProtocolError(f"connection closed mid-reply {err.partial[:20]!r}") from None
            raise _DroppedError from None
        except asyncio.LimitOverrunError:
            raise ProtocolError("reply line too long") from None

    # -- typed commands (class 1) -----------------------------------------------------------

    async def set(self, body: str, param: str, cls: str | None = None) -> None:
        """A set command that must answer OK."""
        p.expect_ok(await self.request(body, param, cls), body)

    async def power(self) -> Power:
        """POWR ?"""
        return p.parse_power(await self.request("POWR"))

    async def set_power(self, on: bool) -> None:
        """POWR 1 / POWR 0"""
        await self.set("POWR", "1" if on else "0")

    async def input(self, cls: str = "1") -> str:
        """INPT ? (asked as class 2 when ``cls`` says so, to see letters and type 6)."""
        return p.parse_input(await self.request("INPT", "?", cls))

    async def set_input(self, code: str, cls: str = "1") -> None:
        """INPT XY"""
        await self.set("INPT", p.parse_input(code), cls)

    async def av_mute(self) -> tuple[bool, bool]:
        """AVMT ? → (video muted, audio muted)."""
        return p.parse_avmt(await self.request("AVMT"))

    async def set_av_mute(self, code: str) -> None:
        """AVMT 10/11/20/21/30/31"""
        await self.set("AVMT", code)

    async def errors(self) -> dict[str, str]:
        """ERST ? → parts that are not OK."""
        return p.parse_erst(await self.request("ERST"))

    async def lamps(self) -> tuple[tuple[int, bool], ...]:
        """LAMP ? (raises UndefinedCommand when there is no lamp)."""
        return p.parse_lamps(await self.request("LAMP"))

    async def inputs(self, cls: str = "1") -> tuple[str, ...]:
        """INST ?"""
        return p.parse_inputs(await self.request("INST", "?", cls))

    async def pjlink_class(self) -> str:
        """CLSS ? → "1" or "2"."""
        return p.parse_class(await self.request("CLSS"))

    async def name(self) -> str:
        """NAME ?"""
        return await self.request("NAME")

    async def manufacturer(self) -> str:
        """INF1 ?"""
        return await self.request("INF1")

    async def product(self) -> str:
        """INF2 ?"""
        return await self.request("INF2")

    async def info(self) -> str:
        """INFO ?"""
        return await self.request("INFO")

    # -- class 2 -------------------------------------------------------------------------

    async def serial_number(self) -> str:
        """SNUM ?"""
        return await self.request("SNUM")

    async def software_version(self) -> str:
        """SVER ?"""
        return await self.request("SVER")

    async def input_name(self, code: str) -> str:
        """INNM ?XY — the class 2 query form puts ``?`` before the argument."""
        return await self.request("INNM", "?" + p.parse_input(code))

    async def input_resolution(self) -> str:
        """IRES ? → ``1920x1080``, ``-`` (no signal) or ``*`` (unknown)."""
        return await self.request("IRES")

    async def recommended_resolution(self) -> str:
        """RRES ?"""
        return await self.request("RRES")

    async def filter_hours(self) -> int:
        """FILT ? (raises UndefinedCommand when there is no filter)."""
        return p.parse_hours(await self.request("FILT"))

    async def lamp_models(self) -> str:
        """RLMP ?"""
        return await self.request("RLMP")

    async def filter_models(self) -> str:
        """RFIL ?"""
        return await self.request("RFIL")

    async def speaker_volume(self, up: bool) -> None:
        """SVOL 1 / SVOL 0: one step up or down."""
        await self.set("SVOL", "1" if up else "0")

    async def microphone_volume(self, up: bool) -> None:
        """MVOL 1 / MVOL 0: one step up or down."""
        await self.set("MVOL", "1" if up else "0")

    async def freeze(self) -> bool:
        """FREZ ?"""
        return p.parse_bool(await self.request("FREZ"), "FREZ")

    async def set_freeze(self, on: bool) -> None:
        """FREZ 1 / FREZ 0"""
        await self.set("FREZ", "1" if on else "0")


class _DroppedError(Exception):
    """The projector closed the connection before sending anything (internal)."""
