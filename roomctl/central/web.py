"""The dashboard's aiohttp app: login, estate, attention, rooms, usage, actions, live push."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import secrets
import time
from collections import defaultdict, deque
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from aiohttp import web

from roomctl.central import charts, reports, views
from roomctl.central.auth import allowed, verify_password
from roomctl.central.config import EDITABLE_ALERTS, setting_value
from roomctl.central.i18n import LANGUAGES, pick, translate
from roomctl.central.service import CentralService
from roomctl.resources import web_dir

logger = logging.getLogger(__name__)

SERVICE = web.AppKey("service", CentralService)
FAILS = web.AppKey("login_failures", dict)
SESSION = web.RequestKey("session", str)
USER = web.RequestKey("user", str)
ROLE = web.RequestKey("role", str)
COOKIE = "rc_central"
PUBLIC = ("/login", "/static/", "/healthz")
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
LOGIN_FAILS_MAX = 5
LOGIN_WINDOW_S = 60.0
TEXT_MAX = 200
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def csrf_token(session: str) -> str:
    """The form token of a session (derived; the session cookie itself is HttpOnly)."""
    return hashlib.sha256(f"csrf:{session}".encode()).hexdigest()[:32]


def ctx(request: web.Request) -> views.Ctx:
    """The rendering context of a request."""
    service = request.app[SERVICE]
    lang = pick(request.query.get("lang"), request.cookies.get("lang"),
                request.headers.get("Accept-Language", ""))
    token = request.get(SESSION, "")
    return views.Ctx(lang, request.get(USER, ""), request.get(ROLE, ""),
                     csrf_token(token) if token else "", service.fleet.cfg.tz)


def html(request: web.Request, body: str, status: int = 200) -> web.Response:
    """An HTML response, remembering an explicit language choice."""
    resp = web.Response(text=body, content_type="text/html", status=status)
    lang = request.query.get("lang")
    if lang in LANGUAGES:
        resp.set_cookie("lang", lang, max_age=365 * 86400, samesite="Strict", httponly=True)
    return resp


async def security(request: web.Request, resp: web.StreamResponse) -> None:
    """Security headers on every response, error pages included; no versions in ``Server``."""
    resp.headers.setdefault("Content-Security-Policy", CSP)
    resp.headers.setdefault("X-Content-Type-Options", "nosniff")
    resp.headers.setdefault("Referrer-Policy", "no-referrer")
    resp.headers["Server"] = "roomctl-dashboard"


@web.middleware
async def authenticate(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Session cookie → user and role; POSTs must carry the session's form token."""
    if request.path.startswith(PUBLIC):
        return await handler(request)
    token = request.cookies.get(COOKIE, "")
    found = await request.app[SERVICE].store.session(token, time.time()) if token else None
    if found is None:
        if request.path == "/live":
            raise web.HTTPUnauthorized()
        raise web.HTTPSeeOther("/login")
    request[SESSION], request[USER], request[ROLE] = token, found[0], found[1]
    if request.method == "POST":
        form = await request.post()
        if not secrets.compare_digest(str(form.get("csrf", "")), csrf_token(token)):
            return html(request, views.error_page(ctx(request), "error.bad_request"), 400)
    return await handler(request)


def require(request: web.Request, permission: str) -> None:
    """Refuse a request whose role lacks ``permission``."""
    if not allowed(request.get(ROLE, ""), permission):
        raise web.HTTPForbidden(text=translate(ctx(request).lang, "error.forbidden"))


# --- login ---

async def handle_get_login(request: web.Request) -> web.Response:
    """The login form."""
    return html(request, views.login_page(ctx(request)))


def _limited(request: web.Request) -> bool:
    fails: deque[float] = request.app[FAILS][request.remote or ""]
    while fails and fails[0] < time.monotonic() - LOGIN_WINDOW_S:
        fails.popleft()
    return len(fails) >= LOGIN_FAILS_MAX


async def handle_post_login(request: web.Request) -> web.Response:
    """Check the password (scrypt, off the loop) and start a session."""
    if _limited(request):
        return html(request, views.login_page(ctx(request), "login.limited"), 429)
    form = await request.post()
    name, password = str(form.get("user", ""))[:80], str(form.get("password", ""))[:200]
    service = request.app[SERVICE]
    user = next((u for u in service.config.users if u.name == name), None)
    ok = user is not None and await asyncio.to_thread(verify_password, password,
                                                      user.password_hash)
    if not ok or user is None:
        request.app[FAILS][request.remote or ""].append(time.monotonic())
        logger.info("failed login for a dashboard user")  # never the name or the password
        return html(request, views.login_page(ctx(request), "login.failed"), 401)
    token = secrets.token_urlsafe(32)
    hours = service.config.web.session_hours
    await service.store.put_session(token, user.name, user.role, time.time() + hours * 3600)
    resp = web.HTTPSeeOther("/")
    resp.set_cookie(COOKIE, token, max_age=hours * 3600, httponly=True, samesite="Strict")
    raise resp


async def handle_post_logout(request: web.Request) -> web.Response:
    """End the session."""
    await request.app[SERVICE].store.drop_session(request[SESSION])
    resp = web.HTTPSeeOther("/login")
    resp.del_cookie(COOKIE)
    raise resp


# --- pages ---

async def handle_get_estate(request: web.Request) -> web.Response:
    """Town → school → room tiles."""
    return html(request, views.estate_page(ctx(request), request.app[SERVICE].fleet, time.time()))


async def handle_get_attention(request: web.Request) -> web.Response:
    """The needs-attention list."""
    fleet = request.app[SERVICE].fleet
    return html(request, views.attention_page(ctx(request), fleet, time.time()))


async def handle_post_ack(request: web.Request) -> web.Response:
    """Acknowledge one alert."""
    require(request, "ack")
    form = await request.post()
    device, kind, key = (str(form.get(k, ""))[:100] for k in ("device", "kind", "key"))
    if device not in request.app[SERVICE].fleet.devices:
        raise web.HTTPBadRequest()
    await request.app[SERVICE].acknowledge(device, kind, key, request[USER])
    raise web.HTTPSeeOther("/attention")


async def handle_get_room(request: web.Request) -> web.Response:
    """One room's page."""
    service = request.app[SERVICE]
    device_id = request.match_info["device"]
    if device_id not in service.fleet.devices and device_id not in service.fleet.places:
        raise web.HTTPNotFound()
    store = service.store
    page = views.room_page(ctx(request), service.fleet, device_id, time.time(),
                           await store.events(device_id, 100), await store.gaps(device_id),
                           await store.commands(device_id, 30), service.config.command_expiry_s)
    return html(request, page)


def _command_for(action: str, form: Any) -> tuple[str, dict[str, Any]]:
    text = str(form.get("text", "")).strip()[:TEXT_MAX]
    table: dict[str, tuple[str, dict[str, Any]]] = {
        "power_off": ("projector.power", {"on": False}),
        "power_on": ("projector.power", {"on": True}),
        "stop_shares": ("room.stop_all_shares", {}),
        "message": ("display.message", {"text": text, "seconds": 60}),
    }
    if action not in table or (action == "message" and not text):
        raise web.HTTPBadRequest(text="unknown action")
    return table[action]


async def handle_post_room_action(request: web.Request) -> web.Response:
    """Send a command to one room."""
    require(request, "command")
    service = request.app[SERVICE]
    device_id = request.match_info["device"]
    if device_id not in service.fleet.devices:
        raise web.HTTPNotFound()
    form = await request.post()
    name, args = _command_for(str(form.get("action", "")), form)
    await service.command([device_id], name, args, request[USER])
    raise web.HTTPSeeOther(f"/room/{device_id}")


async def handle_post_school_action(request: web.Request) -> web.Response:
    """Send a command to every room of a school."""
    require(request, "command")
    service = request.app[SERVICE]
    form = await request.post()
    devices = service.fleet.school_devices(str(form.get("school", "")))
    if not devices:
        raise web.HTTPBadRequest(text="unknown school")
    name, args = _command_for(str(form.get("action", "")), form)
    await service.command(devices, name, args, request[USER])
    raise web.HTTPSeeOther("/")


async def handle_get_enrol(request: web.Request) -> web.Response:
    """Devices waiting to be placed."""
    require(request, "enrol")
    return html(request, views.enrol_page(ctx(request), request.app[SERVICE].fleet))


async def handle_post_enrol(request: web.Request) -> web.Response:
    """Place a device."""
    require(request, "enrol")
    form = await request.post()
    device = str(form.get("device", ""))
    town, school, room = (str(form.get(k, "")).strip()[:80] for k in ("town", "school", "room"))
    if device not in request.app[SERVICE].fleet.devices or not (town and school and room):
        raise web.HTTPBadRequest()
    await request.app[SERVICE].enrol(device, (town, school, room), request[USER])
    raise web.HTTPSeeOther("/enrol")


async def handle_get_audit(request: web.Request) -> web.Response:
    """The audit log with command results."""
    require(request, "audit")
    store = request.app[SERVICE].store
    results = {c[0]: c[6] for c in await store.commands(None, 1000)}
    return html(request, views.audit_page(ctx(request), await store.audit_log(), results))


def _settings_values(service: CentralService) -> dict[str, Any]:
    cfg = service.fleet.cfg
    return {k: getattr(cfg, k) for k in EDITABLE_ALERTS}


async def handle_get_settings(request: web.Request) -> web.Response:
    """Thresholds and schedule, with how many rooms applied the last push."""
    require(request, "cfg")
    service = request.app[SERVICE]
    pushed = service.fleet.cfg_pushed
    note = ""
    if pushed:
        version = max(pushed.values())
        applied = sum(1 for d in pushed if (service.fleet.devices.get(d) and (
            service.fleet.devices[d].state or {}).get("cfg_version") == version))
        note = translate(ctx(request).lang, "settings.pushed", version=version, applied=applied,
                         total=len(pushed))
    return html(request, views.settings_page(ctx(request), _settings_values(service), note))


async def handle_post_settings(request: web.Request) -> web.Response:
    """Validate, apply and push the settings to every placed room as retained cfg."""
    require(request, "cfg")
    service = request.app[SERVICE]
    form = await request.post()
    try:
        values: dict[str, Any] = {k: setting_value(v, str(form[k]))
                                  for k, v in _settings_values(service).items()}
    except (KeyError, ValueError):
        raise web.HTTPBadRequest(text="bad settings") from None
    new = await service.save_settings(values, request[USER])
    await service.push_cfg(sorted(service.fleet.places), cfg_body(new), request[USER])
    raise web.HTTPSeeOther("/settings")


def cfg_body(cfg: Any) -> dict[str, Any]:
    """The desired config rooms receive (§7 ``cfg``)."""
    schedules = []
    if cfg.nightly_off:
        hh, mm = cfg.nightly_off.split(":")
        schedules.append({"id": "nightly-off", "cron": f"{int(mm)} {int(hh)} * * *",
                          "action": "projector.off"})
    return {"tz": cfg.tz, "business_hours": {"mon-fri": [cfg.business_start, cfg.business_end]},
            "schedules": schedules,
            "thresholds": {"lamp_pct_warn": cfg.lamp_pct_warn,
                           "filter_pct_warn": cfg.filter_pct_warn}}


async def _report(request: web.Request) -> tuple[reports.Report, str]:
    service = request.app[SERVICE]
    school = request.query.get("school", "")
    devices = service.fleet.school_devices(school) if school else sorted(service.fleet.places)
    return await reports.build(service.store, service.fleet, devices, time.time()), school


async def handle_get_analytics(request: web.Request) -> web.Response:
    """Charts of usage for a school (or all)."""
    c = ctx(request)
    service = request.app[SERVICE]
    report, school = await _report(request)
    schools = sorted({p[1] for p in service.fleet.places.values()})
    options = "".join(f'<option value="{views.escape(s)}"{" selected" if s == school else ""}>'
                      f"{views.escape(s)}</option>" for s in schools)
    body = (f'<form method="get" action="/analytics"><label for="school">{c.t("analytics.school")}'
            f'</label><select id="school" name="school"><option value="">{c.t("analytics.all")}'
            f'</option>{options}</select> <button type="submit">{c.t("analytics.show")}</button>'
            f' <a href="/analytics.csv?school={views.escape(school)}">{c.t("analytics.csv")}</a>'
            f"</form>" + _charts(c, service, report))
    return html(request, views.layout(c, translate(c.lang, "analytics.title"), body))


def _charts(c: views.Ctx, service: CentralService, report: reports.Report) -> str:
    fleet = service.fleet
    devices = sorted({r.device_id for r in report.rows},
                     key=lambda d: views.place_name(fleet, d))
    labels = [views.place_name(fleet, d) for d in devices]
    by = {(r.week_start, r.device_id): r for r in report.rows}
    weeks = list(reversed(report.starts))  # newest first: the first bar is this week
    legend = [translate(c.lang, "analytics.week", date=c.when(w)[:10]) for w in weeks]
    hours = [[by[(w, d)].in_use_h for d in devices] for w in weeks]
    proj = [[sum(by[(w, d)].projector_h for w in weeks) for d in devices]]
    shares = [[float(sum(by[(w, d)].long_shares for w in weeks)) for d in devices]]
    days = translate(c.lang, "days").split(",")
    return (f"<h2>{c.t('analytics.hours')}</h2>"
            + charts.bars(translate(c.lang, "analytics.hours"), labels, hours, legend, "h")
            + f"<h2>{c.t('analytics.heatmap')}</h2>"
            + charts.heatmap(translate(c.lang, "analytics.heatmap"), report.heat, days)
            + f"<h2>{c.t('analytics.projector')}</h2>"
            + charts.bars(translate(c.lang, "analytics.projector"), labels, proj, [], "h")
            + f"<h2>{c.t('analytics.shares')}</h2>"
            + charts.bars(translate(c.lang, "analytics.shares"), labels, shares, [], ""))


async def handle_get_csv(request: web.Request) -> web.Response:
    """The usage table as CSV."""
    report, school = await _report(request)
    service = request.app[SERVICE]
    name = f"usage-{school or 'all'}.csv".replace('"', "")
    return web.Response(text=reports.to_csv(report, service.fleet, service.fleet.cfg.tz),
                        content_type="text/csv",
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})


async def handle_get_live(request: web.Request) -> web.StreamResponse:
    """Server-Sent Events: tile and command updates as they are stored."""
    service = request.app[SERVICE]
    resp = web.StreamResponse(headers={"Content-Type": "text/event-stream",
                                       "Cache-Control": "no-cache"})
    await resp.prepare(request)
    queue = service.listen()
    try:
        await resp.write(b": live\n\n")
        while True:
            try:
                update = await asyncio.wait_for(queue.get(), 15)
            except TimeoutError:
                await resp.write(b": keepalive\n\n")
                continue
            await resp.write(f"data: {json.dumps(update)}\n\n".encode())
    except (ConnectionResetError, asyncio.CancelledError):
        pass
    finally:
        service.unlisten(queue)
    return resp


async def handle_get_snapshot(request: web.Request) -> web.Response:
    """Every tile status, and a room's command results: what a page missed before /live."""
    service = request.app[SERVICE]
    now = time.time()
    tiles = {d: service.fleet.status(d, now) for d in service.fleet.places}
    room = request.query.get("room", "")
    expiry = service.config.command_expiry_s
    cmds = {c[0]: views.cmd_status(c[6], c[4], expiry, now)
            for c in await service.store.commands(room, 30)} if room else {}
    return web.json_response({"tiles": tiles, "cmds": cmds})


async def handle_get_health(request: web.Request) -> web.Response:
    """Liveness and ingest counters."""
    service = request.app[SERVICE]
    return web.json_response({"mqtt": service.connected.is_set(), **service.stats})


def make_app(service: CentralService) -> web.Application:
    """The dashboard app bound to a running service."""
    app = web.Application(middlewares=[authenticate], client_max_size=64 * 1024)
    app.on_response_prepare.append(security)
    app[SERVICE] = service
    app[FAILS] = defaultdict(deque)
    r = app.router
    r.add_get("/login", handle_get_login)
    r.add_post("/login", handle_post_login)
    r.add_post("/logout", handle_post_logout)
    r.add_get("/", handle_get_estate)
    r.add_get("/attention", handle_get_attention)
    r.add_post("/attention/ack", handle_post_ack)
    r.add_get("/room/{device}", handle_get_room)
    r.add_post("/room/{device}/action", handle_post_room_action)
    r.add_post("/school/action", handle_post_school_action)
    r.add_get("/enrol", handle_get_enrol)
    r.add_post("/enrol", handle_post_enrol)
    r.add_get("/settings", handle_get_settings)
    r.add_post("/settings", handle_post_settings)
    r.add_get("/audit", handle_get_audit)
    r.add_get("/analytics", handle_get_analytics)
    r.add_get("/analytics.csv", handle_get_csv)
    r.add_get("/live", handle_get_live)
    r.add_get("/healthz", handle_get_health)
    r.add_get("/api/snapshot", handle_get_snapshot)
    r.add_static("/static/", web_dir() / "central" / "static")
    return app


@contextlib.asynccontextmanager
async def run_web(service: CentralService, port: int | None = None) -> AsyncIterator[int]:
    """Serve the dashboard; yields the bound port (``port=0`` picks a free one)."""
    runner = web.AppRunner(make_app(service), shutdown_timeout=1)
    await runner.setup()
    site = web.TCPSite(runner, service.config.web.host,
                       service.config.web.port if port is None else port)
    await site.start()
    server = site._server
    sockets = getattr(server, "sockets", None) or []
    try:
        yield int(sockets[0].getsockname()[1]) if sockets else service.config.web.port
    finally:
        await runner.cleanup()
