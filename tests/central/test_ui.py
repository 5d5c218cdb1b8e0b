"""End to end in headless Chromium: log in, live casting tile, power off with result, charts,
axe-core and keyboard-only use."""

from __future__ import annotations

import struct
import time
import zlib
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from roomctl.central import charts as charts_mod
from roomctl.central.config import RoomEntry
from roomctl.central.simroom import SimRoom
from tests.central.conftest import central_config
from tests.central.harness import PASSWORDS, USERS, Dashboard
from tests.support.real import wait_for

ROOMS = ("rc-uit00000", "rc-uit00001", "rc-uit00002")


@pytest.fixture
def dash(mosquitto: Any, tmp_path: Path) -> Iterator[Dashboard]:
    """Dashboard + three simulated rooms in a background loop, with two weeks of history."""
    rooms = tuple(RoomEntry(d, "Espoo", "Koulu A", f"20{i}") for i, d in enumerate(ROOMS))
    config = replace(central_config(mosquitto, f"sqlite://{tmp_path}/ui.db"), users=USERS,
                     rooms=rooms)
    with Dashboard(config, rooms=3, prefix="rc-uit") as d:
        assert d.sim is not None
        d.do(lambda: _history(d))
        svc = d.service
        assert svc is not None
        wait_for(lambda: svc.stats["events_new"] >= 40, 10, "history stored")
        yield d


def _history(d: Dashboard) -> None:
    """Lessons on past weekdays at 9:00 local, published with their original timestamps."""
    assert d.sim is not None
    day = 86400
    base = time.time() - 14 * day
    for i, device_id in enumerate(ROOMS):
        room = SimRoom(device_id, boot_id="history")
        for n in range(14):
            t = base + n * day + i * 3600
            messages = room.set_power(t, True) + room.start_cast(t + 60)
            messages += room.stop_cast(t + 60 + 1800) + room.set_power(t + 2700, False)
            d.sim.send(device_id, [m for m in messages if "/evt/" in m[0]])


def png_colours(png: bytes) -> set[tuple[int, ...]]:
    """The distinct pixel colours of an 8-bit RGB/RGBA PNG (stdlib only, PNG spec §9 filters)."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    data, pos, width, bpp = b"", 8, 0, 3
    while pos < len(png):
        length, kind = struct.unpack(">I4s", png[pos : pos + 8])
        body = png[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, bpp = struct.unpack(">I", body[:4])[0], 4 if body[9] == 6 else 3
        elif kind == b"IDAT":
            data += body
        pos += 12 + length
    raw, stride, prev, colours = zlib.decompress(data), width * bpp, bytearray(width * bpp), set()
    for row in range(len(raw) // (stride + 1)):
        at = row * (stride + 1)
        f, line = raw[at], bytearray(raw[at + 1 : at + 1 + stride])
        for i in range(stride):
            a, b = line[i - bpp] if i >= bpp else 0, prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            pred = {0: 0, 1: a, 2: b, 3: (a + b) // 2}.get(f)
            if pred is None:  # Paeth
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else b if pb <= pc else c
            line[i] = (line[i] + pred) & 0xFF
        colours |= {tuple(line[i : i + 3]) for i in range(0, stride, bpp)}
        prev = line
    return colours


def _login(page: Any, base: str, user: str) -> None:
    page.goto(f"{base}/login?lang=en")
    page.fill("#user", user)
    page.fill("#password", PASSWORDS[user])
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")


def test_live_casting_tile_and_power_off_result(dash: Dashboard, browser: Any) -> None:
    context = browser.new_context()
    page = context.new_page()
    try:
        _login(page, dash.url, "kaisa")
        tile = page.locator(f"#tile-{ROOMS[1]}")
        assert tile.get_attribute("data-status") == "idle"
        page.wait_for_function("() => window.EventSource !== undefined")
        started = time.monotonic()
        assert dash.sim is not None
        dash.do(lambda: dash.sim.act(ROOMS[1], SimRoom.start_cast))  # type: ignore[union-attr]
        page.wait_for_selector(f"#tile-{ROOMS[1]}[data-status=casting]", timeout=5000)
        assert time.monotonic() - started < 1.0 + 0.5  # within 1 s (plus the test's own polling)
        assert tile.inner_text().endswith("Casting")
        tile.click()
        page.wait_for_url(f"**/room/{ROOMS[1]}")
        page.click("button[value=power_off]")
        page.wait_for_selector("[id^=cmd-][data-status=ok]", timeout=5000)
        page.reload()
        assert page.locator("#room-status").get_attribute("data-status") == "idle"
    finally:
        context.close()


def test_charts_render_and_pages_pass_axe(dash: Dashboard, browser: Any) -> None:
    from axe_playwright_python.sync_playwright import Axe

    context = browser.new_context(viewport={"width": 1000, "height": 1400})
    page = context.new_page()
    try:
        _login(page, dash.url, "ivo")
        page.goto(f"{dash.url}/analytics?school=Koulu+A")
        charts = page.locator("svg.chart")
        assert charts.count() == 4
        shot = charts.nth(1).screenshot()  # the heatmap
        heat = [tuple(bytes.fromhex(c[1:])) for c in charts_mod.HEAT]
        colours = png_colours(shot)
        assert heat[0] in colours, "no empty cells: the heatmap did not render"
        assert colours & set(heat[1:]), "heatmap screenshot shows no usage"
        assert page.locator("svg.chart rect[fill='#1f5fa8']").count() >= 3  # bars drawn
        axe = Axe()
        pages = [(p, "en") for p in ("/attention", f"/room/{ROOMS[0]}", "/analytics", "/enrol",
                                      "/settings", "/audit")]
        for path, lang in [*pages, ("/", "fi"), ("/", "sv"), ("/", "en")]:
            page.goto(f"{dash.url}{path}?lang={lang}")
            result = axe.run(page)
            assert result.violations_count == 0, (path, lang, result.generate_report())
    finally:
        context.close()


def test_keyboard_only_login_and_power_off(dash: Dashboard, browser: Any) -> None:
    context = browser.new_context()
    page = context.new_page()
    try:
        page.goto(f"{dash.url}/login?lang=en")
        page.keyboard.press("Tab")  # the skip link
        assert page.evaluate("document.activeElement.className") == "skip"
        page.focus("#user")
        page.keyboard.type("kaisa")
        page.keyboard.press("Tab")
        page.keyboard.type(PASSWORDS["kaisa"])
        page.keyboard.press("Enter")
        page.wait_for_url(f"{dash.url}/")
        page.focus(f"#tile-{ROOMS[2]}")
        page.keyboard.press("Enter")
        page.wait_for_url(f"**/room/{ROOMS[2]}")
        page.focus("button[value=power_on]")
        page.keyboard.press("Enter")
        page.wait_for_selector("[id^=cmd-][data-status=ok]", timeout=5000)
        assert dash.sim is not None and dash.sim.rooms[ROOMS[2]].power
    finally:
        context.close()
