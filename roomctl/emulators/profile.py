"""Family emulators on 127.0.0.1 TCP or a pty, with injectable faults.

``roomctl emulate --profile epson/escvp21 --pty`` prints the pty slave path;
``--tcp PORT`` listens on 127.0.0.1 only. Faults: ``none``, ``no_reply``, ``garbage``,
``disconnect`` (half a reply, then hang up), ``busy``, ``bad_checksum``, ``slow``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sys
import tty
from typing import Any

from roomctl.emulators.base import Family, Projector, Session
from roomctl.emulators.families import families, family_for

logger = logging.getLogger(__name__)
FAULTS = ("none", "no_reply", "garbage", "disconnect", "busy", "bad_checksum", "slow")
GARBAGE = b"\xff\x00\xfe#garbage#\x81\r\n:"
SLOW_S = 1.5  # tests patch this down


class ProfileEmulator:
    """Serves one family over TCP and/or a pty; ``fault`` can change at any time."""

    def __init__(
        self, profile_id: str, *, password: str = "", fault: str = "none",
        projector: Projector | None = None,
    ) -> None:  # fmt: skip
        if fault not in FAULTS:
            raise ValueError(f"unknown fault {fault!r} (known: {', '.join(FAULTS)})")
        self.projector = projector or Projector()
        self.family: Family = family_for(profile_id, self.projector)
        self.profile_id = profile_id
        self.password = password
        self.fault = fault
        self.requests = 0
        self._server: asyncio.Server | None = None
        self._pty: tuple[int, int] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._clients: dict[asyncio.Task[Any], asyncio.StreamWriter] = {}

    async def start_tcp(self, port: int = 0) -> int:
        """Listen on 127.0.0.1 (only); return the port."""
        self._server = await asyncio.start_server(self._serve_client, "127.0.0.1", port)
        return int(self._server.sockets[0].getsockname()[1])

    async def start_pty(self) -> str:
        """Open a pty; return the slave path a serial driver opens."""
        master, slave = os.openpty()
        tty.setraw(slave)
        os.set_blocking(master, False)
        self._pty = (master, slave)
        session = Session(password=self.password)
        state = {"buf": b""}
        loop = asyncio.get_running_loop()
        loop.add_reader(master, self._on_pty_data, master, session, state)
        return os.ttyname(slave)

    def _on_pty_data(self, fd: int, session: Session, state: dict[str, bytes]) -> None:
        try:
            data = os.read(fd, 4096)
        except BlockingIOError:
            return
        except OSError:  # the slave side went away (EIO)
            return
        state["buf"] += data
        for reply in self._process(state, session):
            self._spawn(self._pty_send(fd, reply))

    async def _pty_send(self, fd: int, reply: bytes) -> None:
        reply = await self._faulted(reply)
        if reply:
            with contextlib.suppress(OSError):
                os.write(fd, reply)

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _process(self, state: dict[str, bytes], session: Session) -> list[bytes]:
        replies: list[bytes] = []
        while True:
            request, state["buf"] = self.family.split(state["buf"])
            if request is None:
                return replies
            self.requests += 1
            if self.fault == "busy" and not self.family.is_handshake(request, session):
                replies.append(self.family.busy(request))
                continue
            reply = self.family.answer(request, session)
            if reply:
                replies.append(reply)

    async def _faulted(self, reply: bytes) -> bytes:
        fault = self.fault
        if fault == "no_reply":
            return b""
        if fault == "garbage":
            return GARBAGE
        if fault == "bad_checksum":
            return self.family.corrupt(reply)
        if fault == "slow":
            await asyncio.sleep(SLOW_S)
        return reply

    async def _serve_client(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        session = Session(password=self.password, authenticated=not self.password)
        state = {"buf": b""}
        task = asyncio.current_task()
        if task is not None:
            self._clients[task] = writer
        try:
            if greeting := self.family.greeting(session):
                writer.write(greeting)
            while data := await reader.read(4096):
                state["buf"] += data
                for reply in self._process(state, session):
                    if not await self._send(writer, reply) or session.close_after_reply:
                        return
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()
            self._clients.pop(task, None)  # type: ignore[arg-type]

    async def _send(self, writer: asyncio.StreamWriter, reply: bytes) -> bool:
        if self.fault == "disconnect":
            writer.write(reply[: max(1, len(reply) // 2)])
            await writer.drain()
            return False
        reply = await self._faulted(reply)
        if reply:
            writer.write(reply)
            await writer.drain()
        return True

    async def stop(self) -> None:
        """Close the server and the pty."""
        if self._server is not None:
            self._server.close()
            # Close open connections so their handlers end (3.11 does not do it for us).
            clients = list(self._clients.items())
            for _, writer in clients:
                writer.close()
            if clients:
                await asyncio.wait([t for t, _ in clients], timeout=2.0)
            await self._server.wait_closed()
        for task in list(self._tasks):
            task.cancel()
        if self._pty is not None:
            master, slave = self._pty
            asyncio.get_running_loop().remove_reader(master)
            for fd in (master, slave):
                with contextlib.suppress(OSError):
                    os.close(fd)
            self._pty = None


async def _run(args: Any) -> None:
    emulator = ProfileEmulator(
        args.profile, password=args.password or "", fault=getattr(args, "fault", None) or "none"
    )
    if getattr(args, "pty", False):
        print(f"{args.profile} emulator on pty {await emulator.start_pty()}", flush=True)
    else:
        port = await emulator.start_tcp(int(getattr(args, "tcp", None) or 0))
        print(f"{args.profile} emulator on 127.0.0.1:{port}", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await emulator.stop()


def serve(args: Any) -> int:
    """``roomctl emulate --profile ID``: run until interrupted."""
    if args.profile not in families():
        known = ", ".join(families())
        print(f"no emulator for {args.profile!r}; available: {known}", file=sys.stderr)
        return 2
    if getattr(args, "fault", None) and args.fault not in FAULTS:
        print(f"unknown fault {args.fault!r}; available: {', '.join(FAULTS)}", file=sys.stderr)
        return 2
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_run(args))
    return 0
