"""End to end in real headless Chromium: QR join, share, approval with preview, stop, reload.

One appliance process and one display page serve the whole module; the tests run in order and
build on each other, as a lesson does.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.casting.browser_helpers import (
    close_to,
    decoding,
    display_url,
    join,
    live_share_id,
    new_page,
    qr_url,
    share,
)  # fmt: skip
from tests.support.appliance import CARETAKER_PASSWORD, ApplianceProcess, start_appliance
from tests.support.real import CALL_FAILED, wait_for

RED, BLUE = (255, 0, 0), (0, 0, 255)


class Lesson:
    """The pages of the module's lesson."""

    def __init__(self, app: ApplianceProcess, browser: Any) -> None:
        self.app = app
        self.browser = browser
        self.display = new_page(browser, display_url(app.url))
        self.teacher = new_page(browser, "about:blank", sharer=True)
        self.panel: Any = None
        self.student: Any = None
        self.ids: dict[str, str] = {}
        self.qr = ""
        self.broken = ""  # the first step that failed; the later steps build on it

    def tiles(self) -> int:
        return int(self.display.locator("#stage .tile").count())

    def close(self) -> None:
        for page in (self.display, self.teacher, self.student):
            if page is not None:
                page.context.close()


@pytest.fixture(scope="module")
def lesson(browser: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lesson]:
    app = start_appliance(Path(tmp_path_factory.mktemp("cast-e2e")), web={"display_hosts": []})
    scene = Lesson(app, browser)
    yield scene
    scene.close()  # the browser's sockets close before the server stops
    app.stop()


@pytest.fixture(autouse=True)
def in_order(lesson: Lesson, request: pytest.FixtureRequest) -> Iterator[None]:
    """Skip the steps after a failed one, so the report names the first failure only."""
    if lesson.broken:
        pytest.skip(f"builds on {lesson.broken}, which failed")
    yield
    if request.node.stash.get(CALL_FAILED, False):
        lesson.broken = request.node.name


def test_teacher_joins_from_the_qr_and_shares_at_once(lesson: Lesson) -> None:
    url = lesson.qr = qr_url(lesson.display)  # the stage covers the QR once someone shares
    assert "/?t=" in url and url.startswith(lesson.app.url)
    join(lesson.teacher, url, "Opettaja", teacher=True)
    lesson.panel = lesson.teacher.context.new_page()
    lesson.panel.goto(f"{lesson.app.url}/control")
    lesson.teacher.goto(f"{lesson.app.url}/room")
    share(lesson.teacher, "rgb(255,0,0)")
    share_id = lesson.ids["teacher"] = live_share_id(lesson.teacher)
    state = decoding(lesson.display, share_id)
    assert state["width"] > 0
    assert close_to(state["px"], RED), state
    assert (
        lesson.display.locator(f'.tile[data-share="{share_id}"] .tile-name').inner_text()
        == "Opettaja"
    )


def test_student_asks_teacher_sees_preview_and_approves(lesson: Lesson) -> None:
    lesson.student = new_page(lesson.browser, "about:blank", sharer=True)
    join(lesson.student, lesson.qr, "Aino")
    share(lesson.student, "rgb(0,0,255)")
    lesson.panel.wait_for_selector(".cast-request .person:text('Aino')")
    preview = lesson.panel.locator("video.cast-preview")
    wait_for(lambda: preview.evaluate("v => v.videoWidth") > 0, 15, "the teacher's preview")
    assert preview.evaluate("v => v.videoWidth") <= 320
    assert lesson.tiles() == 1
    lesson.panel.click(".cast-request [data-action=approve]")
    share_id = lesson.ids["student"] = live_share_id(lesson.student)
    state = decoding(lesson.display, share_id)
    assert close_to(state["px"], BLUE), state
    wait_for(lambda: lesson.tiles() == 2, 5, "two tiles")
    assert lesson.display.locator("#stage").get_attribute("data-layout") == "2"


def test_teacher_stops_the_student(lesson: Lesson) -> None:
    sid = lesson.ids["student"]
    lesson.panel.click(f'.cast-source[data-share="{sid}"] [data-action=stop]')
    wait_for(lambda: lesson.tiles() == 1, 5, "the student's tile to go")
    wait_for(
        lambda: lesson.student.evaluate("window.__cast.status") == "", 5, "the student to stop"
    )
    decoding(lesson.display, lesson.ids["teacher"])


def test_caretaker_sees_the_displays_decoding_figures(lesson: Lesson) -> None:
    sid = lesson.ids["teacher"]
    caretaker = new_page(lesson.browser, f"{lesson.app.url}/status")
    caretaker.fill("#password", CARETAKER_PASSWORD)
    caretaker.click("button[type=submit]")
    row = caretaker.locator(f'#streams-body tr[data-share="{sid}"]')
    row.wait_for(timeout=15_000)  # the display reports its stats every 2 s
    cells = row.locator("td").all_inner_texts()
    assert cells[0] in ("VP8", "VP9", "H264", "AV1") or cells[0].startswith("video/"), cells
    assert "×" in cells[2] and float(cells[3]) > 0, cells
    caretaker.context.close()


def test_denied_student_offer_is_refused(lesson: Lesson) -> None:
    student = lesson.student
    student.evaluate("""() => { window.__errors = [];
      document.addEventListener('roomctl:message', (e) => {
        if (e.detail.msg.type === 'error') window.__errors.push(e.detail.msg); }); }""")
    student.click("#cast-share")
    lesson.panel.wait_for_selector(".cast-request [data-action=deny]")
    wait_for(lambda: student.evaluate("window.__cast.shareId"), 5, "the request's id")
    share_id = student.evaluate("window.__cast.shareId")
    lesson.panel.click(".cast-request [data-action=deny]")
    wait_for(lambda: student.evaluate("window.__cast.status") == "", 5, "the denial")
    offer = "{type: 'cast.offer', share_id: id, pc: 'abc', target: 'display', sdp: 'v=0'}"
    student.evaluate(f"(id) => window.__cast.conn.send({offer})", share_id)
    wait_for(lambda: student.evaluate("window.__errors.length"), 5, "the refusal")
    assert student.evaluate("window.__errors[0].error") == "unknown_share"
    assert lesson.display.evaluate("window.__cast.peers.size") == 1
    assert lesson.tiles() == 1


def test_display_reload_renegotiates(lesson: Lesson) -> None:
    lesson.display.reload()
    state = decoding(lesson.display, lesson.ids["teacher"])
    assert close_to(state["px"], RED), state


def test_bad_signalling_from_the_browser_is_rejected_and_the_socket_stays(lesson: Lesson) -> None:
    page = lesson.teacher
    page.evaluate("""() => { window.__errors = [];
      document.addEventListener('roomctl:message', (e) => {
        if (e.detail.msg.type === 'error') window.__errors.push(e.detail.msg.error); });
      const s = window.__cast.conn.socket;
      s.send('{broken');
      const m = {share_id: 'x', pc: 'y', candidate: null};
      s.send(JSON.stringify({...m, type: 'cast.ice', target: 'moon'}));
      s.send(JSON.stringify({...m, type: 'cast.offer', target: 'display', sdp: 'a'.repeat(70000)}));
    }""")
    wait_for(lambda: page.evaluate("window.__errors.length") >= 3, 5, "three refusals")
    assert page.evaluate("window.__errors") == ["malformed_json", "invalid_message", "too_large"]
    assert page.evaluate("window.__cast.conn.socket.readyState") == 1
    decoding(lesson.display, lesson.ids["teacher"])
