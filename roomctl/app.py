"""Builds the appliance from the config, starts its services in order, stops them in reverse.

Services other than the room core and the web server are optional: one that fails to start
becomes a warning on the caretaker page and the rest keeps running.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import signal
import ssl
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from roomctl.config.model import Config
from roomctl.core.bus import EventBus
from roomctl.core.service import Service
from roomctl.core.warnings import WarningsRegistry
from roomctl.http.app import make_app
from roomctl.room import Room
from roomctl.statedir import StateDir

logger = logging.getLogger(__name__)

# (module, class, needs-state-dir): optional services, built with (config, room[, state_dir]).
OPTIONAL_SERVICES = (
    ("roomctl.devices", "DeviceManager", False),
    ("roomctl.automations", "Automations", False),
    ("roomctl.environment", "EnvironmentMonitor", False),
    ("roomctl.telemetry.service", "TelemetryService", True),
    ("roomctl.discovery.advertiser", "Advertiser", False),
    ("roomctl.airplay", "AirplaySupervisor", False),
    ("roomctl.casting", "Casting", False),
    ("roomctl.kiosk", "KioskWatchdog", False),
)


@dataclass
class Appliance:
    """The running appliance: room core, web server and supervised services."""

    config: Config
    config_path: str = ""
    bus: EventBus = field(default_factory=EventBus)
    warnings: WarningsRegistry = field(default_factory=WarningsRegistry)
    room: Room | None = None
    services: list[Service] = field(default_factory=list)
    runner: web.AppRunner | None = None
    urls: list[str] = field(default_factory=list)
    extensions: list[Any] = field(default_factory=list)

    async def start(self) -> None:
        """Start everything; raises ConfigError for a broken core section."""
        state = StateDir(self.config.state_dir)
        state.ensure()
        self.room = Room(self.config, self.bus, self.warnings, secret=state.room_secret())
        self.room.state.extra["state_dir"] = str(state.path)
        await self.room.start()
        self.services.append(self.room)
        for module, cls, with_state in OPTIONAL_SERVICES:
            await self._start_optional(module, cls, state.path if with_state else None)
        app = make_app(self.room, extra=[t for e in self.extensions for t in e.route_tables()])
        for ext in self.extensions:
            ext.attach(app)
        await self._serve(app)

    async def _start_optional(self, module: str, cls: str, state_path: Path | None) -> None:
        assert self.room is not None
        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError as err:
            if err.name == module:
                return
            self.warnings.add(module, "service.import_failed", f"{module}: {err}")
            return
        try:
            factory = getattr(mod, cls)
            args: tuple[Any, ...] = (self.config, self.room)
            service = factory(*args, state_path) if state_path else factory(*args)
            await service.start()
        except Exception as err:
            logger.exception("%s failed to start", cls)
            self.warnings.add(module, "service.start_failed", f"{cls} failed to start: {err}")
            return
        self.services.append(service)
        if hasattr(service, "route_tables"):
            self.extensions.append(service)

    async def _serve(self, app: web.Application) -> None:
        web_cfg = self.config.web
        self.runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self.runner.setup()
        tls = _tls_context(web_cfg.tls_cert, web_cfg.tls_key) if web_cfg.tls_cert else None
        for host in web_cfg.bind:
            await web.TCPSite(self.runner, host, web_cfg.port).start()
            self.urls.append(f"http://{_host(host)}:{web_cfg.port}")
            if tls is not None:
                await web.TCPSite(self.runner, host, web_cfg.tls_port, ssl_context=tls).start()
                self.urls.append(f"https://{_host(host)}:{web_cfg.tls_port}")
        logger.info("serving on %s", ", ".join(self.urls))

    async def stop(self) -> None:
        """Stop the web server, then the services in reverse order."""
        if self.runner is not None:
            await self.runner.cleanup()
            self.runner = None
        for service in reversed(self.services):
            try:
                await service.stop()
            except Exception:
                logger.exception("%s failed to stop", type(service).__name__)
        self.services.clear()


def _host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _tls_context(cert: str, key: str) -> ssl.SSLContext:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(cert, key)
    return ctx


async def run(config: Config, *, config_path: str = "", on_ready: Any = None) -> None:
    """Run the appliance until SIGTERM or SIGINT, telling systemd how it goes."""
    from roomctl.core.sdnotify import SdNotifier, Watchdog

    appliance = Appliance(config, config_path)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    notifier = SdNotifier()
    watchdog = Watchdog(notifier)
    try:
        await appliance.start()
        await watchdog.start()
        notifier.ready(f"serving room {config.room.id}")
        if on_ready is not None:
            on_ready(appliance)
        await stop.wait()
    finally:
        notifier.stopping("stopping")
        await watchdog.stop()
        await appliance.stop()
        notifier.close()
