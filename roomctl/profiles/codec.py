"""The pure profile codec: encode a command to bytes, split and decode replies. No I/O.

Binary replies are matched as spaced uppercase hex text ("22 00 01 10"), without their
checksum and trailer, so one regex language serves every framing. Every failure to make sense
of a reply is a ``ProtocolError``; busy replies raise ``NotReady``, refusals
``CommandRejected`` and password refusals ``AuthenticationFailed``.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from typing import Any

from roomctl.core.errors import AuthenticationFailed, CommandRejected, NotReady, ProtocolError
from roomctl.profiles.schema import CommandSpec, Profile

STX, ETX = b"\x02", b"\x03"
MAX_FRAME = 1024
_BOOL = {"on": True, "off": False}


def hextext(data: bytes) -> str:
    """``b"\\x22\\x00"`` -> ``"22 00"``."""
    return " ".join(f"{b:02X}" for b in data)


def checksum(kind: str, data: bytes) -> int:
    """The checksum byte of ``data`` for ``kind`` (sum8, or8, twos_complement)."""
    if kind == "sum8":
        return sum(data) & 0xFF
    if kind == "or8":
        out = 0
        for b in data:
            out |= b
        return out
    if kind == "twos_complement":
        return -sum(data) & 0xFF
    raise ValueError(f"no checksum kind {kind!r}")


def command_spec(profile: Profile, command: str) -> CommandSpec:
    """The spec of ``command``; CommandRejected if the profile does not define it."""
    try:
        return profile.commands[command]
    except KeyError:
        raise CommandRejected(f"{profile.id or profile.family} has no {command!r}") from None


def encode(profile: Profile, command: str, **args: Any) -> bytes:
    """The bytes to send for ``command`` with ``args`` (input=name, level=int, model=...)."""
    body = _fill(profile, command_spec(profile, command).send, args)
    framing = profile.framing
    if framing.kind == "binary":
        raw = bytes.fromhex(body)
        if framing.checksum != "none":
            raw += bytes([checksum(framing.checksum, raw[framing.checksum_from :])])
        return raw + bytes.fromhex(framing.trailer)
    data = body.encode(framing.encoding)
    if framing.kind == "stx_etx":
        return STX + data + ETX
    return (framing.prefix + body + framing.terminator).encode(framing.encoding)


def _fill(profile: Profile, template: str, args: Mapping[str, Any]) -> str:
    values: dict[str, Any] = dict(profile.defaults)
    values.update({k: v for k, v in args.items() if v is not None and k != "model"})
    if "input" in values:
        values["input"] = _input_code(profile, str(values["input"]), args.get("model"))
    names = {name for _, name, _, _ in string.Formatter().parse(template) if name}
    if missing := sorted(names - values.keys()):
        raise CommandRejected(f"missing argument {', '.join(missing)}")
    try:
        return template.format_map(values)
    except (ValueError, TypeError) as err:
        raise CommandRejected(f"bad argument: {err}") from None


def _input_code(profile: Profile, name: str, model: str | None) -> str:
    inputs = profile.inputs_for(model)
    for key, code in inputs.items():
        if key.lower() == name.lower():
            return code
    raise CommandRejected(f"no input {name!r} (known: {', '.join(inputs) or 'none'})")


def split(profile: Profile, buffer: bytes) -> tuple[bytes | None, bytes]:
    """Cut one reply unit off the front of ``buffer``: (unit or None if incomplete, rest)."""
    kind = profile.framing.kind
    if kind == "binary":
        return _split_binary(profile, buffer)
    if kind == "stx_etx":
        start = buffer.find(STX)
        if start < 0:
            return None, b""
        end = buffer.find(ETX, start)
        return (None, buffer[start:]) if end < 0 else (buffer[start : end + 1], buffer[end + 1 :])
    return _split_line(profile, buffer)


def _split_line(profile: Profile, buffer: bytes) -> tuple[bytes | None, bytes]:
    framing = profile.framing
    enc = framing.encoding
    if framing.reply_ends_with_prompt:
        ends = [framing.prompt.encode(enc)]
    else:
        ends = [t.encode(enc) for t in framing.reply_terminators]
    found = [(i, len(t)) for t in ends if (i := buffer.find(t)) >= 0]
    if not found:
        if len(buffer) > MAX_FRAME:
            raise ProtocolError(f"no terminator within {MAX_FRAME} bytes")
        return None, buffer
    index, width = min(found)
    return buffer[: index + width], buffer[index + width :]


def _split_binary(profile: Profile, buffer: bytes) -> tuple[bytes | None, bytes]:
    spec = profile.framing.length
    if not buffer:
        return None, buffer
    if spec.kind == "fixed":
        size = spec.size
    elif spec.kind == "first_byte":
        first = f"{buffer[0]:02X}"
        if first not in spec.sizes:
            raise ProtocolError(f"unexpected first byte {first}")
        size = spec.sizes[first]
    else:
        if len(buffer) < spec.offset + spec.size:
            return None, buffer
        field = buffer[spec.offset : spec.offset + spec.size]
        size = int.from_bytes(field, "little" if spec.little_endian else "big") + spec.extra
        if size > MAX_FRAME:
            raise ProtocolError(f"frame length {size} too long")
    if len(buffer) < size:
        return None, buffer
    return buffer[:size], buffer[size:]


def body(profile: Profile, unit: bytes, sent: bytes = b"") -> str:
    """The text of a reply unit with framing, checksum, echo, prompt and noise removed."""
    framing = profile.framing
    if framing.kind == "binary":
        return hextext(_unwrap_binary(profile, unit))
    try:
        text = unit.decode(framing.encoding)
    except UnicodeDecodeError:
        raise ProtocolError(f"undecodable reply {unit!r}") from None
    if framing.kind == "stx_etx":
        if not (unit.startswith(STX) and unit.endswith(ETX)):
            raise ProtocolError(f"reply not framed by STX/ETX: {unit!r}")
        return text[1:-1]
    return _line_body(profile, text, sent)


def _unwrap_binary(profile: Profile, unit: bytes) -> bytes:
    framing = profile.framing
    trailer = bytes.fromhex(framing.trailer)
    if not framing.reply_checksum or framing.checksum == "none":
        return unit
    if len(unit) < 1 + len(trailer) + framing.checksum_from:
        raise ProtocolError(f"reply too short: {hextext(unit)}")
    if trailer and not unit.endswith(trailer):
        raise ProtocolError(f"reply lacks trailer {framing.trailer}: {hextext(unit)}")
    core = unit[: len(unit) - len(trailer) - 1]
    expected = checksum(framing.checksum, core[framing.checksum_from :])
    if unit[len(core)] != expected:
        raise ProtocolError(f"bad checksum in {hextext(unit)} (expected {expected:02X})")
    return core


def _line_body(profile: Profile, text: str, sent: bytes) -> str:
    framing = profile.framing
    if framing.reply_ends_with_prompt and text.endswith(framing.prompt):
        text = text[: -len(framing.prompt)]
    echoes = _echoes(profile, sent)
    lines = []
    for line in re.split(r"[\r\n]+", text):
        line = line.strip()
        if framing.prompt and not framing.reply_ends_with_prompt:
            line = line.lstrip(framing.prompt).strip()
        if not line or (framing.echo and line in echoes):
            continue
        if any(re.fullmatch(u.pattern, line) for u in profile.unsolicited):
            continue
        lines.append(line)
    out = "\n".join(lines)
    if framing.reply_prefix and out.startswith(framing.reply_prefix):
        out = out[len(framing.reply_prefix) :]
    return out


def _echoes(profile: Profile, sent: bytes) -> set[str]:
    # Exact match only: BenQ echoes "*pow=on#" and then answers "*POW=ON#".
    text = sent.decode(profile.framing.encoding, "replace").strip()
    return {text, text.removeprefix(profile.framing.prefix.strip()).strip()} - {""}


def is_noise(profile: Profile, unit: bytes, sent: bytes = b"") -> bool:
    """Whether a line unit carries nothing (echo, empty line, prompt, unsolicited message)."""
    framing = profile.framing
    if framing.kind != "line" or framing.reply_ends_with_prompt:
        return False
    return body(profile, unit, sent) == ""


def unsolicited(profile: Profile, unit: bytes) -> list[tuple[str, str]]:
    """The (meaning, value) of every unsolicited message inside a line unit."""
    if profile.framing.kind != "line" or not profile.unsolicited:
        return []
    text = unit.decode(profile.framing.encoding, "replace")
    found = []
    for line in re.split(r"[\r\n]+", text):
        for spec in profile.unsolicited:
            if m := re.fullmatch(spec.pattern, line.strip().lstrip(profile.framing.prompt)):
                raw = m.groupdict().get("value") or ""
                found.append((spec.meaning, spec.values.get(raw, raw)))
    return found


def decode(
    profile: Profile, command: str, unit: bytes, *, sent: bytes = b"", model: str | None = None
) -> Any:
    """The value of a reply unit to ``command`` (None for an acknowledgement)."""
    cmd = command_spec(profile, command)
    text = body(profile, unit, sent)
    _raise_for_status(profile, text)
    match = re.fullmatch(cmd.reply or "", text, re.DOTALL)
    if match is None:
        raise ProtocolError(f"unexpected reply to {command}: {text[:80]!r}")
    raw = match.groupdict().get("value")
    if raw is None:
        return None
    return _meaning(profile, command, cmd, _convert(cmd.value, raw), model)


def _raise_for_status(profile: Profile, text: str) -> None:
    for pattern in profile.auth_failed:
        if re.fullmatch(pattern, text):
            raise AuthenticationFailed(f"device refused the password ({text[:40]})")
    for pattern in profile.busy:
        if re.fullmatch(pattern, text):
            raise NotReady(f"device busy ({text[:40]})", retry_after_s=profile.timing.gap_s * 20)
    for pattern in profile.rejected:
        if re.fullmatch(pattern, text):
            raise CommandRejected(f"device refused the command ({text[:40]})")


def _convert(kind: str, raw: str) -> str | int:
    try:
        if kind == "int":
            return int(raw.strip())
        if kind in ("int_le", "int_be"):
            data = bytes.fromhex(raw)
            return int.from_bytes(data, "little" if kind == "int_le" else "big")
        if kind == "hex":
            return bytes.fromhex(raw).hex().upper()
    except ValueError:
        raise ProtocolError(f"not a {kind} value: {raw[:40]!r}") from None
    return raw.strip()


def _meaning(
    profile: Profile, command: str, cmd: CommandSpec, value: Any, model: str | None
) -> Any:
    raw = str(value)
    if command == "power_query":
        state = profile.power_states.get(raw) or profile.power_states.get(raw.upper())
        if state is None:
            raise ProtocolError(f"unknown power state {raw!r}")
        return state
    if command == "input_query":
        if raw in cmd.values:
            return cmd.values[raw]
        codes = {code.upper(): name for name, code in profile.inputs_for(model).items()}
        return codes.get(raw.upper(), raw)
    if command == "error_query":
        return _errors(cmd, raw)
    if command in ("lamp_query", "filter_query", "volume_query"):
        return _as_int(value)
    if command in ("blank_query", "freeze_query", "mute_query"):
        meaning = cmd.values.get(raw, cmd.values.get(raw.upper(), raw.lower()))
        if meaning not in _BOOL:
            raise ProtocolError(f"unknown {command} value {raw!r}")
        return _BOOL[meaning]
    return cmd.values.get(raw, value)


def _as_int(value: Any) -> int:
    if isinstance(value, int):
        return value
    try:
        return int(str(value).split()[0])
    except (ValueError, IndexError):
        raise ProtocolError(f"not a number: {str(value)[:40]!r}") from None


def _errors(cmd: CommandSpec, raw: str) -> dict[str, str]:
    if cmd.fields:
        if len(raw) != len(cmd.fields):
            raise ProtocolError(f"expected {len(cmd.fields)} status digits, got {raw!r}")
        return {
            name: cmd.values.get(ch, f"code {ch}")
            for name, ch in zip(cmd.fields, raw, strict=True)
            if cmd.values.get(ch) != "ok"
        }
    meaning = cmd.values.get(raw, cmd.values.get(raw.upper()))
    if meaning == "ok" or (meaning is None and set(raw) <= {"0", " "}):
        return {}
    return {raw: meaning or "error"}
