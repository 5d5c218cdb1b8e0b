"""``make demo``: a demo room on loopback with an emulated PJLink projector."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from pathlib import Path
from typing import Any

from roomctl.app import run
from roomctl.config.loader import parse_config
from roomctl.passwords import hash_password

DEMO_LINKS = [
    {"title": "ViLLE", "url": "https://ville.utu.fi/"},
    {"title": "AOE.fi", "url": "https://aoe.fi/"},
    {"title": "Wilma", "url": "https://wilma.example.fi/"},
    {"title": "Moodle", "url": "https://moodle.example.fi/"},
]


def demo_config(
    port: int, state: Path, pin: str, password_hash: str, pjlink_port: int
) -> dict[str, Any]:
    """The demo's config mapping: loopback only."""
    return {
        "room": {"id": "A101", "name": "A101 Demo", "site": "Demolukio", "language": "fi"},
        "web": {"bind": ["127.0.0.1"], "port": port},
        "pairing": {"period_s": 60},
        "roles": {
            "teacher_pin_hash": hash_password(pin),
            "caretaker_password_hash": password_hash,
        },
        "links": DEMO_LINKS,
        "devices": [
            {
                "id": "projector",
                "type": "pjlink",
                "name": "Projector",
                "host": "127.0.0.1",
                "port": pjlink_port,
                "password": "demo",
                "role": "main_display",
                "input": "HDMI 1",
            }
        ],
        "mdns": {"enabled": True, "interfaces": ["127.0.0.1"], "hostname": "a101-demo"},
        "state_dir": str(state.resolve()),
    }


def _banner(port: int, pin: str, password: str, fleet: dict[str, Any] | None) -> str:
    base = f"http://127.0.0.1:{port}"
    lines = [
        "\nroomctl demo is running (loopback only). Open:",
        f"  display    {base}/display   (the room display, shows the QR and the code)",
        f"  join       {base}/           (a student or teacher laptop)",
        f"  control    {base}/control    (teacher; PIN {pin})",
        f"  status     {base}/status     (caretaker; password {password})",
    ]
    if fleet:
        lines.append(f"  dashboard  {fleet['dashboard']}  (user admin, password {password})")
        lines.append(f"             fed over {fleet['broker']} by this room and simulated rooms")
    lines.append("Stop with Ctrl-C.\n")
    return "\n".join(lines)


async def _main(port: int, state: Path, with_fleet: bool) -> None:
    from roomctl.demo_fleet import DEMO_DEVICE_ID, fleet, mosquitto_binary
    from roomctl.emulators.pjlink import Emulator, ProjectorModel

    pin = f"{secrets.randbelow(10**4):04d}"
    password = secrets.token_urlsafe(6)
    password_hash = hash_password(password)
    emulator = Emulator(ProjectorModel(password="demo", warmup_s=20.0, cooldown_s=10.0))
    await emulator.start()
    async with contextlib.AsyncExitStack() as stack:
        addresses = None
        if with_fleet and mosquitto_binary():
            addresses = await stack.enter_async_context(fleet(state, password_hash))
        mapping = demo_config(port, state, pin, password_hash, emulator.port)
        if addresses:
            mapping["mqtt"] = {"url": addresses["broker"], "device_id": DEMO_DEVICE_ID}
        cfg = parse_config(mapping, file="(demo)")
        try:
            await run(
                cfg,
                on_ready=lambda _app: print(_banner(port, pin, password, addresses), flush=True),
            )
        finally:
            await emulator.stop()


def run_demo(port: int = 8080, state: Path = Path("demo-state"), fleet: bool = True) -> int:
    """Run until Ctrl-C."""
    state.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_main(port, state, fleet))
    return 0
