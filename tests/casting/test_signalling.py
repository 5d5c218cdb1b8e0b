"""The cast signalling channel through the real app: roles, approval, relaying, bad input."""

from __future__ import annotations

import json

from roomctl.core.events import CastSessionEnded, CastSessionStarted
from tests.casting.conftest import CastRoom, Peer

SDP = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"


async def share(peer: Peer, kind: str = "screen") -> str:
    """Request a share and return its id (from the status or the snapshot view)."""
    await peer.send(type="cast.request", kind=kind, preset="slides", audio=False)
    msg = await peer.expect_type("cast.status")
    return str(msg["share_id"])


async def offer(peer: Peer, share_id: str, target: str = "display", **extra: str) -> None:
    await peer.send(type="cast.offer", share_id=share_id, pc="pc1", target=target, sdp=SDP, **extra)


async def test_teacher_shares_at_once_and_signalling_is_relayed(cast_room: CastRoom) -> None:
    display = await cast_room.display()
    teacher = await cast_room.peer("Opettaja", teacher=True)
    with cast_room.room.bus.subscribe(CastSessionStarted, CastSessionEnded) as events:
        share_id = await share(teacher)
        assert cast_room.casting.shares[share_id].status == "live"
        await offer(teacher, share_id)
        got = await display.expect_type("cast.offer", share_id=share_id)
        assert got["sdp"] == SDP and got["from"] and got["name"] == "Opettaja"
        await display.send(type="cast.answer", share_id=share_id, pc="pc1", sdp=SDP)
        answer = await teacher.expect_type("cast.answer", share_id=share_id)
        assert answer["from"] == got.get("to", answer["from"])
        cand = {"candidate": "candidate:1 1 udp 1 127.0.0.1 5000 typ host", "sdpMid": "0",
                "sdpMLineIndex": 0, "usernameFragment": "abcd"}  # fmt: skip
        await teacher.send(type="cast.ice", share_id=share_id, pc="pc1", target="display",
                           candidate=cand)  # fmt: skip
        assert (await display.expect_type("cast.ice"))["candidate"] == cand
        await display.send(type="cast.ice", share_id=share_id, pc="pc1", target="sender",
                           candidate=None)  # fmt: skip
        await teacher.expect_type("cast.ice", share_id=share_id)
        assert cast_room.room.snapshot()["casting"]["active"] == 1
        assert cast_room.room.mode() == "casting"
        started = events.get_nowait()
        assert isinstance(started, CastSessionStarted) and started.role == "presenter"
        assert "Opettaja" not in json.dumps(cast_room.room.snapshot())
        await teacher.send(type="cast.withdraw")
        await display.expect_type("cast.closed", share_id=share_id)
        ended = await events.get()
        assert isinstance(ended, CastSessionEnded) and ended.session_id == share_id


async def test_student_waits_for_approval_and_unapproved_offer_is_not_relayed(
    cast_room: CastRoom,
) -> None:
    display = await cast_room.display()
    teacher = await cast_room.peer("Opettaja", teacher=True, page="panel")
    student = await cast_room.peer("Aino")
    share_id = await share(student)
    assert cast_room.casting.shares[share_id].status == "pending"
    view = await teacher.snapshot(lambda m: m.get("cast", {}).get("requests"))
    assert view["cast"]["requests"][0]["name"] == "Aino"
    await offer(student, share_id)
    refusal = await student.expect_type("error", ref=share_id)
    assert refusal["error"] == "not_approved"
    await display.quiet("cast.offer")
    # the teacher's panel asks for a preview; the student's preview offer reaches only the panel
    await teacher.send(type="cast.preview", share_id=share_id)
    ask = await student.expect_type("cast.renegotiate", share_id=share_id, target="preview")
    await offer(student, share_id, target="preview", panel=ask["panel"])
    preview = await teacher.expect_type("cast.offer", share_id=share_id, target="preview")
    assert preview["name"] == "Aino"
    await display.quiet("cast.offer")
    await teacher.send(type="cast.approve", share_id=share_id)
    await student.expect_type("cast.status", share_id=share_id, status="live")
    await offer(student, share_id)
    await display.expect_type("cast.offer", share_id=share_id)


async def test_denied_student_cannot_reach_the_display(cast_room: CastRoom) -> None:
    display = await cast_room.display()
    teacher = await cast_room.peer("Opettaja", teacher=True, page="panel")
    student = await cast_room.peer("Eero")
    share_id = await share(student)
    await teacher.send(type="cast.deny", share_id=share_id)
    await student.expect_type("cast.status", share_id=share_id, status="denied")
    await offer(student, share_id)
    assert (await student.expect_type("error", ref=share_id))["error"] == "unknown_share"
    await display.quiet("cast.offer")


async def test_teacher_operations_need_a_presenter(cast_room: CastRoom) -> None:
    student = await cast_room.peer("Aino")
    other = await cast_room.peer("Eero")
    share_id = await share(other)
    for kind in ("cast.approve", "cast.stop", "cast.deny"):
        await student.send(type=kind, share_id=share_id)
        assert (await student.expect_type("error", ref=kind))["error"] == "forbidden"
    await student.send(type="cast.stop_all")
    assert (await student.expect_type("error", ref="cast.stop_all"))["error"] == "forbidden"
    await student.send(type="cast.hello", page="display")
    assert (await student.expect_type("error", ref="cast.hello"))["error"] == "forbidden"
    # a client cannot speak for another: another peer's share id is not its own
    await offer(student, share_id)
    assert (await student.expect_type("error", ref=share_id))["error"] == "unknown_share"
    assert cast_room.casting.shares[share_id].status == "pending"


async def test_malformed_and_oversized_messages_are_rejected_and_the_socket_stays(
    cast_room: CastRoom,
) -> None:
    peer = await cast_room.peer("Aino")
    await peer.ws.send_str("{not json")
    assert (await peer.expect_type("error"))["error"] == "malformed_json"
    await peer.send(type="cast.request", kind="hologram", preset="slides", audio=False)
    assert (await peer.expect_type("error", ref="cast.request"))["error"] == "invalid_message"
    await peer.send(type="cast.offer", share_id="s1", pc="x", target="display", sdp=SDP,
                    **{"from": "p-someone-else"})  # fmt: skip
    assert (await peer.expect_type("error", ref="cast.offer"))["error"] == "invalid_message"
    await peer.send(type="cast.offer", share_id="s1", pc="x", target="display", sdp="a" * 60000)
    assert (await peer.expect_type("error", ref="cast.offer"))["error"] == "invalid_message"
    await peer.send(type="cast.offer", share_id="s1", pc="x", target="display", sdp="a" * 70000)
    assert (await peer.expect_type("error"))["error"] == "too_large"
    await peer.send(type="cast.teleport")
    assert (await peer.expect_type("error"))["error"] == "unknown_type"
    await peer.send(type="heartbeat")
    await peer.expect_type("heartbeat_ack")
    share_id = await share(peer)
    assert share_id in cast_room.casting.shares


async def test_lock_refuses_student_requests_and_four_sources_at_most(cast_room: CastRoom) -> None:
    teacher = await cast_room.peer("Opettaja", teacher=True, page="panel")
    students = [await cast_room.peer(f"Oppilas {i}") for i in range(5)]
    ids = [await share(s) for s in students]
    for share_id in ids[:3]:
        await teacher.send(type="cast.approve", share_id=share_id)
    teacher_share = await share(teacher)
    assert cast_room.casting.shares[teacher_share].status == "live"
    await teacher.send(type="cast.approve", share_id=ids[3])
    assert (await teacher.expect_type("error", ref=ids[3]))["error"] == "full"
    cast_room.room.set_locked(True)
    late = students[4]
    await late.send(type="cast.withdraw")
    await late.send(type="cast.request", kind="camera", preset="video", audio=False)
    assert (await late.expect_type("error", ref="cast.request"))["error"] == "locked"
    await teacher.send(type="cast.layout", tiles=4, main=ids[2], show_names=False)
    view = await teacher.snapshot(lambda m: m["cast"].get("main") == ids[2])
    assert view["cast"]["sources"][0]["share_id"] == ids[2] and view["cast"]["tiles"] == 4
    assert cast_room.casting.tile_limit() == (960, 540)
    me = await students[0].snapshot(lambda m: m["cast"].get("me", {}).get("max"))
    assert me["cast"]["me"]["max"] == [960, 540]
    resp = await teacher.client.post("/api/v1/cast/stop-all", json={})
    assert (await resp.json())["stopped"] == 5
    assert cast_room.room.snapshot()["casting"]["active"] == 0


async def test_closing_the_tab_ends_the_share_and_a_new_display_asks_for_offers(
    cast_room: CastRoom,
) -> None:
    teacher = await cast_room.peer("Opettaja", teacher=True)
    student = await cast_room.peer("Aino")
    first = await cast_room.display()
    t_id = await share(teacher)
    s_id = await share(student)
    await first.ws.close()
    second = await cast_room.display()
    await teacher.expect_type("cast.renegotiate", share_id=t_id, target="display")
    await student.quiet("cast.renegotiate")
    await teacher.ws.close()
    await second.expect_type("cast.closed", share_id=t_id)
    assert t_id not in cast_room.casting.shares and s_id in cast_room.casting.shares


async def test_display_reports_decoder_figures_into_the_snapshot(cast_room: CastRoom) -> None:
    display = await cast_room.display()
    teacher = await cast_room.peer("Opettaja", teacher=True)
    share_id = await share(teacher)
    stream = {"share_id": share_id, "decoder": "libvpx", "codec": "video/VP8", "decode_ms": 2.5,
              "fps": 30.0, "dropped": 0, "frames": 90, "width": 1280, "height": 720}  # fmt: skip
    await teacher.send(type="cast.stats", streams=[stream])
    assert (await teacher.expect_type("error", ref="cast.stats"))["error"] == "forbidden"
    await display.send(type="cast.stats", streams=[stream])
    await display.send(type="heartbeat")
    await display.expect_type("heartbeat_ack")
    assert cast_room.room.snapshot()["casting"]["streams"] == [stream]
    caretaker = await cast_room._client()
    resp = await caretaker.post("/api/v1/login", json={"password": "caretaker-pass"})
    assert resp.status == 200
    body = await (await caretaker.get("/api/v1/cast")).json()
    assert body["streams"][0]["decoder"] == "libvpx"
