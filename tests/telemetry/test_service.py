"""TelemetryService against a real mosquitto: birth, retained state, events, shutdown."""

from __future__ import annotations

from typing import Any

from roomctl.core.events import CastSessionEnded, PairingFailed, ParticipantJoined
from tests.support.real import async_wait_for
from tests.telemetry.conftest import DEV, wait_json
from tests.telemetry.schemas import kind_of, validate


async def test_birth_meta_state_and_events_match_the_schemas(
    mosquitto: Any, appliance_factory: Any, watcher_factory: Any
) -> None:
    watcher = watcher_factory(mosquitto, f"roomctl/v1/dev/{DEV}/#")
    app = await appliance_factory(mosquitto.url)
    birth = await wait_json(watcher, "/status", lambda b: b["online"])
    assert birth["dev"] == DEV and birth["boot_id"] == app.service.boot_id
    await wait_json(watcher, "/meta")
    await wait_json(watcher, "/state")
    app.room.request_help()
    app.room.bus.publish(ParticipantJoined(role="participant"))
    app.room.bus.publish(PairingFailed(reason="bad_code"))
    app.room.bus.publish(CastSessionEnded(session_id="s1", role="presenter", duration_s=400.0))
    await async_wait_for(lambda: len(watcher.events()) >= 5, what="five events")
    kinds = {e["type"] for e in watcher.events()}
    assert {"system.boot", "help.request", "pairing.join", "pairing.fail"} <= kinds
    await wait_json(watcher, "/state", lambda b: b["participants"] == 0 and b["seq"] > 1)
    for message in watcher.messages:
        validate(kind_of(message.topic), message.payload)
    assert all(m.retain is False for m in watcher.messages if "/evt/" in m.topic)


async def test_clean_stop_says_shutdown(
    mosquitto: Any, appliance_factory: Any, watcher_factory: Any
) -> None:
    app = await appliance_factory(mosquitto.url)
    watcher = watcher_factory(mosquitto, f"roomctl/v1/dev/{DEV}/status")
    await wait_json(watcher, "/status", lambda b: b["online"])
    await app.service.stop()
    body = await wait_json(watcher, "/status", lambda b: not b["online"])
    assert body["reason"] == "shutdown"
    validate("status", body)


async def test_state_is_retained_and_republished_after_reconnect(
    mosquitto_factory: Any, appliance_factory: Any, watcher_factory: Any
) -> None:
    broker = mosquitto_factory()
    app = await appliance_factory(broker.url)
    first = watcher_factory(broker, f"roomctl/v1/dev/{DEV}/state")
    before = await wait_json(first, "/state")
    late = watcher_factory(broker, f"roomctl/v1/dev/{DEV}/state")
    retained = await wait_json(late, "/state")
    assert late.of("/state")[0].retain and retained["seq"] == before["seq"]
    broker.restart()
    after = await wait_json(first, "/state", lambda b: b["seq"] > before["seq"], timeout=15)
    assert after["boot_id"] == app.service.boot_id
    newcomer = watcher_factory(broker, f"roomctl/v1/dev/{DEV}/state")
    assert (await wait_json(newcomer, "/state"))["seq"] >= after["seq"]


async def test_broker_outage_loses_no_event_and_keeps_seq_order(
    mosquitto_factory: Any, appliance_factory: Any, watcher_factory: Any
) -> None:
    broker = mosquitto_factory()
    watcher = watcher_factory(broker, f"roomctl/v1/dev/{DEV}/evt/#", persistent=True)
    app = await appliance_factory(broker.url)
    await async_wait_for(lambda: app.service.connected, what="connected")
    for _ in range(30):
        app.room.request_help()
    broker.stop()
    await async_wait_for(lambda: not app.service.connected, what="disconnected")
    for _ in range(30):
        app.room.request_help()
    await async_wait_for(lambda: app.service.outbox.depth >= 30, what="queued in the outbox")
    broker.start()
    await async_wait_for(lambda: len(unique(watcher.events("help.request"))) == 60, timeout=20)
    seqs = [e["seq"] for e in unique(watcher.events("help.request"))]
    assert seqs == sorted(seqs)
    await async_wait_for(lambda: app.service.outbox.depth == 0, what="outbox drained")


def unique(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """First arrival of each event id (QoS 1 may deliver twice)."""
    seen: set[str] = set()
    out = []
    for event in events:
        if event["id"] not in seen:
            seen.add(event["id"])
            out.append(event)
    return out
