"""A stop is prompt with pages open: the kiosk's WebSocket is always there.

roomctl.service gives a stop 20 s (TimeoutStopSec) before systemd kills the process; before
the sockets were closed on shutdown, an open page held the stop up for about 24 s.
"""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import aiohttp
from aiohttp import WSCloseCode, WSMsgType

from tests.support.appliance import DISPLAY_KEY, start_appliance
from tests.support.real import async_wait_for


async def test_sigterm_with_open_sockets_closes_them_and_exits(tmp_path: Path) -> None:
    app = start_appliance(tmp_path, web={"display_hosts": []})
    assert app.proc is not None
    try:
        async with aiohttp.ClientSession() as s:
            display = {"X-Roomctl-Display-Key": DISPLAY_KEY}
            url = f"{app.url}/api/v1/ws"
            sockets = [await s.ws_connect(url, headers=display) for _ in range(3)]
            for ws in sockets:
                assert (await ws.receive(timeout=5)).type == WSMsgType.TEXT  # the first snapshot
            app.proc.send_signal(signal.SIGTERM)
            closes = await asyncio.gather(*(ws.receive(timeout=5) for ws in sockets))
            assert {m.type for m in closes} == {WSMsgType.CLOSE}
            assert {m.data for m in closes} == {WSCloseCode.GOING_AWAY}
            await async_wait_for(
                lambda: app.proc is not None and app.proc.poll() is not None,
                5,
                "the appliance to exit",
            )
        assert app.proc.returncode == 0, app.log_path.read_text()[-2000:]
    finally:
        app.stop()
