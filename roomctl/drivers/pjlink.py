"""The PJLink driver: any network projector or display speaking PJLink class 1 or 2."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from roomctl.config.schema import parse, secret
from roomctl.core.errors import CommandRejected
from roomctl.drivers.base import Capabilities, Capability, DeviceState, Driver, Power
from roomctl.pjlink import protocol as p
from roomctl.pjlink.client import PjlinkClient

logger = logging.getLogger(__name__)

BASE_FEATURES = frozenset(
    {Capability.POWER, Capability.INPUT, Capability.BLANK, Capability.MUTE}
    | {Capability.ERRORS, Capability.INFO, Capability.LAMP}
)
CLASS2_FEATURES = frozenset({Capability.FREEZE, Capability.VOLUME, Capability.FILTER})


@dataclass(frozen=True)
class PjlinkConfig:
    """A ``[[devices]]`` entry with ``type = "pjlink"``."""

    host: str
    port: int = p.PORT
    password: str = secret("")
    type: str = "pjlink"
    id: str = ""
    role: str = "main_display"
    name: str = ""
    input: str = ""  # selected when the display is made ready: a code ("31") or a name
    inputs: Mapping[str, str] = field(default_factory=dict)  # shown name → code, overrides
    poll_s: float = 10.0
    timeout_s: float = 5.0
    warmup_s: float = 30.0
    cooldown_s: float = 60.0
    rated_lamp_hours: int = 0
    rated_filter_hours: int = 0

    def validate(self) -> list[tuple[str, str]]:
        """Cross-field checks."""
        problems = []
        if not self.host:
            problems.append(("host", "must not be empty"))
        if not 0 < self.port < 65536:
            problems.append(("port", "must be between 1 and 65535"))
        if len(self.password) > 32:
            problems.append(("password", "PJLink passwords are at most 32 characters"))
        if self.poll_s < 1:
            problems.append(("poll_s", "must be at least 1 (PJLink asks for 10)"))
        if not 0 < self.timeout_s <= 30:
            problems.append(("timeout_s", "must be in (0, 30]"))
        for name, code in self.inputs.items():
            if len(code) != 2 or code[0] not in "123456" or not code[1].isalnum():
                problems.append((f"inputs.{name}", f"{code!r} is not a PJLink input code"))
        return problems


class PjlinkDriver(Driver):
    """PJLink over TCP; capabilities and inputs are learned when it connects."""

    def __init__(self, config: PjlinkConfig, client: PjlinkClient | None = None) -> None:
        self.config = config
        self.client = client or PjlinkClient(
            config.host, config.port, config.password, timeout_s=config.timeout_s
        )
        self.pjlink_class = "1"
        self._names: dict[str, str] = {}  # code → shown name
        self._has_lamp = True
        self._has_filter = False
        self._model: str | None = None
        self._name: str | None = config.name or None
        self.capabilities = self._capabilities()

    def _capabilities(self) -> Capabilities:
        features = set(BASE_FEATURES)
        if self.pjlink_class == "2":
            features |= CLASS2_FEATURES
        if not self._has_lamp:
            features.discard(Capability.LAMP)
        if not self._has_filter:
            features.discard(Capability.FILTER)
        return Capabilities(
            features=frozenset(features),
            inputs=tuple(self._names.values()),
            volume_range=(0, 0),  # PJLink only steps the volume up or down
            rated_lamp_hours=self.config.rated_lamp_hours or None,
            rated_filter_hours=self.config.rated_filter_hours or None,
            warmup_s=self.config.warmup_s,
            cooldown_s=self.config.cooldown_s,
        )

    async def connect(self) -> None:
        """Learn the class, inputs and model; the first request opens the connection."""
        # a projector with a fault may answer ERR4 to everything (Sony does): stay connected
        self.pjlink_class = await _optional(self.client.pjlink_class()) or "1"
        codes = await _optional(self.client.inputs(self.pjlink_class)) or ()
        overrides = {code.upper(): name for name, code in self.config.inputs.items()}
        self._names = {code: overrides.get(code) or await self._input_name(code) for code in codes}
        self._name = self.config.name or await _optional(self.client.name()) or None
        maker = await _optional(self.client.manufacturer())
        product = await _optional(self.client.product())
        self._model = " ".join(x for x in (maker, product) if x) or None
        if self.pjlink_class == "2":
            self._has_filter = await _optional(self.client.filter_hours()) is not None
        self.capabilities = self._capabilities()

    async def _input_name(self, code: str) -> str:
        if self.pjlink_class == "2":
            name = await _optional(self.client.input_name(code))
            if name:
                return name
        return p.input_name(code)

    async def close(self) -> None:
        """Close the connection."""
        await self.client.close()

    async def poll(self) -> DeviceState:
        """POWR, and when on INPT and AVMT; ERST, LAMP, FILT and FREZ as the device has them."""
        try:
            power = await self.client.power()
        except p.ProjectorFailure:
            power = Power.ERROR  # ERR4 to POWR ?: the projector reports a failure
        on = power is Power.ON
        code = await _optional(self.client.input(self.pjlink_class)) if on else None
        mute = await _optional(self.client.av_mute()) if on else None
        state = DeviceState(
            power=power,
            input=self._names.get(code, code) if code else None,
            blank=mute[0] if mute else None,
            mute=mute[1] if mute else None,
            errors=await _optional(self.client.errors()) or {},
            lamp_hours=await self._lamp_hours(),
            model=self._model,
            name=self._name,
        )
        if self.pjlink_class != "2":
            return state
        return replace(
            state,
            filter_hours=await _optional(self.client.filter_hours()) if self._has_filter else None,
            freeze=await _optional(self.client.freeze()) if on else None,
        )

    async def _lamp_hours(self) -> int | None:
        if not self._has_lamp:
            return None
        try:
            lamps = await self.client.lamps()
        except p.UndefinedCommand:  # ERR1: a laser/LED projector or a flat panel
            self._has_lamp = False
            self.capabilities = self._capabilities()
            return None
        except (p.UnavailableTime, p.ProjectorFailure):
            return None
        return max(hours for hours, _ in lamps)

    async def command(self, name: str, **args: Any) -> None:
        """power(on), input(input), blank(on), mute(on), freeze(on), volume(step=±1)."""
        if name == "power":
            await self.client.set_power(bool(_arg(args, "on")))
        elif name == "input":
            code = self.resolve_input(str(_arg(args, "input")))
            await self.client.set_input(code, self.pjlink_class)
        elif name == "blank":
            await self.client.set_av_mute("11" if _arg(args, "on") else "10")
        elif name == "mute":
            await self.client.set_av_mute("21" if _arg(args, "on") else "20")
        elif name == "freeze" and self.pjlink_class == "2":
            await self.client.set_freeze(bool(_arg(args, "on")))
        elif name == "volume" and self.pjlink_class == "2":
            await self._step_volume(args)
        else:
            raise CommandRejected(f"PJLink class {self.pjlink_class} has no command {name!r}")

    async def _step_volume(self, args: Mapping[str, Any]) -> None:
        step = args.get("step", 1 if args.get("up", True) else -1)
        if not isinstance(step, int) or isinstance(step, bool) or not 0 < abs(step) <= 10:
            raise CommandRejected("volume takes step = ±1..10 (PJLink steps, no levels)")
        for _ in range(abs(step)):
            await self.client.speaker_volume(step > 0)

    def resolve_input(self, wanted: str) -> str:
        """An input code from a shown name ("HDMI 1"), a default name ("DIGITAL1") or a code."""
        by_name = {v.casefold(): k for k, v in self._names.items()}
        by_name |= {p.input_name(k).casefold(): k for k in self._names}
        by_name |= {n.casefold(): c.upper() for n, c in self.config.inputs.items()}
        code = by_name.get(wanted.casefold(), wanted.upper())
        if len(code) != 2 or code[0] not in "123456":
            raise CommandRejected(f"unknown input {wanted!r}")
        return code


def _arg(args: Mapping[str, Any], key: str) -> Any:
    if key not in args:
        raise CommandRejected(f"missing argument {key!r}")
    return args[key]


async def _optional(request: Any) -> Any:
    """The result of ``request``, or None when the device refuses it (ERR1-ERR4)."""
    try:
        return await request
    except CommandRejected:  # includes ERR1, ERR2 and ERR4
        return None
    except p.UnavailableTime:
        return None


def create(config_mapping: Mapping[str, Any], context: Any = None) -> PjlinkDriver:
    """Build a driver from a ``[[devices]]`` table; ConfigError names the key and problem."""
    path = str(getattr(context, "path", "") or "")
    file = str(getattr(context, "file", "") or "")
    return PjlinkDriver(parse(PjlinkConfig, config_mapping, path=path, file=file))
