"""A store outage loses nothing: the dashboard keeps unstored messages unacknowledged and
retries, against a real PostgreSQL that is stopped and started again."""

from __future__ import annotations

import shutil
import socket
import tempfile
from pathlib import Path
from typing import Any

from roomctl.central import service as central_service
from roomctl.central.service import CentralService
from tests.central.conftest import Postgres, central_config
from tests.central.mqtt_helpers import Publisher, event, topic
from tests.support.real import async_wait_for, wait_for

DEV = "rc-0000c0de"


def refused(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
        return False
    except OSError:
        return True


async def test_events_published_while_the_database_is_down_are_all_stored(
    mosquitto: Any, monkeypatch: Any
) -> None:
    monkeypatch.setattr(central_service, "STORE_RETRY_MAX_S", 0.5)
    root = Path(tempfile.mkdtemp(prefix="roomctl-pg-outage-"))
    server = Postgres(root).start()
    url = server.fresh_db("outage")
    svc = CentralService(central_config(mosquitto, url))
    pub = Publisher(mosquitto)
    try:
        await svc.start()
        await async_wait_for(svc.connected.is_set, 10, "connected")
        pub.publish(topic(DEV, "evt/projector"), event(DEV, 1))
        await async_wait_for(lambda: svc.stats["events_new"] == 1, 10, "first event stored")
        server.stop()
        wait_for(lambda: refused(server.port), 10, "PostgreSQL to stop")
        for seq in range(2, 12):
            pub.publish(topic(DEV, "evt/projector"), event(DEV, seq))
        await async_wait_for(lambda: svc._store_failures > 0, 10, "a failed store write")
        server.resume()
        await async_wait_for(lambda: svc.stats["events_new"] == 11, 30, "every event stored")
        assert await svc.store.count_events(DEV) == 11
        assert svc.stats.get("store_dropped", 0) == 0
    finally:
        pub.close()
        await svc.stop()
        server.stop()
        shutil.rmtree(root, ignore_errors=True)
