"""The JSON Schemas of the ``cast.*`` WebSocket messages, one per type, and their check."""

from __future__ import annotations

from typing import Any

import jsonschema

from roomctl.casting import KINDS, PRESETS

_ID = {"type": "string", "pattern": "^[a-z0-9-]{1,40}$"}
_SDP = {"type": "string", "minLength": 1, "maxLength": 48 * 1024}
_CANDIDATE = {
    "type": ["object", "null"],
    "properties": {
        "candidate": {"type": "string", "maxLength": 1024},
        "sdpMid": {"type": ["string", "null"], "maxLength": 32},
        "sdpMLineIndex": {"type": ["integer", "null"], "minimum": 0, "maximum": 64},
        "usernameFragment": {"type": ["string", "null"], "maxLength": 256},
    },
    "additionalProperties": False,
}
_STREAM = {
    "type": "object",
    "required": ["share_id"],
    "properties": {
        "share_id": _ID,
        "decoder": {"type": "string", "maxLength": 80},
        "codec": {"type": "string", "maxLength": 40},
        "power_efficient": {"type": ["boolean", "null"]},
        "decode_ms": {"type": "number", "minimum": 0, "maximum": 100000},
        "fps": {"type": "number", "minimum": 0, "maximum": 1000},
        "dropped": {"type": "integer", "minimum": 0},
        "frames": {"type": "integer", "minimum": 0},
        "width": {"type": "integer", "minimum": 0, "maximum": 16384},
        "height": {"type": "integer", "minimum": 0, "maximum": 16384},
    },
    "additionalProperties": False,
}


def _msg(**props: Any) -> dict[str, Any]:
    """A message schema: ``type`` plus the given properties, all of them required."""
    optional = {k[:-1]: v for k, v in props.items() if k.endswith("_")}
    required = {k: v for k, v in props.items() if not k.endswith("_")}
    return {
        "type": "object",
        "required": ["type", *required],
        "properties": {"type": {"type": "string"}, **required, **optional},
        "additionalProperties": False,
    }


_TARGET = {"enum": ["display", "preview"]}
SCHEMAS: dict[str, dict[str, Any]] = {
    "cast.hello": _msg(page={"enum": ["display", "panel", "sender"]}),
    "cast.request": _msg(
        kind={"enum": list(KINDS)}, preset={"enum": list(PRESETS)}, audio={"type": "boolean"}
    ),
    "cast.withdraw": _msg(),
    "cast.keepalive": _msg(share_id=_ID),
    "cast.offer": _msg(share_id=_ID, pc=_ID, target=_TARGET, sdp=_SDP, panel_=_ID),
    "cast.answer": _msg(share_id=_ID, pc=_ID, sdp=_SDP),
    "cast.ice": _msg(
        share_id=_ID,
        pc=_ID,
        target={"enum": ["display", "preview", "sender"]},
        candidate=_CANDIDATE,
        panel_=_ID,
    ),
    "cast.ask": _msg(
        share_id=_ID,
        max_width={"type": "integer", "minimum": 160, "maximum": 4096},
        max_height={"type": "integer", "minimum": 90, "maximum": 4096},
        codecs={"type": "array", "maxItems": 6, "items": {"type": "string", "maxLength": 40}},
    ),
    "cast.approve": _msg(share_id=_ID),
    "cast.deny": _msg(share_id=_ID),
    "cast.stop": _msg(share_id=_ID),
    "cast.stop_all": _msg(),
    "cast.layout": _msg(
        tiles={"type": "integer", "minimum": 0, "maximum": 4},
        main={"anyOf": [_ID, {"type": "null"}]},
        show_names={"type": "boolean"},
    ),
    "cast.mute": _msg(share_id=_ID, muted={"type": "boolean"}),
    "cast.preview": _msg(share_id=_ID),
    "cast.stats": _msg(streams={"type": "array", "maxItems": 4, "items": _STREAM}),
}
TEACHER_ONLY = frozenset(
    {
        "cast.approve",
        "cast.deny",
        "cast.stop",
        "cast.stop_all",
        "cast.layout",
        "cast.mute",
        "cast.preview",
    }
)
_VALIDATORS = {k: jsonschema.Draft202012Validator(s) for k, s in SCHEMAS.items()}


def check(msg: dict[str, Any]) -> str | None:
    """Why ``msg`` does not match its schema, or None when it does."""
    validator = _VALIDATORS.get(msg.get("type", ""))
    if validator is None:
        return "unknown_type"
    error = jsonschema.exceptions.best_match(validator.iter_errors(msg))
    if error is None:
        return None
    where = "/".join(str(p) for p in error.absolute_path) or "message"
    return f"{where}: {error.message}"[:200]
