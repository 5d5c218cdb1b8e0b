"""Replay a profile's documented example exchanges through the codec. No I/O."""

from __future__ import annotations

from typing import Any

from roomctl.core.errors import (
    AuthenticationFailed,
    CommandRejected,
    DeviceError,
    NotReady,
    ProtocolError,
)
from roomctl.profiles import codec
from roomctl.profiles.schema import ExampleSpec, Profile

RAISES: dict[str, type[DeviceError]] = {
    "busy": NotReady,
    "rejected": CommandRejected,
    "auth": AuthenticationFailed,
    "protocol": ProtocolError,
}


def wire(profile: Profile, text: str) -> bytes:
    """Example bytes as written in a profile: hex for binary profiles, text otherwise."""
    if profile.framing.kind == "binary":
        return bytes.fromhex(text)
    return text.encode(profile.framing.encoding)


def decode_stream(profile: Profile, command: str, data: bytes, sent: bytes) -> Any:
    """Decode the first meaningful reply unit in ``data`` (skipping echoes and noise)."""
    rest = data
    while True:
        unit, rest = codec.split(profile, rest)
        if unit is None:
            raise ProtocolError(f"incomplete reply {data[:40]!r}")
        if not codec.is_noise(profile, unit, sent):
            return codec.decode(profile, command, unit, sent=sent)


def replay(profile: Profile, example: ExampleSpec) -> str | None:
    """Why ``example`` does not replay, or None when it does."""
    sent = codec.encode(profile, example.command, **example.args)
    if sent != wire(profile, example.send):
        return f"encodes as {_show(profile, sent)}, the manual says {example.send!r}"
    if profile.commands[example.command].no_reply and not example.reply:
        return None
    try:
        value = decode_stream(profile, example.command, wire(profile, example.reply), sent)
    except DeviceError as err:
        if example.raises and isinstance(err, RAISES[example.raises]):
            return None
        return f"reply raised {type(err).__name__}: {err}"
    if example.raises:
        return f"reply decoded as {value!r}, expected {example.raises}"
    if value != example.expect:
        return f"reply decoded as {value!r}, expected {example.expect!r}"
    return None


def _show(profile: Profile, data: bytes) -> str:
    return codec.hextext(data) if profile.framing.kind == "binary" else repr(data.decode())


def problems(profile: Profile) -> list[tuple[str, str]]:
    """(key, problem) for every example that does not replay."""
    out = []
    for i, example in enumerate(profile.examples):
        try:
            problem = replay(profile, example)
        except (DeviceError, ValueError, KeyError) as err:
            problem = f"cannot replay: {err}"
        if problem:
            out.append((f"examples[{i}]", problem))
    if not profile.examples:
        out.append(("examples", "no documented example exchanges"))
    return out
