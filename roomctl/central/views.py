"""HTML of the dashboard pages (server-rendered; every string through the catalogues)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from html import escape
from typing import Any
from zoneinfo import ZoneInfo

from roomctl.central.auth import allowed
from roomctl.central.fleet import STATUSES, Alert, Fleet
from roomctl.central.i18n import LANGUAGES, translate

CMD_STATUSES = ("sent", "ok", "rejected", "expired", "duplicate", "error", "unsupported",
                "noanswer")


@dataclass(frozen=True)
class Ctx:
    """Who is looking, in which language, and the form token of their session."""

    lang: str
    user: str = ""
    role: str = ""
    csrf: str = ""
    tz: str = "Europe/Helsinki"

    def t(self, key: str, **params: Any) -> str:
        """Translated and HTML-escaped."""
        return escape(translate(self.lang, key, **params))

    def when(self, ts: float | None) -> str:
        """A local date and time."""
        if not ts:
            return "–"
        return datetime.fromtimestamp(ts, ZoneInfo(self.tz)).strftime("%Y-%m-%d %H:%M")


def layout(ctx: Ctx, title: str, body: str) -> str:
    """The page shell: skip link, header navigation, language switch, main landmark."""
    nav = ""
    if ctx.user:
        links = [("/", "nav.estate", "view"), ("/attention", "nav.attention", "view"),
                 ("/analytics", "nav.analytics", "view"), ("/enrol", "nav.enrol", "enrol"),
                 ("/settings", "nav.settings", "cfg"), ("/audit", "nav.audit", "audit")]
        items = "".join(f'<a href="{h}">{ctx.t(k)}</a>' for h, k, perm in links
                        if allowed(ctx.role, perm))
        nav = (f'<nav aria-label="{ctx.t("app.title")}">{items}</nav>'
               f'<form class="inline" method="post" action="/logout">{csrf_field(ctx)}'
               f'<button type="submit">{ctx.t("nav.logout")} ({escape(ctx.user)})</button></form>')
    langs = " ".join(f'<a href="?lang={lang}" lang="{lang}" hreflang="{lang}">{lang}</a>'
                     for lang in LANGUAGES)
    labels = " ".join(f'data-l-{s}="{ctx.t("status." + s)}"' for s in STATUSES)
    labels += " " + " ".join(f'data-c-{s}="{ctx.t("cmd.status." + s)}"' for s in CMD_STATUSES)
    return (f'<!doctype html><html lang="{ctx.lang}"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{escape(title)} – {ctx.t('app.title')}</title>"
            f'<link rel="stylesheet" href="/static/dashboard.css"></head><body>'
            f'<a class="skip" href="#main">{ctx.t("nav.skip")}</a>'
            f"<header><strong>{ctx.t('app.title')}</strong>{nav}"
            f'<span>{ctx.t("nav.language")}: {langs}</span></header>'
            f'<main id="main" tabindex="-1" {labels}><h1>{escape(title)}</h1>{body}</main>'
            f'<script src="/static/live.js"></script></body></html>')


def csrf_field(ctx: Ctx) -> str:
    """The hidden form token."""
    return f'<input type="hidden" name="csrf" value="{escape(ctx.csrf)}">'


def login_page(ctx: Ctx, error: str = "") -> str:
    """The login form."""
    err = f'<p class="error" role="alert">{ctx.t(error)}</p>' if error else ""
    body = (f'{err}<form method="post" action="/login">'
            f'<p><label for="user">{ctx.t("login.user")}</label>'
            f'<input id="user" name="user" autocomplete="username" required></p>'
            f'<p><label for="password">{ctx.t("login.password")}</label>'
            f'<input id="password" name="password" type="password" '
            f'autocomplete="current-password" required></p>'
            f'<p><button type="submit">{ctx.t("login.submit")}</button></p></form>')
    return layout(ctx, translate(ctx.lang, "login.title"), body)


def tile(ctx: Ctx, fleet: Fleet, room: str, device_id: str, now: float) -> str:
    """One room tile: colour and a text label, linking to the room page."""
    status = fleet.status(device_id, now)
    return (f'<li><a class="tile st-{status}" id="tile-{escape(device_id)}" '
            f'data-status="{status}" href="/room/{escape(device_id)}">'
            f'<span class="room">{escape(room)}</span>'
            f'<span class="st">{ctx.t("status." + status)}</span></a></li>')


def school_actions(ctx: Ctx, school: str) -> str:
    """Power off a school and message its displays."""
    if not allowed(ctx.role, "command"):
        return ""
    s = escape(school)
    field_id = f"msg-{abs(hash(school))}"
    return (f'<form class="inline" method="post" action="/school/action">{csrf_field(ctx)}'
            f'<input type="hidden" name="school" value="{s}">'
            f'<button name="action" value="power_off">{ctx.t("school.poweroff", school=school)}'
            f"</button></form> "
            f'<form class="inline" method="post" action="/school/action">{csrf_field(ctx)}'
            f'<input type="hidden" name="school" value="{s}"><input type="hidden" name="action" '
            f'value="message"><label for="{field_id}">{ctx.t("school.message", school=school)}'
            f'</label><input id="{field_id}" name="text" maxlength="200" required>'
            f'<button type="submit">{ctx.t("action.send")}</button></form>')


def estate_page(ctx: Ctx, fleet: Fleet, now: float) -> str:
    """Town → school → room tiles."""
    tree = fleet.tree()
    if not tree:
        return layout(ctx, translate(ctx.lang, "estate.title"), f"<p>{ctx.t('estate.empty')}</p>")
    parts = []
    for town, schools in tree.items():
        parts.append(f"<section><h2>{escape(town)}</h2>")
        for school, rooms in schools.items():
            online = sum(1 for _r, d in rooms if fleet.status(d, now) != "offline")
            tiles = "".join(tile(ctx, fleet, r, d, now) for r, d in rooms)
            parts.append(f"<section><h3>{escape(school)}</h3>"
                         f"<p>{ctx.t('estate.counts', online=online, total=len(rooms))}</p>"
                         f'<ul class="tiles">{tiles}</ul>{school_actions(ctx, school)}</section>')
        parts.append("</section>")
    return layout(ctx, translate(ctx.lang, "estate.title"), "".join(parts))


def alert_text(ctx: Ctx, alert: Alert) -> str:
    """The translated line of an alert."""
    key = f"alert.{alert.kind}"
    if alert.kind in ("lamp", "filter") and alert.params.get("days") is None:
        key += "_nodate"
    return ctx.t(key, **alert.params)


def place_name(fleet: Fleet, device_id: str) -> str:
    """``School / room`` of a device, or its id."""
    place = fleet.places.get(device_id)
    return f"{place[1]} / {place[2]}" if place else device_id


def attention_page(ctx: Ctx, fleet: Fleet, now: float) -> str:
    """The needs-attention list with acknowledge buttons."""
    alerts = fleet.all_alerts(now)
    if not alerts:
        return layout(ctx, translate(ctx.lang, "attention.title"),
                      f"<p>{ctx.t('attention.none')}</p>")
    rows = []
    for a in alerts:
        if a.acked_by:
            action = f'<span class="acked">{ctx.t("attention.acked", user=a.acked_by)}</span>'
        elif allowed(ctx.role, "ack"):
            action = (f'<form method="post" action="/attention/ack">{csrf_field(ctx)}'
                      f'<input type="hidden" name="device" value="{escape(a.device_id)}">'
                      f'<input type="hidden" name="kind" value="{escape(a.kind)}">'
                      f'<input type="hidden" name="key" value="{escape(a.key)}">'
                      f'<button type="submit">{ctx.t("attention.ack")}</button></form>')
        else:
            action = ""
        rows.append(f'<tr data-kind="{escape(a.kind)}"><td><a href="/room/{escape(a.device_id)}">'
                    f"{escape(place_name(fleet, a.device_id))}</a></td>"
                    f"<td>{alert_text(ctx, a)}</td><td>{ctx.when(a.since)}</td>"
                    f"<td>{action}</td></tr>")
    head = "".join(f"<th scope=\"col\">{ctx.t(k)}</th>" for k in
                   ("attention.room", "attention.what", "attention.since", "attention.ack"))
    table = f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    return layout(ctx, translate(ctx.lang, "attention.title"), table)


def table(ctx: Ctx, heads: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """A table whose cells are already HTML."""
    head = "".join(f'<th scope="col">{ctx.t(h)}</th>' for h in heads)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def cmd_status(status: str, issued: float, expiry_s: int, now: float) -> str:
    """A command's shown status: the device's answer, or "noanswer" once it expired unanswered."""
    if status not in CMD_STATUSES:
        return "error"
    return "noanswer" if status == "sent" and now > issued + expiry_s else status


def room_actions(ctx: Ctx, device_id: str) -> str:
    """The command forms of a room page."""
    if not allowed(ctx.role, "command"):
        return ""
    d = escape(device_id)
    buttons = "".join(f'<button name="action" value="{a}">{ctx.t("room." + a)}</button> '
                      for a in ("power_off", "power_on", "stop_shares"))
    return (f"<h2>{ctx.t('room.actions')}</h2>"
            f'<form class="box" method="post" action="/room/{d}/action">{csrf_field(ctx)}'
            f"{buttons}</form>"
            f'<form class="box" method="post" action="/room/{d}/action">{csrf_field(ctx)}'
            f'<input type="hidden" name="action" value="message">'
            f'<label for="text">{ctx.t("room.message")}</label>'
            f'<input id="text" name="text" maxlength="200" required> '
            f'<button type="submit">{ctx.t("action.send")}</button></form>')


def room_page(ctx: Ctx, fleet: Fleet, device_id: str, now: float, events: Sequence[Any],
              gaps: Sequence[Any], commands: Sequence[Any], expiry_s: int) -> str:
    """One room: status, projector, config, actions, commands, gaps and timeline."""
    dev = fleet.devices.get(device_id)
    place = fleet.places.get(device_id)
    title = translate(ctx.lang, "room.title", room=place[2] if place else device_id)
    status = fleet.status(device_id, now)
    state = (dev.state if dev else None) or {}
    proj = state.get("projector") or {}
    pushed = fleet.cfg_pushed.get(device_id)
    reported = state.get("cfg_version")
    cfg = escape(str(reported if reported is not None else "–"))
    if pushed is not None:
        cfg += (f" ({ctx.t('room.cfg_applied')})" if reported == pushed
                else f" ({ctx.t('room.cfg_pending', version=pushed)})")
    facts = [
        (escape(place_name(fleet, device_id)) if place else ctx.t("room.unplaced"),
         f'<span id="room-status" data-id="{escape(device_id)}" data-status="{status}">'
         f'{ctx.t("status." + status)}</span>'),
        (ctx.t("room.last_seen"), ctx.when(dev.last_seen if dev else None)),
        (ctx.t("room.projector"), escape(str(proj.get("power", "–")))),
        (ctx.t("room.lamp"),
         escape(f"{proj.get('lamp_hours', '–')} / {proj.get('lamp_rated', '–')}")),
        (ctx.t("room.filter"),
         escape(f"{proj.get('filter_hours', '–')} / {proj.get('filter_rated', '–')}")),
        (ctx.t("room.cfg"), f'<span id="cfg-state">{cfg}</span>'),
    ]
    body = "<dl>" + "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in facts) + "</dl>"
    body += "".join(f"<p>{alert_text(ctx, a)}</p>" for a in fleet.alerts(device_id, now))
    body += room_actions(ctx, device_id)
    cmd_rows = [(ctx.when(c[4]), escape(c[2]), escape(c[5]),
                 f'<span id="cmd-{escape(c[0])}" data-status="'
                 f'{cmd_status(c[6], c[4], expiry_s, now)}">'
                 f'{ctx.t("cmd.status." + cmd_status(c[6], c[4], expiry_s, now))}</span>')
                for c in commands]
    body += f"<h2>{ctx.t('room.commands')}</h2>"
    body += table(ctx, ("room.time", "cmd.name", "cmd.by", "cmd.status"), cmd_rows)
    body += f"<h2>{ctx.t('room.gaps')}</h2>"
    items = "".join(f"<li>{ctx.t('room.gap', boot=g[0][:8], first=g[1], last=g[2])}</li>"
                    for g in gaps)
    body += f"<ul>{items}</ul>" if gaps else f"<p>{ctx.t('room.nogaps')}</p>"
    timeline = [(ctx.when(e[0]), escape(e[1]), escape(_short(e[2]))) for e in events]
    body += f"<h2>{ctx.t('room.timeline')}</h2>"
    body += table(ctx, ("room.time", "room.event", "audit.detail"), timeline)
    return layout(ctx, title, body)


def _short(text: Any) -> str:
    try:
        data = json.loads(text) if isinstance(text, str) else text
    except ValueError:
        return ""
    return ", ".join(f"{k}={v}" for k, v in (data or {}).items())[:120]


def enrol_page(ctx: Ctx, fleet: Fleet) -> str:
    """Devices seen but not placed, each with a placement form."""
    unknown = fleet.unknown()
    if not unknown:
        return layout(ctx, translate(ctx.lang, "enrol.title"), f"<p>{ctx.t('enrol.none')}</p>")
    rows = []
    for i, dev in enumerate(unknown):
        claim = escape(json.dumps((dev.meta or {}).get("site", ""))) if dev.meta else "–"
        inputs = "".join(
            f'<label for="{f}-{i}">{ctx.t("enrol." + f)}</label>'
            f'<input id="{f}-{i}" name="{f}" required maxlength="80"> '
            for f in ("town", "school", "room"))
        form = (f'<form method="post" action="/enrol">{csrf_field(ctx)}'
                f'<input type="hidden" name="device" value="{escape(dev.device_id)}">{inputs}'
                f'<button type="submit">{ctx.t("enrol.submit")}</button></form>')
        rows.append((escape(dev.device_id), ctx.when(dev.first_seen), claim, form))
    return layout(ctx, translate(ctx.lang, "enrol.title"),
                  table(ctx, ("enrol.device", "enrol.first_seen", "enrol.claim", "enrol.submit"),
                        rows))


def audit_page(ctx: Ctx, rows: Sequence[Any], results: dict[str, str]) -> str:
    """Who did what, when, with which result."""
    cells = [(ctx.when(r[0]), escape(r[1]), escape(r[2]), escape(r[3]), escape(r[4][:120]),
              escape(results.get(r[5], "")) if r[5] else "") for r in rows]
    heads = ("audit.when", "audit.who", "audit.what", "audit.target", "audit.detail",
             "audit.result")
    return layout(ctx, translate(ctx.lang, "audit.title"), table(ctx, heads, cells))


def settings_page(ctx: Ctx, values: dict[str, Any], note: str) -> str:
    """Thresholds and schedule, pushed as retained cfg."""
    fields = (("offline_after_min", "settings.offline", "number"),
              ("lamp_pct_warn", "settings.lamp", "number"),
              ("filter_pct_warn", "settings.filter", "number"),
              ("business_start", "settings.start", "time"),
              ("business_end", "settings.end", "time"),
              ("nightly_off", "settings.nightly", "text"))
    inputs = "".join(f'<p><label for="{k}">{ctx.t(label)}</label><input id="{k}" name="{k}" '
                     f'type="{kind}" value="{escape(str(values[k]))}"></p>'
                     for k, label, kind in fields)
    body = (f'<p role="status">{escape(note)}</p>' if note else "") + (
        f'<form method="post" action="/settings">{csrf_field(ctx)}{inputs}'
        f'<p><button type="submit">{ctx.t("settings.submit")}</button></p></form>')
    return layout(ctx, translate(ctx.lang, "settings.title"), body)


def error_page(ctx: Ctx, key: str) -> str:
    """A short error page."""
    return layout(ctx, translate(ctx.lang, key), "")


Renderer = Callable[..., str]
__all__ = ["Ctx", "time"]
