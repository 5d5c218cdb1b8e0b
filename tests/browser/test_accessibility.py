"""Accessibility: axe-core finds no serious or critical violation on any page, in any language,
and joining works with the keyboard alone."""

from __future__ import annotations

from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe

from tests.browser.conftest import new_page, open_display
from tests.support.appliance import CARETAKER_PASSWORD, TEACHER_PIN, ApplianceProcess
from tests.support.browser import until

AXE = Axe()


def serious(page: Any) -> list[str]:
    results = AXE.run(page)
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def current_code(display: Any) -> str:
    """The display's code, read with most of its window still to run (a person types it)."""
    until(display, "document.getElementById('countdown').getAttribute('aria-valuenow') > 15")
    return str(display.get_attribute("#code", "data-code") or "")


def joined(browser: Any, base: str, display: Any, name: str = "Ada") -> Any:
    page = new_page(browser)
    page.goto(f"{base}/")
    page.fill("#code", current_code(display))
    page.fill("#name", name)
    page.click("button[type=submit]")
    page.wait_for_url("**/room")
    return page


@pytest.mark.parametrize("lang", ["fi", "sv", "en"])
def test_no_serious_violations_on_any_page(
    browser: Any, appliance: ApplianceProcess, lang: str
) -> None:
    base = appliance.url
    display = open_display(browser, base)
    display.goto(f"{base}/display?lang={lang}")
    until(display, "document.getElementById('code').dataset.code?.length === 6")
    found = {"display": serious(display)}

    visitor = new_page(browser)
    for path in ("/", "/status", "/no/such/page"):
        visitor.goto(f"{base}{path}?lang={lang}")
        found[path] = serious(visitor)

    student = joined(browser, base, display)
    for path in ("/room", "/control"):
        student.goto(f"{base}{path}?lang={lang}")
        found[path] = serious(student)
    student.fill("#pin", TEACHER_PIN)
    student.click("#pin-form button[type=submit]")
    student.wait_for_selector("#teacher:not([hidden])")
    found["/control (teacher)"] = serious(student)

    caretaker = new_page(browser)
    caretaker.goto(f"{base}/status?lang={lang}")
    caretaker.fill("#password", CARETAKER_PASSWORD)
    caretaker.click("button[type=submit]")
    caretaker.wait_for_selector("#devices-table")
    found["/status (caretaker)"] = serious(caretaker)

    assert {page: v for page, v in found.items() if v} == {}
    for page in (display, visitor, student, caretaker):
        page.context.close()


def test_join_with_the_keyboard_alone(browser: Any, appliance: ApplianceProcess) -> None:
    display = open_display(browser, appliance.url)
    page = new_page(browser)
    page.goto(f"{appliance.url}/")
    code = current_code(display)
    assert page.evaluate("document.activeElement.id") == "code"  # focus starts in the code field
    page.keyboard.type(code)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "name"
    page.keyboard.type("Keyboard Kim")
    page.keyboard.press("Enter")
    page.wait_for_url("**/room")
    assert page.inner_text("#me-name") == "Keyboard Kim"
    for p in (display, page):
        p.context.close()
