"""schemathesis against a real ``roomctl run``: generated requests from the OpenAPI document.

Every operation gets schema-valid and schema-violating requests, as a teacher and as the
caretaker on the display; none may answer 5xx, and the appliance's log must stay free of
tracebacks. The seed is fixed, so a failure repeats; the example count keeps it near 20 s.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest

from tests.support.appliance import (
    CARETAKER_PASSWORD,
    DISPLAY_KEY,
    TEACHER_PIN,
    ApplianceProcess,
    start_appliance,
)
from tests.support.real import free_port, require_binary

SCHEMATHESIS = Path(sys.executable).parent / "schemathesis"
# Ending the lesson and logging out revoke the session the run is using; the rest of the
# run would see only 401s. Both are covered by tests of their own (tests/security).
SESSION_ENDING = ("/api/v1/room/end-lesson", "/api/v1/logout")


async def _cookie(app: ApplianceProcess, *, caretaker: bool) -> str:
    origin = {"Origin": app.url}
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as s:
        if caretaker:
            body = {"password": CARETAKER_PASSWORD}
            async with s.post(f"{app.url}/api/v1/login", json=body, headers=origin) as r:
                assert r.status == 200, await r.text()
        else:
            display = {"X-Roomctl-Display-Key": DISPLAY_KEY}
            async with s.get(f"{app.url}/api/v1/pairing", headers=display) as r:
                code = (await r.json())["code"]
            body = {"code": code, "name": "Fuzz"}
            async with s.post(f"{app.url}/api/v1/join", json=body, headers=origin) as r:
                assert r.status == 200, await r.text()
            async with s.post(
                f"{app.url}/api/v1/presenter", json={"pin": TEACHER_PIN}, headers=origin
            ) as r:
                assert r.status == 200, await r.text()
        return "; ".join(f"{c.key}={c.value}" for c in s.cookie_jar)


def _schemathesis(app: ApplianceProcess, headers: list[str], seed: int) -> str:
    args = [str(SCHEMATHESIS), "run", f"{app.url}/api/v1/openapi.json"]
    for header in headers:
        args += ["-H", header]
    for path in SESSION_ENDING:
        args += ["--exclude-path", path]
    args += [
        "--checks",
        "not_a_server_error",
        "--phases",
        "coverage,fuzzing",
        "--max-examples",
        "25",
        "--seed",
        str(seed),
        "--request-timeout",
        "5",
        "--workers",
        "1",
        "--no-color",
    ]
    out = subprocess.run(args, capture_output=True, text=True, timeout=300, cwd=app.workdir)
    assert out.returncode == 0, out.stdout[-6000:] + out.stderr[-2000:]
    return out.stdout


@pytest.fixture
def app(tmp_path: Path) -> ApplianceProcess:
    """An appliance with one projector whose host never answers (commands reach the driver)."""
    require_binary(str(SCHEMATHESIS))
    device = {
        "id": "projector",
        "type": "pjlink",
        "host": "127.0.0.1",
        "port": free_port(),
        "role": "main_display",
    }
    return start_appliance(tmp_path, web={"display_hosts": []}, devices=[device])


async def test_generated_requests_never_get_a_5xx(app: ApplianceProcess) -> None:
    try:
        # both sessions first: the run's wrong PINs and passwords trip the guess limits
        teacher = await _cookie(app, caretaker=False)
        caretaker = await _cookie(app, caretaker=True)
        report = _schemathesis(app, [f"Cookie: {teacher}", f"Origin: {app.url}"], seed=1)
        display = f"X-Roomctl-Display-Key: {DISPLAY_KEY}"
        _schemathesis(app, [f"Cookie: {caretaker}", f"Origin: {app.url}", display], seed=2)
        async with aiohttp.ClientSession() as s, s.get(f"{app.url}/healthz") as r:
            assert r.status == 200
    finally:
        app.stop()
    assert "generated" in report and "passed" in report, report[-2000:]
    log = app.log_path.read_text()
    assert "Traceback" not in log, log[-3000:]
