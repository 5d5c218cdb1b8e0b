"""Real Chromium: a cross-site page cannot act with the teacher's cookie; names stay text."""

from __future__ import annotations

import http.server
import json
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.casting.browser_helpers import join
from tests.support.appliance import DISPLAY_KEY, ApplianceProcess, start_appliance
from tests.support.real import free_port, wait_for

HOSTILE = "<img src=x onerror=window.__xss=1>Eero"

EVIL_PAGE = """<!doctype html><body>
<form id=f method=post action="{base}/api/v1/room/end-lesson" enctype="text/plain">
<input name='{{"x":"' value='"}}'></form>
<script>
const base = "{base}";
const hit = (path, body) => fetch(base + path, {{method: "POST", mode: "no-cors",
  credentials: "include", headers: {{"Content-Type": "text/plain"}}, body}});
Promise.allSettled([
  hit("/api/v1/messages", JSON.stringify({{text: "hacked"}})),
  hit("/api/v1/room/lock", JSON.stringify({{locked: true}})),
  hit("/api/v1/pairing/rotate", ""),
]).then(() => document.getElementById("f").submit());
</script></body>"""


def pairing(app: ApplianceProcess) -> dict[str, Any]:
    req = urllib.request.Request(
        f"{app.url}/api/v1/pairing", headers={"X-Roomctl-Display-Key": DISPLAY_KEY}
    )
    with urllib.request.urlopen(req, timeout=5) as resp:
        data: dict[str, Any] = json.loads(resp.read())
        return data


@pytest.fixture
def app(tmp_path: Path) -> Iterator[ApplianceProcess]:
    appliance = start_appliance(tmp_path, web={"display_hosts": []})
    yield appliance
    appliance.stop()


@pytest.fixture
def evil_site(app: ApplianceProcess) -> Iterator[str]:
    """An attacker's page on another site (127.0.0.2 is another host to the browser)."""
    page = EVIL_PAGE.format(base=app.url).encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.2", free_port()), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.2:{server.server_port}/"
    server.shutdown()
    server.server_close()


def test_cross_site_form_and_fetch_cannot_act(
    browser: Any, app: ApplianceProcess, evil_site: str
) -> None:
    context = browser.new_context()
    teacher = context.new_page()
    join(teacher, pairing(app)["url"], "Opettaja", teacher=True)
    before = pairing(app)
    teacher.goto(evil_site)
    teacher.wait_for_url(f"{app.url}/api/v1/room/end-lesson", timeout=10_000)
    refusal = teacher.content()  # the Origin check refuses first; the cookie did not travel
    assert "cross_origin" in refusal or "login_required" in refusal, refusal
    me = teacher.request.get(f"{app.url}/api/v1/me")
    assert me.status == 200 and me.json()["role"] == "presenter"  # the lesson did not end
    room = teacher.request.get(f"{app.url}/api/v1/room").json()
    assert not room["locked"] and not room["messages"]
    after = pairing(app)  # no rotation: the same code unless the window moved on
    assert after["code"] == before["code"] or after["window"] != before["window"]
    context.close()


def test_hostile_names_render_as_text(browser: Any, app: ApplianceProcess) -> None:
    context = browser.new_context()
    student, teacher = context.new_page(), browser.new_context().new_page()
    join(student, pairing(app)["url"], HOSTILE)
    join(teacher, pairing(app)["url"], "Opettaja", teacher=True)
    people = teacher.locator("#people .person")
    wait_for(lambda: people.count() == 2, 10, "both names on the teacher's page")
    assert HOSTILE in people.all_inner_texts()
    assert teacher.locator("#people img").count() == 0
    assert student.locator("img[src=x]").count() == 0
    assert teacher.evaluate("window.__xss") is None and student.evaluate("window.__xss") is None
    context.close()
    teacher.context.close()
