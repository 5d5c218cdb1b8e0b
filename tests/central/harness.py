"""Run the dashboard (service + web) and a simulator in a background event loop thread.

Sync Playwright cannot run inside an asyncio loop, so browser tests drive a dashboard that
lives in its own thread; ``call`` runs a coroutine there and returns its result.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

from roomctl.central.auth import hash_password
from roomctl.central.config import CentralConfig, UserConfig
from roomctl.central.service import CentralService
from roomctl.central.simulator import Simulator
from roomctl.central.web import run_web
from tests.support.real import async_wait_for

T = TypeVar("T")
PASSWORDS = {"vera": "viewer-pass", "kaisa": "caretaker-pass", "ivo": "admin-pass"}
USERS = (UserConfig("vera", "viewer", hash_password("viewer-pass", n=2**10)),
         UserConfig("kaisa", "caretaker", hash_password("caretaker-pass", n=2**10)),
         UserConfig("ivo", "admin", hash_password("admin-pass", n=2**10)))


class Dashboard:
    """A dashboard and simulator in one background loop."""

    def __init__(self, config: CentralConfig, rooms: int = 0, speed: float = 1.0,
                 prefix: str = "rc-sim") -> None:
        self.config = config
        self.rooms = rooms
        self.speed = speed
        self.prefix = prefix
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.service: CentralService | None = None
        self.sim: Simulator | None = None
        self.port = 0
        self._web: contextlib.AbstractAsyncContextManager[int] | None = None

    def call(self, coro: Coroutine[Any, Any, T], timeout: float = 30) -> T:
        """Run a coroutine in the dashboard's loop."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def do(self, fn: Callable[[], T]) -> T:
        """Run a plain function in the dashboard's loop."""
        async def wrapper() -> T:
            return fn()
        return self.call(wrapper())

    async def _start(self) -> None:
        self.service = CentralService(self.config)
        await self.service.start()
        await async_wait_for(self.service.connected.is_set, 10, "dashboard connected")
        self._web = run_web(self.service, port=0)
        self.port = await self._web.__aenter__()
        if self.rooms:
            self.sim = Simulator(self.config.broker.url, self.rooms, speed=self.speed,
                                 outages=False, prefix=self.prefix)
            await self.sim.start()

    async def _stop(self) -> None:
        if self.sim:
            await self.sim.stop(decommission=True)
        if self._web:
            await self._web.__aexit__(None, None, None)
        if self.service:
            await self.service.stop()

    def __enter__(self) -> Dashboard:
        self.thread.start()
        self.call(self._start())
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self.call(self._stop())
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(10)

    @property
    def url(self) -> str:
        """The dashboard's base URL."""
        return f"http://127.0.0.1:{self.port}"


async def wait_async(predicate: Callable[[], object | Awaitable[object]], timeout: float = 10
                     ) -> object:
    """async_wait_for with a shorter name."""
    return await async_wait_for(predicate, timeout)
