"""The demo's fleet: a loopback mosquitto, the central dashboard and simulated rooms.

Started by ``roomctl demo`` when Debian's mosquitto is installed, so one command shows the
room and the dashboard that watches it (plus a town of simulated rooms).
"""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import shutil
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from roomctl.central.simulator import device_ids

DEMO_DEVICE_ID = "rc-00000a101"
SCHOOLS = (
    ("Pori", "Porin lyseon lukio"),
    ("Pori", "Porin suomalainen yhteislukio"),
    ("Rauma", "Rauman lyseon lukio"),
)


def _free_port(preferred: int = 0) -> int:
    """``preferred`` when it is free on loopback, else any free port."""
    for port in (preferred, 0) if preferred else (0,):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return int(s.getsockname()[1])
    raise RuntimeError("no free port")


def mosquitto_binary() -> str | None:
    """Debian's mosquitto, if installed."""
    return shutil.which("mosquitto") or next(
        (p for p in ("/usr/sbin/mosquitto",) if Path(p).exists()), None
    )


async def _broker(state: Path, port: int) -> asyncio.subprocess.Process:
    folder = state / "mosquitto"
    folder.mkdir(parents=True, exist_ok=True)
    conf = folder / "mosquitto.conf"
    conf.write_text(
        # run as ourselves: as root, mosquitto would drop to a user that cannot write here
        f"user {getpass.getuser()}\nlistener {port} 127.0.0.1\nallow_anonymous true\n"
        f"persistence false\nlog_dest file {folder}/mosquitto.log\n"
    )
    binary = mosquitto_binary()
    assert binary is not None
    proc = await asyncio.create_subprocess_exec(binary, "-c", str(conf))
    for _ in range(100):
        with contextlib.suppress(OSError):
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            return proc
        await asyncio.sleep(0.05)
    proc.kill()
    raise RuntimeError("mosquitto did not start")


def dashboard_config(
    state: Path, broker_port: int, web_port: int, password_hash: str, rooms: int
) -> Any:
    """The dashboard's config: the demo room and the simulated rooms placed in three schools."""
    from roomctl.central.config import CentralConfig
    from roomctl.config.schema import parse

    placed = [
        {"device_id": d, "town": SCHOOLS[i % 3][0], "school": SCHOOLS[i % 3][1],
         "room": f"{'ABC'[i % 3]}{101 + i // 3}"}
        for i, d in enumerate(device_ids(rooms))
    ]  # fmt: skip
    placed.append(
        {"device_id": DEMO_DEVICE_ID, "town": "Pori", "school": SCHOOLS[0][1], "room": "A101 Demo"}
    )
    return parse(CentralConfig, {
        "broker": {"url": f"mqtt://127.0.0.1:{broker_port}", "client_id": "roomctl-demo-central"},
        "store": {"url": f"sqlite:///{state / 'central.db'}"},
        "web": {"host": "127.0.0.1", "port": web_port},
        "users": [{"name": "admin", "role": "admin", "password_hash": password_hash}],
        "rooms": placed,
    }, file="(demo dashboard)")  # fmt: skip


@contextlib.asynccontextmanager
async def fleet(state: Path, password_hash: str, rooms: int = 12) -> AsyncIterator[dict[str, Any]]:
    """Run broker, dashboard and simulator; yields their addresses."""
    from roomctl.central.service import CentralService
    from roomctl.central.simulator import Simulator
    from roomctl.central.web import run_web

    broker_port, web_port = _free_port(), _free_port(8090)
    broker = await _broker(state, broker_port)
    config = dashboard_config(state, broker_port, web_port, password_hash, rooms)
    service = CentralService(config)
    sim = Simulator(f"mqtt://127.0.0.1:{broker_port}", rooms, speed=60.0)
    try:
        await service.start()
        await sim.start()
        async with run_web(service):
            yield {
                "broker": f"mqtt://127.0.0.1:{broker_port}",
                "dashboard": f"http://127.0.0.1:{web_port}/",
            }
    finally:
        with contextlib.suppress(Exception):
            await sim.stop()
        await service.stop()
        with contextlib.suppress(ProcessLookupError):
            broker.terminate()
        await broker.wait()
