"""The aiohttp application factory: pages, the JSON API, the WebSocket, middleware."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web

from roomctl.http import api
from roomctl.http.auth import auth_middleware, is_display_host
from roomctl.http.keys import CONFIG, ROOM, WS_HANDLERS
from roomctl.http.middleware import error_middleware, on_prepare, quiet_malformed_requests
from roomctl.http.openapi import document
from roomctl.http.pages import add_pages
from roomctl.http.routes import Route, RouteTable
from roomctl.http.ws import HUB, Hub, handle_get_ws
from roomctl.roles import Role
from roomctl.room import Room

WS_ROUTES = RouteTable()
WS_ROUTES.route("GET", "/api/v1/ws", *Role, summary="Live updates and signalling (WebSocket)")(
    handle_get_ws
)


TABLES = web.AppKey("route_tables", list[RouteTable])


def all_routes(app: web.Application) -> list[Route]:
    """Every declared API route of ``app``."""
    return [r for table in app[TABLES] for r in table.routes]


async def _handle_openapi(request: web.Request) -> web.Response:
    return web.json_response(document(all_routes(request.app)))


async def _hub_ctx(app: web.Application) -> AsyncIterator[None]:
    await app[HUB].start()
    yield
    await app[HUB].stop()


async def _close_sockets(app: web.Application) -> None:
    """On shutdown, before aiohttp waits for running handlers: a WebSocket handler runs until
    its socket closes, so without this every open page (the kiosk's, always) held a stop up."""
    await app[HUB].stop()


async def _handle_healthz(request: web.Request) -> web.Response:
    return web.json_response({"ok": True})


@web.middleware
async def https_redirect(request: web.Request, handler: Any) -> web.StreamResponse:
    """With TLS configured, plain HTTP moves to HTTPS, except for the kiosk's own view."""
    if request.secure or is_display_host(request) or request.path == "/healthz":
        return await handler(request)
    port = request.app[CONFIG].web.tls_port
    host = request.url.host or "localhost"
    netloc = f"[{host}]" if ":" in host else host
    raise web.HTTPPermanentRedirect(
        f"https://{netloc}{'' if port == 443 else f':{port}'}{request.path_qs}"
    )


def make_app(room: Room, *, extra: list[RouteTable] | None = None) -> web.Application:
    """The appliance's web application for ``room``."""
    config = room.config
    quiet_malformed_requests()
    middlewares: list[Any] = [error_middleware, auth_middleware]
    if config.web.tls_cert:
        middlewares.insert(0, https_redirect)
    app = web.Application(
        middlewares=middlewares,
        client_max_size=config.web.max_request_kb * 1024,
    )
    app[ROOM] = room
    app[CONFIG] = config
    app[WS_HANDLERS] = {}
    app[HUB] = Hub(app)
    app[TABLES] = [api.API, WS_ROUTES, *(extra or [])]
    for table in app[TABLES]:
        table.add_to(app)
    app.router.add_get("/api/v1/openapi.json", _handle_openapi)
    app.router.add_get("/healthz", _handle_healthz)
    add_pages(app)
    app.on_response_prepare.append(on_prepare)
    app.cleanup_ctx.append(_hub_ctx)
    app.on_shutdown.append(_close_sockets)
    return app
