"""Typed application keys: the only way handlers reach shared objects."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from roomctl.config.model import Config
from roomctl.roles import Role
from roomctl.room import Room
from roomctl.sessions import Session

WsHandler = Callable[[Any, dict[str, Any]], Awaitable[None]]

ROOM = web.AppKey("room", Room)
CONFIG = web.AppKey("config", Config)
# WebSocket message handlers by message type, added by services such as casting.
WS_HANDLERS = web.AppKey("ws_handlers", dict[str, WsHandler])

# Per-request values set by the auth middleware.
SESSION: web.RequestKey[Session | None] = web.RequestKey("session", Session)
ROLES = web.RequestKey("roles", frozenset[Role])
