"""The firmware profile schema: frozen dataclasses validated by ``roomctl.config.schema``.

A profile describes one protocol family: how to reach the device (transport), how bytes are
framed (line, STX/ETX, binary with a checksum), how a session starts (handshake), which
commands exist and what their replies look like, and the manual's example exchanges.
``firmware_profiles/README.md`` is the reference for writers of profiles.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

SCHEMA_VERSION = 1
POWER_STATES = ("off", "warming", "on", "cooling", "error")

# The command names the generic driver knows; a profile may define any subset.
SET_COMMANDS = (
    "power_on",
    "power_off",
    "input_select",
    "blank_on",
    "blank_off",
    "freeze_on",
    "freeze_off",
    "mute_on",
    "mute_off",
    "volume_set",
    "volume_up",
    "volume_down",
)
QUERY_COMMANDS = (
    "power_query",
    "input_query",
    "blank_query",
    "freeze_query",
    "mute_query",
    "volume_query",
    "lamp_query",
    "filter_query",
    "error_query",
    "model_query",
    "name_query",
)
KNOWN_COMMANDS = SET_COMMANDS + QUERY_COMMANDS + ("ping",)

Parity = Literal["N", "E", "O", "M", "S"]
FlowControl = Literal["none", "rtscts", "xonxoff", "dsrdtr"]
FramingKind = Literal["line", "stx_etx", "binary"]
Checksum = Literal["none", "sum8", "or8", "twos_complement"]
HandshakeKind = Literal[
    "none", "pjlink_md5", "epson_escvpnet", "panasonic_ntcontrol", "hitachi_9715", "sony_adcp"
]
ValueKind = Literal["text", "int", "int_le", "int_be", "hex"]


@dataclass(frozen=True)
class TransportSpec:
    """How to reach the device: serial line parameters and/or a TCP port."""

    kind: Literal["serial", "tcp"] = "serial"
    baudrate: int = 9600
    bytesize: Literal[5, 6, 7, 8] = 8
    parity: Parity = "N"
    stopbits: Literal[1, 2] = 1
    flow_control: FlowControl = "none"
    port: int = 0
    reconnect_per_command: bool = False  # NTCONTROL closes after each reply

    def validate(self) -> Iterator[tuple[str, str]]:
        """Cross-field checks."""
        if self.kind == "tcp" and not 0 < self.port < 65536:
            yield "port", "a tcp profile needs a port between 1 and 65535"
        if self.baudrate <= 0:
            yield "baudrate", "must be positive"


@dataclass(frozen=True)
class LengthSpec:
    """How long a binary reply is: fixed, from a length field, or by its first byte."""

    kind: Literal["fixed", "field", "first_byte"] = "fixed"
    size: int = 0  # fixed: whole frame; field: width of the length field (1 or 2 bytes)
    offset: int = 0  # field: where the length field starts
    extra: int = 0  # field: frame length = value + extra
    little_endian: bool = True
    sizes: Mapping[str, int] = field(default_factory=dict)  # first_byte: "1D" -> 3


@dataclass(frozen=True)
class FramingSpec:
    """How commands and replies are delimited on the wire."""

    kind: FramingKind = "line"
    prefix: str = ""  # line: before every command (``%1``, ``\\r*``, ``00``)
    terminator: str = "\r"  # line: after every command
    reply_terminators: tuple[str, ...] = ("\r",)  # line: any of these ends a reply unit
    reply_prefix: str = ""  # line: stripped from replies (NTCONTROL ``00``)
    prompt: str = ""  # line: ready prompt (Epson ``:``, BenQ ``>``)
    reply_ends_with_prompt: bool = False  # Epson: a reply is complete only at the prompt
    echo: bool = False  # the device echoes each command before replying
    encoding: str = "ascii"
    checksum: Checksum = "none"  # binary: appended to commands
    checksum_from: int = 0  # binary: bytes skipped at the start when summing
    trailer: str = ""  # binary: hex bytes after the checksum (Sony ``9A``)
    reply_checksum: bool = True  # binary: replies carry the same checksum
    length: LengthSpec = field(default_factory=LengthSpec)

    def validate(self) -> Iterator[tuple[str, str]]:
        """Cross-field checks."""
        if self.kind == "line" and not self.reply_terminators and not self.prompt:
            yield "reply_terminators", "a line protocol needs a reply terminator or a prompt"
        if self.reply_ends_with_prompt and not self.prompt:
            yield "reply_ends_with_prompt", "needs a prompt"
        if self.kind == "binary" and self.length.kind == "fixed" and self.length.size <= 0:
            yield "length.size", "a fixed-length binary reply needs a positive size"
        if self.trailer and not _is_hex(self.trailer):
            yield "trailer", f"not hex bytes: {self.trailer!r}"


@dataclass(frozen=True)
class HandshakeSpec:
    """How a session starts; the code is chosen by ``kind``."""

    kind: HandshakeKind = "none"
    user: str = ""  # NTCONTROL user name (default ``admin1`` on older models)
    greeting_timeout_s: float = 2.0


@dataclass(frozen=True)
class TimingSpec:
    """Pacing and patience the device needs."""

    gap_s: float = 0.05  # after a reply, before the next command
    reply_timeout_s: float = 3.0
    warmup_s: float = 30.0  # lockout after power on
    cooldown_s: float = 60.0  # lockout after power off
    retries: int = 1  # extra attempts after a timeout
    poll_s: float = 10.0


@dataclass(frozen=True)
class CommandSpec:
    """One command: what to send and what a good reply looks like."""

    send: str  # text template (line, stx_etx) or hex bytes template (binary)
    # A regex ("" = empty acknowledgement); binary replies match as spaced hex "22 00 01".
    reply: str | None = None
    value: ValueKind = "text"  # how the ``value`` group converts
    values: Mapping[str, str] = field(default_factory=dict)  # raw value -> meaning
    fields: tuple[str, ...] = ()  # error_query: one name per character/byte of the value
    timeout_s: float = 0.0  # 0 = the profile's reply timeout
    no_reply: bool = False  # the device sends nothing back
    notes: str = ""


@dataclass(frozen=True)
class UnsolicitedSpec:
    """A message the device sends by itself (Epson IMEVENT, Optoma INFOn)."""

    pattern: str
    meaning: str = ""
    values: Mapping[str, str] = field(default_factory=dict)  # ``value`` group -> power state


@dataclass(frozen=True)
class ModelSpec:
    """Per-model differences, chiefly the input map."""

    inputs: Mapping[str, str] = field(default_factory=dict)
    rated_lamp_hours: int = 0
    notes: str = ""


@dataclass(frozen=True)
class ExampleSpec:
    """A documented exchange from the manual, replayed by the tests."""

    command: str
    send: str  # exact bytes (text with escapes, or hex for binary profiles)
    reply: str = ""
    expect: Any = None  # the decoded value; None for a plain acknowledgement
    args: Mapping[str, Any] = field(default_factory=dict)
    raises: Literal["", "busy", "rejected", "auth", "protocol"] = ""
    source: str = ""  # manual title and page


@dataclass(frozen=True)
class Profile:
    """One protocol family, as loaded from ``firmware_profiles/<vendor>/<family>.toml``."""

    RENAMED: ClassVar[dict[str, str]] = {"baud": "transport.baudrate"}

    schema_version: int
    vendor: str
    family: str
    manual: str  # title of the protocol document the profile follows
    models: tuple[str, ...] = ()
    notes: str = ""
    unverified: tuple[str, ...] = ()  # what could not be checked against a manual
    transport: TransportSpec = field(default_factory=TransportSpec)
    framing: FramingSpec = field(default_factory=FramingSpec)
    handshake: HandshakeSpec = field(default_factory=HandshakeSpec)
    timing: TimingSpec = field(default_factory=TimingSpec)
    defaults: Mapping[str, str] = field(default_factory=dict)  # template variables (set id)
    commands: Mapping[str, CommandSpec] = field(default_factory=dict)
    power_states: Mapping[str, str] = field(default_factory=dict)
    inputs: Mapping[str, str] = field(default_factory=dict)  # input name -> device code
    model: Mapping[str, ModelSpec] = field(default_factory=dict)  # per-model overrides
    busy: tuple[str, ...] = ()  # reply regexes meaning "not now"
    rejected: tuple[str, ...] = ()  # reply regexes meaning "refused"
    auth_failed: tuple[str, ...] = ()
    unsolicited: tuple[UnsolicitedSpec, ...] = ()
    rated_lamp_hours: int = 0
    rated_filter_hours: int = 0
    examples: tuple[ExampleSpec, ...] = ()
    id: str = ""  # set by the loader from the file path

    def validate(self) -> Iterator[tuple[str, str]]:
        """Cross-field checks the type system cannot express."""
        if self.schema_version != SCHEMA_VERSION:
            yield "schema_version", f"unsupported version {self.schema_version}, expected 1"
        yield from _check_commands(self)
        for raw, state in self.power_states.items():
            if state not in POWER_STATES:
                yield f"power_states.{raw}", f"must be one of {', '.join(POWER_STATES)}"
        for key, patterns in (("busy", self.busy), ("rejected", self.rejected)):
            for i, pattern in enumerate(patterns):
                if (problem := regex_problem(pattern)) is not None:
                    yield f"{key}[{i}]", problem
        for i, ex in enumerate(self.examples):
            if ex.command not in self.commands:
                yield f"examples[{i}].command", f"no such command {ex.command!r}"
        if "power_query" in self.commands and not self.power_states:
            yield "power_states", "a profile with power_query needs a power_states map"

    def inputs_for(self, model: str | None) -> Mapping[str, str]:
        """The input map of ``model`` (falling back to the family's map)."""
        spec = self.model.get(model or "")
        return spec.inputs if spec and spec.inputs else self.inputs


def _check_commands(profile: Profile) -> Iterator[tuple[str, str]]:
    for name, cmd in profile.commands.items():
        key = f"commands.{name}"
        if name not in KNOWN_COMMANDS:
            yield key, f"unknown command name (known: {', '.join(KNOWN_COMMANDS)})"
        if cmd.reply is not None and (problem := regex_problem(cmd.reply)) is not None:
            yield f"{key}.reply", problem
        if profile.framing.kind == "binary" and not _is_hex(re.sub(r"\{[^}]*\}", "00", cmd.send)):
            yield f"{key}.send", f"binary profiles send hex bytes, got {cmd.send!r}"
        if cmd.reply is None and not cmd.no_reply:
            yield f"{key}.reply", "missing reply pattern (or set no_reply = true)"


def regex_problem(pattern: str) -> str | None:
    """Why ``pattern`` is not a valid regex, or None."""
    try:
        re.compile(pattern)
    except re.error as err:
        return f"invalid regular expression: {err}"
    return None


def _is_hex(text: str) -> bool:
    return bool(re.fullmatch(r"(?:[0-9A-Fa-f]{2}\s*)*", text.strip()))
