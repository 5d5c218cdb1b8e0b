"""The dashboard web app over real HTTP, fed by a real broker and simulated rooms."""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from roomctl.central.config import AlertConfig, RoomEntry, apply_settings
from roomctl.central.service import CentralService
from roomctl.central.simroom import SimRoom
from roomctl.central.simulator import Simulator
from roomctl.central.web import run_web
from tests.central.conftest import central_config
from tests.central.harness import PASSWORDS, USERS
from tests.support.real import async_wait_for

ROOMS = ("rc-webt00000", "rc-webt00001")


Stack = tuple[CentralService, str, Simulator]


@pytest.fixture
async def stack(mosquitto: Any, tmp_path: Path) -> AsyncIterator[Stack]:
    """Service + web + two simulated rooms."""
    rooms = tuple(RoomEntry(d, "Espoo", "Koulu A", f"10{i}") for i, d in enumerate(ROOMS))
    config = replace(central_config(mosquitto, f"sqlite://{tmp_path}/w.db"), users=USERS,
                     rooms=rooms)
    svc = CentralService(config)
    await svc.start()
    await async_wait_for(svc.connected.is_set, 10)
    sim = Simulator(mosquitto.url, 2, speed=1, outages=False, prefix="rc-webt")
    await sim.start()
    async with run_web(svc, port=0) as port:
        await async_wait_for(lambda: all(svc.fleet.devices.get(d) for d in ROOMS), 10)
        yield svc, f"http://127.0.0.1:{port}", sim
    await sim.stop(decommission=True)
    await svc.stop()


async def login(session: aiohttp.ClientSession, base: str, user: str) -> str:
    """Log in and return the page's CSRF token."""
    async with session.post(f"{base}/login", data={"user": user, "password": PASSWORDS[user]}) as r:
        text = await r.text()
        assert r.status == 200 and r.url.path == "/", text
    match = re.search(r'name="csrf" value="([^"]+)"', text)
    assert match
    return match.group(1)


async def test_login_required_and_wrong_password_refused(stack: Any) -> None:
    _svc, base, _sim = stack
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as s:
        async with s.get(f"{base}/") as r:
            assert r.url.path == "/login"
            assert "default-src 'self'" in r.headers["Content-Security-Policy"]
            assert r.headers["Server"] == "roomctl-dashboard"
        async with s.get(f"{base}/static/no-such.css") as r:  # error pages carry them too
            assert r.status == 404
            assert "frame-ancestors 'none'" in r.headers["Content-Security-Policy"]
        async with s.post(f"{base}/login", data={"user": "ivo", "password": "nope"}) as r:
            assert r.status == 401
        async with s.get(f"{base}/live") as r:
            assert r.status == 401


async def test_pages_render_in_three_languages(stack: Any) -> None:
    _svc, base, _sim = stack
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as s:
        await login(s, base, "ivo")
        for path in ("/", "/attention", f"/room/{ROOMS[0]}", "/analytics", "/enrol",
                     "/settings", "/audit"):
            async with s.get(f"{base}{path}?lang=sv") as r:
                assert r.status == 200, path
                assert '<html lang="sv">' in await r.text()
        async with s.get(f"{base}/?lang=fi") as r:
            assert "Tilat" in await r.text()
        async with s.get(f"{base}/analytics.csv") as r:
            lines = (await r.text()).splitlines()
            assert lines[0].startswith("week_start,town,school,room")
            assert len(lines) == 1 + 4 * len(ROOMS)
    async with aiohttp.ClientSession() as fresh:  # no cookie yet: the browser's choice
        swedish_not = {"Accept-Language": "sv;q=0, fi-FI;q=0.8, en;q=0.5"}
        async with fresh.get(f"{base}/login", headers=swedish_not) as r:
            assert '<html lang="fi">' in await r.text()


async def test_viewer_cannot_command_and_csrf_is_checked(stack: Any) -> None:
    _svc, base, _sim = stack
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as s:
        token = await login(s, base, "vera")
        async with s.post(f"{base}/room/{ROOMS[0]}/action",
                          data={"csrf": token, "action": "power_off"}) as r:
            assert r.status == 403
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as s:
        await login(s, base, "kaisa")
        async with s.post(f"{base}/room/{ROOMS[0]}/action", data={"action": "power_off"}) as r:
            assert r.status == 400  # no form token


async def test_command_round_trip_with_result_and_audit(stack: Any) -> None:
    svc, base, sim = stack
    sim.act(ROOMS[0], SimRoom.start_cast)
    await async_wait_for(lambda: svc.fleet.status(ROOMS[0], time.time()) == "casting", 10)
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as s:
        token = await login(s, base, "kaisa")
        async with s.post(f"{base}/school/action",
                          data={"csrf": token, "action": "power_off", "school": "Koulu A"}) as r:
            assert r.status == 200
    await async_wait_for(lambda: not sim.rooms[ROOMS[0]].power, 10, "projector off")

    async def all_ok() -> bool:
        return [c[6] for c in await svc.store.commands()] == ["ok", "ok"]

    await async_wait_for(all_ok, 10, "results")
    await async_wait_for(lambda: svc.fleet.status(ROOMS[0], time.time()) == "idle", 10)
    log = await svc.store.audit_log()
    assert {(r[1], r[2], r[3]) for r in log} == {("kaisa", "cmd:projector.power", d) for d in ROOMS}


async def test_cfg_push_is_applied_and_reported(stack: Any) -> None:
    svc, base, sim = stack
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as s:
        token = await login(s, base, "ivo")
        form = {"csrf": token, "offline_after_min": "15", "lamp_pct_warn": "80",
                "filter_pct_warn": "90", "business_start": "08:00", "business_end": "16:00",
                "nightly_off": "21:30"}
        async with s.post(f"{base}/settings", data=form) as r:
            assert r.status == 200
        await async_wait_for(lambda: all(sim.rooms[d].cfg_version == 1 for d in ROOMS), 10)
        await async_wait_for(lambda: all((svc.fleet.devices[d].state or {}).get("cfg_version")
                                         == 1 for d in ROOMS), 10, "reported in state")
        async with s.get(f"{base}/settings?lang=en") as r:
            assert "applied by 2 of 2 rooms" in await r.text()
        async with s.post(f"{base}/settings", data={**form, "business_end": "25:00"}) as r:
            assert r.status == 400
    assert svc.fleet.cfg.lamp_pct_warn == 80
    await svc.stop()  # a restart keeps what IT set on the page over the config file's values
    again = CentralService(svc.config)
    await again.start()
    try:
        assert again.fleet.cfg.lamp_pct_warn == 80 and again.fleet.cfg.nightly_off == "21:30"
        assert again.fleet.cfg.business_end == "16:00"
    finally:
        await again.stop()


def test_a_bad_saved_setting_is_skipped_and_the_rest_apply() -> None:
    alerts = AlertConfig()
    saved = {"lamp_pct_warn": 70, "nightly_off": "99:99", "filter_pct_warn": "90", "tz": "UTC",
             "business_end": "18:00"}
    applied, skipped = apply_settings(alerts, saved)
    assert (applied.lamp_pct_warn, applied.business_end) == (70, "18:00")
    assert (applied.nightly_off, applied.filter_pct_warn, applied.tz) == ("22:00", 90, alerts.tz)
    assert sorted(skipped) == ["filter_pct_warn", "nightly_off", "tz"]


async def test_enrol_unknown_device_ignores_its_claim(stack: Any, mosquitto: Any) -> None:
    svc, base, _sim = stack
    from tests.central.mqtt_helpers import Publisher, topic

    pub = Publisher(mosquitto)
    dev = "rc-webtnew01"
    pub.publish(topic(dev, "meta"), {"v": 1, "site": {"school": "Claimed"}})
    await async_wait_for(lambda: dev in svc.fleet.devices, 10)
    pub.close()
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as s:
        token = await login(s, base, "ivo")
        async with s.get(f"{base}/enrol") as r:
            assert dev in await r.text()
        data = {"csrf": token, "device": dev, "town": "Espoo", "school": "Koulu B", "room": "7"}
        async with s.post(f"{base}/enrol", data=data) as r:
            assert r.status == 200
    assert svc.fleet.places[dev] == ("Espoo", "Koulu B", "7")
