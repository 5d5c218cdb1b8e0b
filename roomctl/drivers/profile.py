"""The generic profile-driven driver: any serial or TCP device described by a firmware profile.

The profile (``firmware_profiles/<vendor>/<family>.toml``) says what to send and how to read
the reply; this driver owns the connection, the handshake, pacing between commands, retries
and the mapping of replies onto ``DeviceState``. One command is on the wire at a time.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from roomctl.config.schema import parse, secret
from roomctl.core.errors import CommandRejected, NotReady, ProfileError, ProtocolError, Unavailable
from roomctl.drivers.base import Capabilities, Capability, DeviceState, Driver, Power
from roomctl.profiles import codec, handshake, loader
from roomctl.profiles.schema import Profile
from roomctl.transports.base import Transport
from roomctl.transports.serial import SerialSettings, SerialTransport
from roomctl.transports.tcp import TcpTransport

logger = logging.getLogger(__name__)

# Capability -> the profile command that proves it.
FEATURES = {
    Capability.POWER: "power_on",
    Capability.INPUT: "input_select",
    Capability.BLANK: "blank_on",
    Capability.FREEZE: "freeze_on",
    Capability.MUTE: "mute_on",
    Capability.LAMP: "lamp_query",
    Capability.FILTER: "filter_query",
    Capability.ERRORS: "error_query",
    Capability.INFO: "model_query",
}
# Queries asked only while the device is on (most devices refuse them in standby).
WHEN_ON = ("input_query", "blank_query", "freeze_query", "mute_query", "volume_query")


@dataclass(frozen=True)
class ProfileDeviceConfig:
    """A ``[[devices]]`` entry whose ``type`` is a profile id such as ``epson/escvp21``."""

    type: str
    url: str = ""  # serial: /dev/ttyUSB0, rfc2217://host:port, socket://host:port
    host: str = ""  # TCP (or a raw serial-over-IP gateway)
    port: int = 0  # 0 = the profile's port
    password: str = secret("")
    id: str = ""
    role: str = "main_display"
    name: str = ""
    input: str = ""  # selected when the display is made ready
    model: str = ""  # picks the profile's per-model input map
    set_id: str = ""  # the address on a shared bus (Samsung/LG set ID, Optoma projector ID)
    baudrate: int = 0  # 0 = the profile's
    poll_s: float = 0.0  # 0 = the profile's
    timeout_s: float = 0.0  # 0 = the profile's reply timeout

    def validate(self) -> Iterator[tuple[str, str]]:
        """Exactly one way to reach the device."""
        if bool(self.url) == bool(self.host):
            yield "url", "set either url (serial port) or host (TCP), not both"
        if not 0 <= self.port < 65536:
            yield "port", "must be between 1 and 65535"


def create(table: Mapping[str, Any], context: Any) -> ProfileDriver:
    """Build the driver for one ``[[devices]]`` table; ConfigError/ProfileError on bad input."""
    path = str(getattr(context, "path", "devices"))
    file = str(getattr(context, "file", ""))
    config = parse(ProfileDeviceConfig, table, path=path, file=file)
    try:
        profile = loader.get(config.type)
    except ProfileError as err:
        raise ProfileError(str(err), file=file, key=f"{path}.type") from None
    if config.input and config.input.lower() not in {
        k.lower() for k in profile.inputs_for(config.model)
    }:
        known = ", ".join(profile.inputs_for(config.model)) or "none"
        raise ProfileError(f"no input {config.input!r} (known: {known})", key=f"{path}.input")
    return ProfileDriver(config, profile)


def make_transport(config: ProfileDeviceConfig, profile: Profile) -> Transport:
    """A serial transport for ``url``, else TCP to ``host:port``."""
    spec = profile.transport
    if config.url:
        settings = SerialSettings(
            config.baudrate or spec.baudrate, spec.bytesize, spec.parity, spec.stopbits,
            spec.flow_control,
        )  # fmt: skip
        return SerialTransport(config.url, settings)
    port = config.port or spec.port
    if not port:
        raise ProfileError(f"{profile.id} has no default TCP port; set port", key="port")
    return TcpTransport(config.host, port, connect_timeout=profile.timing.reply_timeout_s)


class ProfileDriver(Driver):
    """One device driven by a firmware profile over serial or TCP."""

    def __init__(
        self, config: ProfileDeviceConfig, profile: Profile, transport: Transport | None = None
    ) -> None:
        self.config = config
        self.profile = profile
        self.transport = transport or make_transport(config, profile)
        self.capabilities = capabilities_of(profile, config.model)
        self.pushed: dict[str, str] = {}  # last unsolicited value per meaning ("power")
        self._prefix = b""
        self._leftover = b""  # bytes read after the last reply, checked before the next request
        self._lock = asyncio.Lock()
        self._last_reply = 0.0
        self._model: str | None = None
        self._selected: str | None = None  # the last input set, for devices that cannot say

    @property
    def poll_s(self) -> float:
        """The poll interval: the config's, else the profile's."""
        return self.config.poll_s or self.profile.timing.poll_s

    async def connect(self) -> None:
        """Open the transport and run the handshake (per command for NTCONTROL)."""
        if not self.profile.transport.reconnect_per_command:
            await self._open()
        if "model_query" in self.profile.commands:
            self._model = await self._optional("model_query")

    async def _open(self) -> None:
        await self.transport.open()
        try:
            password = self.config.password
            self._prefix = await handshake.perform(self.profile, self.transport, password)
        except BaseException:
            await self.transport.close()
            raise

    async def close(self) -> None:
        """Close the transport."""
        await self.transport.close()

    async def poll(self) -> DeviceState:
        """Power, then (when on) input/blank/freeze/mute/volume, lamp, filter and errors."""
        power = Power.UNKNOWN
        if self._has("power_query"):
            power = Power(await self.request("power_query"))
        values: dict[str, Any] = {}
        for query in self._queries(power):
            values[query] = await self._optional(query)
        return DeviceState(
            power=power,
            input=values.get("input_query") or self._assumed_input(power),
            blank=values.get("blank_query"),
            freeze=values.get("freeze_query"),
            mute=values.get("mute_query"),
            volume=values.get("volume_query"),
            lamp_hours=values.get("lamp_query"),
            filter_hours=values.get("filter_query"),
            errors=values.get("error_query") or self._announced_errors(),
            model=self._model or self.config.model or None,
            name=self.config.name or values.get("name_query"),
        )

    def _announced_errors(self) -> dict[str, str]:
        """A fault the device announced by itself (Optoma INFO4/6/7), for one with no error query.

        It stands until the device announces a clean start (its unsolicited "ok")."""
        fault = self.pushed.get("error", "ok")
        return {} if fault == "ok" else {"announced": fault}

    def _assumed_input(self, power: Power) -> str | None:
        return self._selected if power is Power.ON and not self._has("input_query") else None

    def _queries(self, power: Power) -> list[str]:
        wanted = ["lamp_query", "filter_query", "error_query", "name_query"]
        if power is Power.ON:
            wanted = [*WHEN_ON, *wanted]
        return [q for q in wanted if self._has(q)]

    def _has(self, command: str) -> bool:
        return command in self.profile.commands

    async def _optional(self, command: str) -> Any:
        try:
            return await self.request(command)
        except (NotReady, CommandRejected):
            return None

    async def command(self, name: str, **args: Any) -> None:
        """power(on), input(input), blank(on), freeze(on), mute(on), volume(level | step)."""
        if name in ("power", "blank", "freeze", "mute"):
            if "on" not in args:
                raise CommandRejected(f"{name} needs on = true/false")
            await self.request(f"{name}_{'on' if args['on'] else 'off'}")
        elif name == "input":
            await self.request("input_select", input=str(args.get("input", "")))
            self._selected = str(args["input"])
        elif name == "volume":
            await self._volume(args)
        else:
            raise CommandRejected(f"{self.profile.id} has no command {name!r}")

    async def _volume(self, args: Mapping[str, Any]) -> None:
        if "level" in args and self._has("volume_set"):
            level = args["level"]
            if not isinstance(level, int) or isinstance(level, bool) or not 0 <= level <= 100:
                raise CommandRejected("volume level must be 0..100")
            await self.request("volume_set", level=level)
            return
        step = int(args.get("step", 1))
        for _ in range(min(abs(step), 10)):
            await self.request("volume_up" if step > 0 else "volume_down")

    async def request(self, command: str, **args: Any) -> Any:
        """Send one profile command and return its decoded reply (None for an ack)."""
        spec = codec.command_spec(self.profile, command)
        if self.config.set_id:
            args.setdefault("id", self.config.set_id)
        data = codec.encode(self.profile, command, model=self.config.model or None, **args)
        timeout = spec.timeout_s or self.config.timeout_s or self.profile.timing.reply_timeout_s
        async with self._lock:
            for attempt in range(self.profile.timing.retries + 1):
                try:
                    return await self._attempt(command, data, timeout, spec.no_reply)
                except Unavailable:
                    await self.transport.close()
                    if attempt == self.profile.timing.retries:
                        raise
        raise AssertionError("unreachable")

    async def _attempt(self, command: str, data: bytes, timeout: float, no_reply: bool) -> Any:
        per_command = self.profile.transport.reconnect_per_command
        if per_command or not self.transport.is_open:
            await self._open()
        try:
            await self._pace()
            self._note_stale(self._leftover + self.transport.discard_input())
            self._leftover = b""
            prefix, self._prefix = self._prefix, b""
            await self.transport.write(prefix + data)
            value = None if no_reply else await self._read_reply(command, data, timeout)
            self._last_reply = asyncio.get_running_loop().time()
            return value
        finally:
            if per_command:
                await self.transport.close()

    async def _pace(self) -> None:
        # Devices drop commands sent too soon after their last reply (Panasonic 0.5 s, Sony 50 ms).
        wait = self._last_reply + self.profile.timing.gap_s - asyncio.get_running_loop().time()
        if wait > 0:
            await asyncio.sleep(wait)

    async def _read_reply(self, command: str, sent: bytes, timeout: float) -> Any:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        buf = b""
        while True:
            unit, buf = codec.split(self.profile, buf)
            if unit is None:
                remaining = deadline - loop.time()
                if remaining <= 0:
                    raise Unavailable(f"{command}: no reply within {timeout} s")
                buf += await self.transport.read(remaining)
                continue
            self._note_unsolicited(unit)
            if not codec.is_noise(self.profile, unit, sent):
                self._leftover = buf  # what came after the reply (Optoma's INFO1 after a P)
                return codec.decode(self.profile, command, unit, sent=sent, model=self.config.model)

    def _note_stale(self, data: bytes) -> None:
        """Look for unsolicited lines in input that arrived between requests."""
        if not data or not self.profile.unsolicited:
            return
        try:
            while True:
                unit, data = codec.split(self.profile, data)
                if unit is None:
                    return
                self._note_unsolicited(unit)
        except ProtocolError:
            return  # noise between requests is not worth more than the reply it precedes

    def _note_unsolicited(self, unit: bytes) -> None:
        for meaning, value in codec.unsolicited(self.profile, unit):
            logger.debug("%s: unsolicited %s = %s", self.profile.id, meaning, value)
            self.pushed[meaning] = value


def capabilities_of(profile: Profile, model: str = "") -> Capabilities:
    """What a profile's commands allow, with its inputs and timing."""
    features = {cap for cap, cmd in FEATURES.items() if cmd in profile.commands}
    if {"volume_set", "volume_up"} & profile.commands.keys():
        features.add(Capability.VOLUME)
    return Capabilities(
        features=frozenset(features),
        inputs=tuple(profile.inputs_for(model or None)),
        volume_range=(0, 100),
        rated_lamp_hours=profile.rated_lamp_hours or None,
        rated_filter_hours=profile.rated_filter_hours or None,
        warmup_s=profile.timing.warmup_s,
        cooldown_s=profile.timing.cooldown_s,
    )
