"""A real appliance through joins, wrong and right PIN, logins: no secret or name in its log."""

from __future__ import annotations

import asyncio
import base64
from pathlib import Path

import aiohttp

from tests.support.appliance import (
    CARETAKER_PASSWORD,
    DISPLAY_KEY,
    TEACHER_PIN,
    start_appliance,
)

NAME = "Salainen Oppilas"


async def lesson(url: str) -> list[str]:
    """Walk one lesson's worth of secrets through the appliance; returns the ones it saw."""
    display = {"X-Roomctl-Display-Key": DISPLAY_KEY}
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as s:
        async with s.get(f"{url}/display?display_key={DISPLAY_KEY}") as r:
            assert r.status == 200
        async with s.get(f"{url}/api/v1/pairing", headers=display) as r:
            pairing = await r.json()
        token = pairing["url"].split("?t=")[1]
        code = pairing["code"]
        wrong_code = f"{(int(code) + 1) % 10**6:06d}"
    secrets_seen = [code, token, wrong_code]
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as s:
        async with s.get(f"{url}/?t={token}") as r:
            assert r.status == 200
        async with s.post(f"{url}/api/v1/join", json={"token": token, "name": NAME}) as r:
            assert r.status == 200, await r.text()
            secrets_seen.append(r.cookies["roomctl_session"].value)
        async with s.post(f"{url}/api/v1/presenter", json={"pin": "97531"}) as r:
            assert r.status == 403
        async with s.post(f"{url}/api/v1/presenter", json={"pin": TEACHER_PIN}) as r:
            assert r.status == 200, await r.text()
            secrets_seen.append(r.cookies["roomctl_session"].value)
        async with s.post(f"{url}/api/v1/login", json={"password": "hunter2-wrong"}) as r:
            assert r.status == 403
        async with s.post(f"{url}/api/v1/login", json={"password": CARETAKER_PASSWORD}) as r:
            assert r.status == 200
        async with s.ws_connect(f"{url}/api/v1/ws") as ws:
            await ws.receive_json(timeout=5)
            await ws.send_str('{"type": "cast.request", "kind": "screen"}')  # invalid: logged?
            await ws.receive_json(timeout=5)
        # last: a wrong code spends this address's one attempt a minute
        async with s.post(f"{url}/api/v1/join", json={"code": wrong_code, "name": NAME}) as r:
            assert r.status == 403
    return [*secrets_seen, "97531", TEACHER_PIN, "hunter2-wrong", CARETAKER_PASSWORD]


async def test_log_holds_no_secret_and_no_name(tmp_path: Path) -> None:
    app = start_appliance(tmp_path)
    try:
        seen = await lesson(app.url)
    finally:
        app.stop()
    log = app.log_path.read_text()
    assert "serving on" in log  # the log is the one the appliance wrote
    room_secret = next((tmp_path / "state").rglob("*secret*")).read_bytes()
    forbidden = [
        *seen, DISPLAY_KEY, NAME, "Salainen",
        room_secret.hex(), base64.b64encode(room_secret).decode().rstrip("="),
    ]  # fmt: skip
    leaks = [s for s in forbidden if s and s in log]
    assert not leaks, f"{leaks} in {log[-2000:]}"


async def _raw(port: int, request: bytes) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request)
        await writer.drain()
        return await asyncio.wait_for(reader.read(200), 5)
    finally:
        writer.close()


async def test_malformed_requests_get_400_and_one_short_log_line(tmp_path: Path) -> None:
    app = start_appliance(tmp_path)
    try:
        # first, a damaged request carrying secrets: its log line must name the problem only
        leaky = (
            b"GET /?t=SECRET-TOKEN-1234 HTTP/1.1\r\n"
            b"Cookie: roomctl_session=SECRET-COOKIE\x00\r\n\r\n"
        )
        bad = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Probe: \x00\r\n\r\n"
        for request in (leaky, *[bad] * 5):  # then a scanner's burst
            reply = await _raw(app.port, request)
            assert reply.split(b"\r\n")[0].endswith(b" 400 Bad Request")
        async with aiohttp.ClientSession() as s, s.get(f"{app.url}/healthz") as r:
            assert r.status == 200  # and the appliance goes on serving
    finally:
        app.stop()
    log = app.log_path.read_text()
    assert "Traceback" not in log and "ERROR" not in log, log[-2000:]
    assert log.count("refused a malformed HTTP request (400: Invalid header value char)") == 1
    assert "SECRET" not in log
