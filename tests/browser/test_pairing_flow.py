"""The whole pairing flow in real headless Chromium: scan the display's QR, join, be seen."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.browser.conftest import decode_qr, new_page, open_display
from tests.support.appliance import TEACHER_PIN, ApplianceProcess
from tests.support.browser import until


def scan(display: Any, tmp_path: Path, name: str = "qr.png") -> str:
    png = tmp_path / name
    display.locator("#qr").screenshot(path=str(png))
    return decode_qr(png)


def test_scan_join_and_appear_on_the_teachers_page(
    browser: Any, appliance: ApplianceProcess, tmp_path: Path
) -> None:
    display = open_display(browser, appliance.url)
    display.screenshot(path=str(tmp_path / "display.png"))
    url = scan(display, tmp_path)
    assert url.startswith(f"{appliance.url}/?t=")

    teacher = new_page(browser)
    teacher.goto(scan(display, tmp_path, "qr2.png"))
    teacher.fill("#name", "Opettaja Olli")
    teacher.click("button[type=submit]")
    teacher.wait_for_url("**/room")
    teacher.goto(f"{appliance.url}/control")
    teacher.fill("#pin", TEACHER_PIN)
    teacher.click("#pin-form button[type=submit]")
    teacher.wait_for_selector("#teacher:not([hidden])")

    student = new_page(browser)
    student.goto(scan(display, tmp_path, "qr3.png"))
    student.fill("#name", "Aino Oppilas")
    student.press("#name", "Enter")
    student.wait_for_url("**/room")
    assert "Aino Oppilas" in student.inner_text("#me-name")
    assert "ViLLE" in student.inner_text("#links")

    until(
        teacher,
        "[...document.querySelectorAll('#people .person')]"
        ".some(e => e.textContent === 'Aino Oppilas')",
    )
    until(display, "document.getElementById('participants').textContent.includes('2')")
    student.reload()
    assert student.url.endswith("/room")  # the session survives a reload
    for page in (display, teacher, student):
        page.context.close()


def test_typed_code_joins_and_rotated_qr_is_refused(
    browser: Any, fast_appliance: ApplianceProcess, tmp_path: Path
) -> None:
    appliance = fast_appliance
    display = open_display(browser, appliance.url)
    fresh = "document.getElementById('countdown').getAttribute('aria-valuenow') > 60"
    typed = new_page(browser)
    typed.goto(f"{appliance.url}/?lang=fi")
    typed.fill("#name", "Kirjoittaja")
    until(display, fresh)  # type a code with most of its window left, as a person would
    typed.fill("#code", display.get_attribute("#code", "data-code") or "")
    typed.click("button[type=submit]")
    typed.wait_for_url("**/room")

    until(display, fresh)
    old_url = scan(display, tmp_path)
    old_code = display.get_attribute("#code", "data-code")
    until(display, f"document.getElementById('code').dataset.code !== '{old_code}'", 15)
    new_url = scan(display, tmp_path, "qr-new.png")
    assert new_url != old_url
    late = new_page(browser)
    resp = late.goto(old_url)
    assert resp is not None and resp.status == 410
    assert "The code has changed" in late.inner_text("main")
    for page in (display, typed, late):
        page.context.close()


def test_others_opening_the_display_see_no_code(browser: Any, appliance: ApplianceProcess) -> None:
    page = new_page(browser)
    page.goto(f"{appliance.url}/display")
    page.wait_for_selector("#not-display:not([hidden])")
    assert page.get_attribute("#code", "data-code") is None
    assert page.locator("#qr").is_hidden()
    page.context.close()
