"""The air-quality monitor (python-miio against the miIO emulator) and the CO₂ notice."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from roomctl.emulators.miio import running
from tests.browser.conftest import new_page
from tests.support.appliance import DISPLAY_KEY, ApplianceProcess, start_appliance
from tests.support.browser import until

TOKEN = "0123456789abcdef0123456789abcdef"
HOST = "127.0.0.7"


@pytest.fixture(scope="module")
def stuffy_room(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ApplianceProcess, Any]]:
    with running("airmonitor", HOST, TOKEN) as emulator:
        emulator.device.air["co2"] = 1450.0
        app = start_appliance(
            tmp_path_factory.mktemp("co2"),
            web={"display_hosts": []},
            devices=[{"id": "air", "type": "miio", "host": HOST, "token": TOKEN,
                      "model": "cgllc.airmonitor.s1", "role": "sensor", "poll_s": 1.0}],
            environment={"co2_threshold_ppm": 1000, "co2_sustain_min": 0.03},
        )  # fmt: skip
        yield app, emulator
        app.stop()


def test_sustained_co2_shows_a_gentle_notice_on_the_display(browser: Any, stuffy_room: Any) -> None:
    app, emulator = stuffy_room
    page = new_page(browser, viewport={"width": 1920, "height": 1080})
    page.goto(f"{app.url}/display?display_key={DISPLAY_KEY}&lang=fi")
    until(page, "document.getElementById('environment').textContent.includes('1450')", 20)
    until(page, "!document.getElementById('banner').hidden", 20)
    assert "tuuletetaanko" in page.inner_text("#banner")
    assert page.get_attribute("#banner", "data-kind") == "notice"
    emulator.device.air["co2"] = 700.0
    until(page, "document.getElementById('banner').hidden", 20)  # cleared once the air is fresh
    page.context.close()
