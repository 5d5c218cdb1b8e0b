"""A curious student: every teacher or display power over HTTP and the WebSocket is refused."""

from __future__ import annotations

import json
from typing import Any

from roomctl.http.cast_messages import TEACHER_ONLY
from tests.casting.conftest import CastRoom

STUDENT_POSTS = [
    "/api/v1/pairing/rotate", "/api/v1/room/lock", "/api/v1/room/end-lesson", "/api/v1/help",
    "/api/v1/messages", "/api/v1/scenes/lesson", "/api/v1/airplay", "/api/v1/cast/stop-all",
]  # fmt: skip
STUDENT_GETS = [
    "/api/v1/pairing",
    "/api/v1/pairing/qr.svg",
    "/api/v1/participants",
    "/api/v1/status",
]


async def test_student_http_reaches_no_teacher_or_display_route(cast_room: CastRoom) -> None:
    student = await cast_room.peer("Eero")
    for path in STUDENT_POSTS:
        resp = await student.client.post(path, json={})
        assert resp.status == 403, (path, resp.status)
    for path in STUDENT_GETS:
        resp = await student.client.get(path)
        assert resp.status == 403, (path, resp.status)
    assert not cast_room.room.state.locked and cast_room.room.sessions.generation == 0


def valid(kind: str, share_id: str) -> dict[str, Any]:
    """A schema-valid message of ``kind`` naming ``share_id``."""
    fields: dict[str, dict[str, Any]] = {
        "cast.approve": {"share_id": share_id}, "cast.deny": {"share_id": share_id},
        "cast.stop": {"share_id": share_id}, "cast.stop_all": {},
        "cast.layout": {"tiles": 1, "main": share_id, "show_names": False},
        "cast.mute": {"share_id": share_id, "muted": True}, "cast.preview": {"share_id": share_id},
    }  # fmt: skip
    return {"type": kind, **fields[kind]}


async def test_student_ws_reaches_no_teacher_or_display_message(cast_room: CastRoom) -> None:
    teacher = await cast_room.peer("Opettaja", teacher=True)
    await teacher.send(type="cast.request", kind="screen", preset="slides", audio=False)
    await teacher.expect_type("cast.status", status="live")
    share = cast_room.casting.live()[0]
    student = await cast_room.peer("Eero")
    for kind in sorted(TEACHER_ONLY):
        await student.send(**valid(kind, share.share_id))
        refused = await student.expect_type("error", ref=kind)
        assert refused["error"] == "forbidden", refused
    for page in ("display", "panel"):
        await student.send(type="cast.hello", page=page)
        assert (await student.expect_type("error", ref="cast.hello"))["error"] == "forbidden"
    await student.send(type="cast.stats", streams=[{"share_id": share.share_id, "fps": 1}])
    assert (await student.expect_type("error"))["error"] == "forbidden"
    # speaking for the teacher's share: answers, ICE and keepalives name it but are not ours
    for msg in (
        {"type": "cast.answer", "share_id": share.share_id, "pc": "x", "sdp": "v=0"},
        {"type": "cast.ice", "share_id": share.share_id, "pc": "x", "target": "display",
         "candidate": None},
        {"type": "cast.offer", "share_id": share.share_id, "pc": "x", "target": "display",
         "sdp": "v=0"},
        {"type": "cast.keepalive", "share_id": share.share_id},
    ):  # fmt: skip
        await student.send(**msg)
        assert (await student.expect_type("error"))["error"] == "unknown_share", msg
    after = cast_room.casting.shares[share.share_id]
    assert after.status == "live" and not after.muted and cast_room.casting.layout.show_names


async def test_student_snapshot_has_no_code_token_or_names(cast_room: CastRoom) -> None:
    await cast_room.peer("Opettaja", teacher=True)
    student = await cast_room.peer("Eero")
    await student.ws.send_str(json.dumps({"type": "heartbeat"}))
    snap = await student.snapshot(lambda m: True)
    info = cast_room.room.pairing_info()
    text = json.dumps(snap)
    assert "pairing" not in snap and "participants" not in snap
    assert info.code not in text and info.token not in text and "Opettaja" not in text


async def test_tampered_session_cookie_is_no_session(cast_room: CastRoom) -> None:
    import base64

    student = await cast_room.peer("Eero")
    cookie = next(c for c in student.client.session.cookie_jar if c.key == "roomctl_session")
    body, mac = cookie.value.split(".")
    statuses = []
    payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    payload["role"] = "caretaker"
    forged = base64.urlsafe_b64encode(json.dumps(payload).encode()).rstrip(b"=").decode()
    stranger = await cast_room._client()  # no cookies of its own
    for value in (f"{forged}.{mac}", cookie.value):
        stranger.session.cookie_jar.clear()
        resp = await stranger.get("/api/v1/status", headers={"Cookie": f"roomctl_session={value}"})
        statuses.append(resp.status)
    assert statuses == [401, 403]  # forged: no session at all; genuine: a participant
