"""``make demo`` (``roomctl demo``) as a user meets it: a real process on loopback.

The banner's URLs answer, the teacher's PIN from the banner gives presenter rights, the
emulated projector warms up when the teacher presses Power, the dashboard (when mosquitto is
there) shows the demo room, and Ctrl-C ends it cleanly.
"""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.support.real import async_wait_for, free_port, require_binary, wait_for


class Demo:
    """``roomctl demo`` in a subprocess, its output collected in a file."""

    def __init__(self, tmp: Path, *args: str) -> None:
        self.port = free_port()
        self.out = tmp / "demo.out"
        cmd = [sys.executable, "-m", "roomctl", "demo", "--port", str(self.port),
               "--state", str(tmp / "state"), *args]  # fmt: skip
        self.proc = subprocess.Popen(cmd, stdout=self.out.open("wb"), stderr=subprocess.STDOUT)
        self.base = f"http://127.0.0.1:{self.port}"

    def text(self) -> str:
        return self.out.read_text(errors="replace")

    def banner(self) -> str:
        def ready() -> bool:
            if self.proc.poll() is not None:
                raise AssertionError(f"demo exited: {self.text()[-3000:]}")
            return "Stop with Ctrl-C." in self.text()

        wait_for(ready, 60, "the demo's banner")
        return self.text()

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[Demo]:
    d = Demo(tmp_path, "--no-fleet")
    yield d
    d.stop()


async def test_the_banner_pin_and_projector_work(demo: Demo) -> None:
    banner = demo.banner()
    for page in ("/display", "/", "/control", "/status"):
        assert f"{demo.base}{page} " in banner
    pin = re.search(r"PIN (\d+)\)", banner)
    assert pin, banner
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as s:
        async with s.get(f"{demo.base}/display") as r:
            assert r.status == 200 and "A101 Demo" in await r.text()
        async with s.get(f"{demo.base}/api/v1/pairing") as r:  # loopback is the display
            code = (await r.json())["code"]
        async with s.post(f"{demo.base}/api/v1/join", json={"code": code, "name": "Ope"}) as r:
            assert r.status == 200, await r.text()
        async with s.post(f"{demo.base}/api/v1/presenter", json={"pin": pin.group(1)}) as r:
            assert r.status == 200, await r.text()

        async def projector() -> dict[str, Any]:
            async with s.get(f"{demo.base}/api/v1/room") as r:
                body = await r.json()
            return dict(body["devices"]["projector"])

        await async_wait_for(lambda: _available(projector), 15, "the emulated projector")
        command = {"name": "power", "args": {"on": True}}
        async with s.post(f"{demo.base}/api/v1/devices/projector/commands", json=command) as r:
            assert r.status in (200, 202), await r.text()

        async def warming() -> bool:
            return (await projector())["state"]["power"] == "warming"

        await async_wait_for(warming, 10, "the projector to warm up")
    assert demo.stop() == 0


async def _available(projector: Any) -> bool:
    return bool((await projector())["available"])


def test_a_busy_port_is_a_clear_error_with_a_way_out(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        out = subprocess.run(
            [sys.executable, "-m", "roomctl", "demo", "--no-fleet", "--port", str(port),
             "--state", str(tmp_path / "state")],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
    assert out.returncode == 1
    assert f"web.port: cannot listen on 127.0.0.1:{port}" in out.stderr
    assert f"roomctl demo --port {port + 1}" in out.stderr
    assert "Traceback" not in out.stderr


async def test_with_mosquitto_the_dashboard_shows_the_demo_room(tmp_path: Path) -> None:
    require_binary("mosquitto")
    demo = Demo(tmp_path)
    try:
        banner = demo.banner()
        found = re.search(
            r"dashboard  (http://127\.0\.0\.1:\d+/)  \(user admin, password (\S+)\)", banner
        )
        assert found, banner
        url, password = found.groups()
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as s:
            login = {"user": "admin", "password": password}
            async with s.post(f"{url}login", data=login) as r:
                assert r.status == 200, await r.text()

            async def demo_room_listed() -> bool:
                async with s.get(url) as r:
                    return "A101 Demo" in await r.text()

            await async_wait_for(demo_room_listed, 30, "the demo room on the dashboard")
    finally:
        assert demo.stop() == 0
