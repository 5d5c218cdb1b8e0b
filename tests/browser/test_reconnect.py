"""The appliance restarts mid-lesson: the pages say they lost it, then carry on by themselves."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.browser.conftest import new_page, open_display
from tests.casting.browser_helpers import join
from tests.support.appliance import ApplianceProcess, base_config
from tests.support.browser import until
from tests.support.real import free_port

LOST = "document.documentElement.dataset.live === '0'"
BACK = "document.documentElement.dataset.live === '1'"
NOTE = "document.getElementById('connection-lost')"


def test_pages_say_the_connection_is_lost_and_recover_after_a_restart(
    browser: Any, tmp_path: Path
) -> None:
    config = base_config(tmp_path / "state", free_port(), web={"display_hosts": []})
    app = ApplianceProcess(tmp_path, config).start()
    display = open_display(browser, app.url)
    teacher = new_page(browser)
    try:
        code = str(display.locator("#code").get_attribute("data-code"))
        join(teacher, f"{app.url}/", "Opettaja Olli", teacher=True, code=code)
        assert display.evaluate(f"{NOTE} === null")  # nothing said while all is well

        app.stop()
        for page in (display, teacher):
            until(page, LOST)
            assert page.evaluate(f"{NOTE}.hidden") is False
            assert page.evaluate(f"{NOTE}.textContent") == "Connection lost, reconnecting…"
        opacity = "getComputedStyle(document.getElementById('code')).opacity"
        assert display.evaluate(opacity) == "0.25"  # a code that may be stale, dimmed

        app = ApplianceProcess(tmp_path, config).start()  # same state, same port
        for page in (display, teacher):
            until(page, BACK, timeout=30)
            assert page.evaluate(f"{NOTE}.hidden") is True
        until(display, "document.getElementById('participants').textContent.includes('1')")
        assert teacher.locator("#teacher").is_visible()  # still the teacher, no new PIN
    finally:
        for page in (display, teacher):
            page.context.close()
        app.stop()
