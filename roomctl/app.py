"""Builds the appliance from the config, starts its services in order, stops them in reverse.

Services other than the room core and the web server are optional: one that fails to start
becomes a warning on the caretaker page and the rest keeps running.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from roomctl.config.model import Config
from roomctl.core.bus import EventBus
from roomctl.core.errors import ConfigError, ConfigIssue
from roomctl.core.service import Service
from roomctl.core.warnings import WarningsRegistry
from roomctl.http.app import make_app
from roomctl.room import Room
from roomctl.statedir import StateDir
from roomctl.telemetry.ids import load_or_create_device_id

logger = logging.getLogger(__name__)

Builder = Callable[["Appliance", Room], Service]


def _devices(app: Appliance, room: Room) -> Service:
    from roomctl.devices import DeviceManager

    return DeviceManager(app.config, room, file=app.config_path)


def _automations(app: Appliance, room: Room) -> Service:
    from roomctl.automations import Automations

    return Automations(app.config, room)


def _scenes(app: Appliance, room: Room) -> Service:
    from roomctl.scenes import Scenes

    scenes = Scenes(room)
    room.add_snapshot_part("scenes", scenes.names)
    return scenes


def _environment(app: Appliance, room: Room) -> Service:
    from roomctl.environment import Environment

    return Environment(room)


def _casting(app: Appliance, room: Room) -> Service:
    from roomctl.casting import Casting

    casting = Casting(app.config, room)
    if "lesson" in app.config.scenes:
        # the first share of a lesson also runs the "lesson" scene (lights, speakers, ...)
        def on_share(event: str, _share: object) -> None:
            if event == "live" and len(casting.live()) == 1:
                app.spawn(room.run_scene("lesson"), "lesson-scene")

        casting.listeners.append(on_share)
    return casting


def _telemetry(app: Appliance, room: Room) -> Service:
    from roomctl.telemetry.service import TelemetryService

    return TelemetryService(app.config, room, Path(app.config.state_dir))


def _advertiser(app: Appliance, room: Room) -> Service:
    from roomctl.discovery.advertiser import Advertiser

    return Advertiser(app.config, room)


def _airplay(app: Appliance, room: Room) -> Service:
    from roomctl.airplay import Airplay

    airplay = Airplay(app.config, room)
    room.hooks["airplay_enable"] = airplay.enable
    room.hooks["airplay_disable"] = airplay.disable
    return airplay


def _kiosk(app: Appliance, room: Room) -> Service:
    from roomctl.kiosk import KioskSettings, KioskWatchdog

    # only on a Pi that runs the kiosk unit; elsewhere nobody would restart anything
    return KioskWatchdog(room, KioskSettings(enabled=Path(KIOSK_UNIT).exists()))


KIOSK_UNIT = "/etc/systemd/system/roomctl-kiosk.service"

# Start order: devices first (casting and automations use them), adapters last.
SERVICES: tuple[tuple[str, Builder], ...] = (
    ("devices", _devices),
    ("scenes", _scenes),
    ("environment", _environment),
    ("casting", _casting),
    ("automations", _automations),
    ("telemetry", _telemetry),
    ("mdns", _advertiser),
    ("airplay", _airplay),
    ("kiosk", _kiosk),
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
    background: set[asyncio.Task[Any]] = field(default_factory=set)

    def spawn(self, coro: Any, name: str) -> None:
        """Run ``coro`` in the background, keeping a strong reference until it ends."""
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self.background.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self.background.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.warning("%s failed: %s", task.get_name(), task.exception())

    async def start(self) -> None:
        """Start everything; raises ConfigError for a broken core section."""
        state = StateDir(self.config.state_dir)
        state.ensure()
        self.room = Room(self.config, self.bus, self.warnings, secret=state.room_secret())
        self.room.restore(state)
        # one identity for MQTT, mDNS and the dashboard: <state>/device_id (see firstboot)
        try:
            self.room.state.extra["device_id"] = load_or_create_device_id(
                state.path / "telemetry", self.config.mqtt.device_id
            )
        except ConfigError as err:
            # The room still works; only telemetry needs the identity, and it must not change
            # silently (the dashboard would see a new, unplaced room), so a person fixes it.
            logger.error("%s; telemetry stays off until it is fixed", err)
            self.warnings.add("mqtt.device_id", "service.start_failed", f"{err}")
        await self.room.start()
        self.services.append(self.room)
        for name, builder in SERVICES:
            await self._start_service(name, builder)
        app = make_app(self.room, extra=[t for e in self.extensions for t in e.route_tables()])
        for ext in self.extensions:
            ext.attach(app)
        await self._serve(app)

    async def _start_service(self, name: str, builder: Builder) -> None:
        assert self.room is not None
        try:
            service = builder(self, self.room)
            await service.start()
        except Exception as err:
            if isinstance(err, ConfigError):  # a clear message already: no traceback
                logger.error("%s failed to start: %s", name, err)
            else:
                logger.exception("%s failed to start", name)
            self.warnings.add(
                f"service.{name}", "service.start_failed", f"{name} failed to start: {err}"
            )
            return
        self.services.append(service)
        if hasattr(service, "route_tables"):
            self.extensions.append(service)

    async def _serve(self, app: web.Application) -> None:
        web_cfg = self.config.web
        # A stop waits this long for requests still running (sockets close first, see http.app);
        # roomctl.service allows 20 s for the whole stop.
        self.runner = web.AppRunner(
            app, access_log=None, handle_signals=False, shutdown_timeout=SHUTDOWN_TIMEOUT_S
        )
        await self.runner.setup()
        tls = _tls_context(web_cfg.tls_cert, web_cfg.tls_key) if web_cfg.tls_cert else None
        for host in web_cfg.bind:
            await self._listen(host, web_cfg.port, None, "web.port")
            if tls is not None:
                await self._listen(host, web_cfg.tls_port, tls, "web.tls_port")
        logger.info("serving on %s", ", ".join(self.urls))

    async def _listen(self, host: str, port: int, tls: ssl.SSLContext | None, key: str) -> None:
        assert self.runner is not None
        try:
            await web.TCPSite(self.runner, host, port, ssl_context=tls).start()
        except OSError as err:
            issue = ConfigIssue(key, f"cannot listen on {_host(host)}:{port}: {err.strerror}")
            raise ConfigError([issue]) from None
        self.urls.append(f"{'https' if tls else 'http'}://{_host(host)}:{port}")

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


SHUTDOWN_TIMEOUT_S = 5.0


def _host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _tls_context(cert: str, key: str) -> ssl.SSLContext:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        ctx.load_cert_chain(cert, key)
    except FileNotFoundError:
        missing = next((p for p in (cert, key) if not Path(p).exists()), cert)
        key_name = "web.tls_key" if missing == key and missing != cert else "web.tls_cert"
        raise ConfigError([ConfigIssue(key_name, f"cannot read {missing}: no such file")]) from None
    except (ssl.SSLError, OSError) as err:
        raise ConfigError(
            [ConfigIssue("web.tls_cert", f"unusable certificate or key: {err}")]
        ) from None
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
