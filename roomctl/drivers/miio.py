"""Xiaomi miIO devices through python-miio: plugs, power strips, air monitors, a Yeelight.

python-miio is blocking and is imported lazily, so a missing or broken install disables only
these devices. Every call runs on a one-thread executor per device (python-miio's protocol
object keeps a message counter and is not thread-safe) inside ``asyncio.timeout``. A device
that answers the hello but ignores our commands has a different token from ours: real devices
drop packets whose checksum does not match, so that is reported as AuthenticationFailed.
"""

from __future__ import annotations

import asyncio
import dataclasses
import importlib
import logging
import math
import re
import socket
import warnings
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from types import ModuleType
from typing import Any, TypeVar

from roomctl.config.schema import parse
from roomctl.core.errors import (
    AuthenticationFailed,
    CommandRejected,
    ConfigError,
    ConfigIssue,
    DeviceError,
    ProtocolError,
    Unavailable,
)
from roomctl.drivers.base import Capabilities, Capability, DeviceState, Driver, Power

logger = logging.getLogger(__name__)

T = TypeVar("T")
PORT = 54321
HELLO = bytes.fromhex("21310020" + "ff" * 28)
TOKEN = re.compile(r"^[0-9a-fA-F]{32}$")
ROLES = ("plug", "sensor", "lamp", "display", "speaker", "camera", "other")
DEADLINE_SLACK_S = 1.0
_lib: ModuleType | None = None


@dataclass(frozen=True)
class MiioConfig:
    """A ``[[devices]]`` entry with ``type = "miio"``."""

    host: str
    token: str = dataclasses.field(default="", repr=False, metadata={"secret": True})
    model: str = ""  # detected with miIO.info when empty
    role: str = "plug"
    type: str = "miio"
    id: str = ""
    name: str = ""
    poll_s: float = 30.0
    timeout_s: float = 2.0  # one request; python-miio retries ``retries`` more times
    retries: int = 1

    def validate(self) -> list[tuple[str, str]]:
        """Cross-field checks."""
        problems = []
        if not self.host:
            problems.append(("host", "must not be empty"))
        if not TOKEN.match(self.token):
            problems.append(
                ("token", "must be 32 hex digits (see 'Obtaining tokens' in python-miio)")
            )
        if self.model and family_of(self.model) is None:
            problems.append(("model", f"unsupported model; supported: {', '.join(PATTERNS)}"))
        if self.role not in ROLES:
            problems.append(("role", f"must be one of {', '.join(ROLES)}"))
        if not 0 < self.timeout_s <= 30 or not 0 <= self.retries <= 5:
            problems.append(("timeout_s", "timeout_s must be in (0, 30] and retries in 0..5"))
        return problems


# -- model families, declared as a table ------------------------------------------------------


def _number(value: Any) -> float:
    """A finite reading; ProtocolError for anything else a device might send."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ProtocolError(f"reading is not a number: {value!r}")
    return float(value)


def _readings(pairs: Mapping[str, Any]) -> dict[str, float]:
    return {k: _number(v) for k, v in pairs.items() if v is not None}


def _power(on: Any) -> Power:
    if not isinstance(on, bool):
        raise ProtocolError(f"power state is not on/off: {on!r}")
    return Power.ON if on else Power.OFF


def read_switch(status: Any) -> DeviceState:
    """A plug or power strip: on/off and the power draw where reported."""
    return DeviceState(
        power=_power(status.is_on), readings=_readings({"power_w": status.load_power})
    )


def read_air(status: Any) -> DeviceState:
    """An air-quality monitor: CO2 (or the B1's CO2 equivalent), PM2.5, TVOC, climate."""
    co2 = status.co2 if status.co2 is not None else status.co2e
    values = {
        "co2_ppm": co2,
        "pm25_ug_m3": status.pm25,
        "tvoc": status.tvoc,
        "temperature_c": status.temperature,
        "humidity_pct": status.humidity,
        "battery_pct": status.battery,
    }
    return DeviceState(power=Power.ON, readings=_readings(values))


def read_light(status: Any) -> DeviceState:
    """A Yeelight: on/off and brightness 1..100."""
    level = int(_number(float(status.brightness)))
    return DeviceState(power=_power(status.is_on), brightness=level)


@dataclass(frozen=True)
class Family:
    """A group of models served by one python-miio class."""

    device_class: str  # "module:Class" inside the miio package
    features: frozenset[Capability]
    read: Callable[[Any], DeviceState]


SWITCH = frozenset({Capability.POWER, Capability.POWER_DRAW, Capability.INFO})
FAMILIES: dict[str, Family] = {
    "chuangmi.plug.": Family("miio:ChuangmiPlug", SWITCH, read_switch),
    "zimi.powerstrip.": Family("miio:PowerStrip", SWITCH, read_switch),
    "qmi.powerstrip.": Family("miio:PowerStrip", SWITCH, read_switch),
    "cgllc.airmonitor.": Family(
        "miio:AirQualityMonitor", frozenset({Capability.READINGS, Capability.INFO}), read_air
    ),
    "yeelink.light.": Family(
        "miio:Yeelight",
        frozenset({Capability.POWER, Capability.BRIGHTNESS, Capability.INFO}),
        read_light,
    ),
}
PATTERNS = tuple(f"{prefix}*" for prefix in FAMILIES)
ROLE_FEATURES = {
    "sensor": FAMILIES["cgllc.airmonitor."].features,
    "lamp": FAMILIES["yeelink.light."].features,
}


def family_of(model: str) -> Family | None:
    """The family serving ``model``, or None when unsupported."""
    return next((f for p, f in FAMILIES.items() if model.startswith(p)), None)


def load_library() -> ModuleType:
    """Import python-miio once; ImportError (or whatever a broken install raises) escapes."""
    global _lib
    if _lib is None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # click 8.2 vs python-miio 0.5
            lib = importlib.import_module("miio")
            importlib.import_module("miio.exceptions")
        # python-miio logs every failed attempt at error and tokens at debug; the coordinator
        # logs one line per failure streak instead.
        logging.getLogger("miio").setLevel(logging.CRITICAL)
        _lib = lib
    return _lib


# -- the driver --------------------------------------------------------------------------------


class MiioDriver(Driver):
    """One miIO device through its python-miio class."""

    def __init__(self, config: MiioConfig, lib: ModuleType) -> None:
        self.config = config
        self._lib = lib
        self._family = family_of(config.model) if config.model else None
        self._model = config.model
        self._device: Any = None
        self._pool: ThreadPoolExecutor | None = None
        features = self._family.features if self._family else ROLE_FEATURES.get(config.role, SWITCH)
        self.capabilities = Capabilities(features=features)
        retries = config.retries + 2  # python-miio's attempts plus our hello probe
        self.deadline_s = config.timeout_s * retries + DEADLINE_SLACK_S

    async def connect(self) -> None:
        """Detect the model if needed and check that the device answers with our token."""
        if self._pool is None:
            self._pool = ThreadPoolExecutor(1, thread_name_prefix=f"miio-{self.config.host}")
        await self._call(self._open)

    async def close(self) -> None:
        """Drop the device; a call still blocked in python-miio ends with its own timeout."""
        pool, self._pool, self._device = self._pool, None, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)

    async def poll(self) -> DeviceState:
        """Read the status through the model's python-miio class."""
        state = await self._call(lambda: self._read(self._connected().status()))
        return dataclasses.replace(state, model=self._model or None, name=self.config.name or None)

    async def command(self, name: str, **args: Any) -> None:
        """``power`` (on: bool) and, on lamps, ``brightness`` (level: 1..100)."""
        action = self._action(name, args)
        await self._call(lambda: action(self._connected()))

    def _action(self, name: str, args: Mapping[str, Any]) -> Callable[[Any], Any]:
        on, level = args.get("on"), args.get("level")
        if name == "power" and self.capabilities.has(Capability.POWER) and isinstance(on, bool):
            return lambda dev: dev.on() if on else dev.off()
        if name == "brightness" and self.capabilities.has(Capability.BRIGHTNESS):
            if isinstance(level, int) and not isinstance(level, bool) and 1 <= level <= 100:
                return lambda dev: dev.set_brightness(level)
            raise CommandRejected("brightness level must be an integer 1..100")
        raise CommandRejected(f"{self._model or 'this device'} does not support {name}({args})")

    # -- in the executor thread ------------------------------------------------------------

    def _connected(self) -> Any:
        if self._device is None:
            raise Unavailable("not connected")
        return self._device

    def _open(self) -> None:
        if not self._model:
            self._model = str(self._make("miio:Device", None).info().model or "")
        family = family_of(self._model)
        if family is None:
            raise ProtocolError(f"model {self._model!r} is not supported; supported: {PATTERNS}")
        device = self._make(family.device_class, self._model)
        device.info()  # proves the token before the first poll
        self._family, self._device = family, device
        self.capabilities = Capabilities(features=family.features)

    def _make(self, path: str, model: str | None) -> Any:
        """An instance of a python-miio class with our timeout and retry count."""
        module, _, name = path.partition(":")
        base = getattr(importlib.import_module(module), name)
        attrs = {"timeout": self.config.timeout_s, "retry_count": self.config.retries}
        cls = type(name, (base,), {**attrs, "__module__": __name__})
        return cls(self.config.host, self.config.token, model=model)

    def _read(self, status: Any) -> DeviceState:
        assert self._family is not None
        try:
            return self._family.read(status)
        except DeviceError:
            raise
        except Exception as err:  # a garbled status fails in python-miio's property getters
            raise ProtocolError(f"unexpected status: {type(err).__name__}") from None

    def _guarded(self, fn: Callable[[], T]) -> T:
        try:
            return fn()
        except DeviceError:
            raise
        except Exception as err:
            raise self._translate(err) from None

    def _translate(self, err: Exception) -> DeviceError:
        """python-miio's exceptions as the project's."""
        exc = self._lib.exceptions
        host = self.config.host
        if isinstance(err, exc.DeviceError):  # an error reply: {"code": ..., "message": ...}
            return CommandRejected(f"{host} refused: {_error_text(err)}")
        if isinstance(err, exc.PayloadDecodeException):
            return ProtocolError(f"{host} sent an undecodable reply")
        if isinstance(err, exc.DeviceException):
            if type(err.__cause__).__name__ == "ChecksumError" or (
                isinstance(err.__cause__, OSError) and hello_answered(host, self.config.timeout_s)
            ):
                return AuthenticationFailed(
                    f"{host} answers the handshake but not our commands: check the token"
                )
            return Unavailable(f"{host} does not answer")
        if isinstance(err, OSError):
            return Unavailable(f"{host}: {err.strerror or type(err).__name__}")
        return ProtocolError(f"{host} sent a malformed reply ({type(err).__name__})")

    async def _call(self, fn: Callable[[], T]) -> T:
        if self._pool is None:
            raise Unavailable("not connected")
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(self.deadline_s):
                return await loop.run_in_executor(self._pool, self._guarded, fn)
        except TimeoutError:
            raise Unavailable(
                f"{self.config.host} did not answer in {self.deadline_s:.1f} s"
            ) from None


def _error_text(err: Exception) -> str:
    detail = err.args[0] if err.args else ""
    if isinstance(detail, Mapping):
        return f"{detail.get('message', '')} ({detail.get('code', '?')})"
    return str(detail) or type(err).__name__


def hello_answered(host: str, timeout_s: float) -> bool:
    """Whether ``host`` answers a miIO hello (it is up, whatever our token)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(timeout_s)
        try:
            sock.sendto(HELLO, (host, PORT))
            data = sock.recv(1024)
        except OSError:
            return False
    return len(data) == 32 and data[:2] == HELLO[:2]


def create(config_mapping: Mapping[str, Any], context: Any = None) -> MiioDriver:
    """Build a driver from a ``[[devices]]`` table; ConfigError names the key and problem."""
    path = str(getattr(context, "path", "") or "")
    file = str(getattr(context, "file", "") or "")
    config = parse(MiioConfig, config_mapping, path=path, file=file)
    try:
        lib = load_library()
    except Exception as err:  # a broken install may raise anything at import time
        key = f"{path}.type" if path else "type"
        message = f"python-miio is not usable ({type(err).__name__}: {err}); device disabled"
        raise ConfigError([ConfigIssue(key, message, file)]) from None
    return MiioDriver(config, lib)
