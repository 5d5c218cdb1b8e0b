"""The route table: every API route declares its method, path, roles and request schema.

The table drives registration, role enforcement (``roomctl.http.auth``) and the OpenAPI
document, so the three can never disagree.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from roomctl.roles import Role

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class Route:
    """One HTTP route and who may call it."""

    method: str
    path: str
    handler: Handler
    roles: frozenset[Role]
    summary: str
    body: dict[str, Any] | None = None  # JSON Schema of the request body
    tags: tuple[str, ...] = ("room",)
    responses: dict[str, str] = field(default_factory=dict)


class RouteTable:
    """Routes collected by the ``route`` decorator of each API module."""

    def __init__(self) -> None:
        self.routes: list[Route] = []

    def route(
        self,
        method: str,
        path: str,
        *roles: Role,
        summary: str,
        body: dict[str, Any] | None = None,
        tags: tuple[str, ...] = ("room",),
    ) -> Callable[[Handler], Handler]:
        """Declare a route; ``roles`` empty means no one (a programming error)."""
        if not roles:
            raise ValueError(f"{method} {path} declares no role")

        def register(handler: Handler) -> Handler:
            self.routes.append(Route(method, path, handler, frozenset(roles), summary, body, tags))
            return handler

        return register

    def add_to(self, app: web.Application) -> None:
        """Register every route on ``app``; the handler remembers its roles."""
        for r in self.routes:
            app.router.add_route(r.method, r.path, r.handler, name=None)
            r.handler.roomctl_route = r  # type: ignore[attr-defined]


def route_of(handler: object) -> Route | None:
    """The declaration of a registered handler, if any."""
    return getattr(handler, "roomctl_route", None)


def obj(required: tuple[str, ...] = (), **props: dict[str, Any]) -> dict[str, Any]:
    """A JSON Schema object with no extra properties."""
    return {
        "type": "object",
        "properties": props,
        "required": list(required),
        "additionalProperties": False,
    }


def string(max_length: int = 200, **extra: Any) -> dict[str, Any]:
    """A JSON Schema string."""
    return {"type": "string", "maxLength": max_length, **extra}
